"""`omnilake train|score churn|ltv` end to end on planted silver tables: champion by alias, stamps on every row,
rescoring one as-of date replaces exactly that date, a short history serves the label-free model."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from tests.support.synthetic import Planted, order_lines, simulate, web_events

pytestmark = pytest.mark.integration
START, DAYS = date(2025, 1, 1), 150
D = START + timedelta(days=DAYS - 1)


def test_train_score_rescore_churn_and_fallback_ltv(spark, cfg, catalog, capsys, omnilake):
    sim = simulate(Planted(customers=400, days=DAYS), start=START, seed=9)
    catalog.overwrite(order_lines(spark, sim.transactions), "silver.order_lines")
    catalog.overwrite(web_events(spark, sim.events), "silver.events")

    assert omnilake(cfg, "score", "churn", "--as-of", str(D)) == 0
    assert "skipped: no 'champion' for registered model omnilake_churn_h30" in capsys.readouterr().out
    assert not catalog.exists("gold.churn_scores")

    assert omnilake(cfg, "train", "churn", "--as-of", str(D)) == 0
    assert "-> omnilake_churn_h30" in capsys.readouterr().out
    _evaluate_churn(cfg, catalog, capsys, omnilake)
    earlier = D - timedelta(days=7)
    for day in (earlier, D):
        assert omnilake(cfg, "score", "churn", "--as-of", str(day)) == 0
    _monitor_churn(cfg, catalog, capsys, omnilake)
    scores = catalog.read("gold.churn_scores").where(F.col("as_of") != D - timedelta(days=30))
    for day in (earlier, D):
        tx = sim.transactions
        buyers = set(tx.loc[tx["order_date"] <= day, "customer_id"])
        rows = scores.where(F.col("as_of") == day)
        assert {r.customer_id for r in rows.select("customer_id").collect()} == buyers
    stamps = scores.select("model_name", "model_version", "run_id", "horizon_days").distinct().collect()
    assert len(stamps) == 1 and stamps[0].model_name == "omnilake_churn_h30" and stamps[0].horizon_days == 30
    assert (
        scores.where(F.col("churn_probability").isNull() | ~F.col("risk_band").isin("low", "medium", "high")).count()
        == 0
    )
    before = spark.createDataFrame(scores.where(F.col("as_of") == earlier).collect(), scores.schema)

    assert omnilake(cfg, "score", "churn", "--as-of", str(D)) == 0  # rescore one date
    after = catalog.read("gold.churn_scores")
    assertDataFrameEqual(after.where(F.col("as_of") == earlier), before)
    assert after.count() == after.select("customer_id", "as_of", "horizon_days").distinct().count()

    # issue 11: a scoring run killed right after its score commit (before it returns), then rerun: the same rows
    from tests.integration.test_kill_and_rerun import Killed, _kill_at

    with pytest.MonkeyPatch.context() as m:
        _kill_at("gold.churn_scores", m)
        with pytest.raises(Killed):
            omnilake(cfg, "score", "churn", "--as-of", str(earlier))
    assert omnilake(cfg, "score", "churn", "--as-of", str(earlier)) == 0
    assertDataFrameEqual(catalog.read("gold.churn_scores").where(F.col("as_of") == earlier), before)

    early = START + timedelta(days=60)  # less than 2H of labels: the probabilistic model serves
    assert omnilake(cfg, "train", "ltv", "--as-of", str(early), "--horizon-days", "30") == 0
    assert "fallback (history too short" in capsys.readouterr().out
    assert omnilake(cfg, "score", "ltv", "--as-of", str(early), "--horizon-days", "30") == 0
    ltv = catalog.read("gold.customer_ltv")
    bad = (
        F.col("p_alive").isNull()
        | F.isnan("expected_purchases")
        | F.isnan("expected_revenue")
        | (F.col("expected_revenue") < 0)
    )
    assert ltv.where(bad).count() == 0
    assert ltv.select("as_of", "horizon_days", "model_name").distinct().collect() == [(early, 30, "omnilake_ltv_h30")]


def _evaluate_churn(cfg, catalog, capsys, omnilake) -> None:
    """`omnilake evaluate churn`: the champion's configuration and the baselines at two origins, the last one's
    labels ending at D; an as-of with too little history before it is refused with train's message."""
    assert omnilake(cfg, "evaluate", "churn", "--as-of", str(D), "--origins", "2", "--step-days", "14") == 0
    out = capsys.readouterr().out
    assert "evaluate churn as_of=2025-05-30 horizon=30d: 2 origins (2025-04-30, 2025-04-16)" in out, out
    assert "| all | auc |" in out
    rows = catalog.read("gold.model_evaluations").toPandas()
    assert set(rows["origin"]) == {D - timedelta(days=30), D - timedelta(days=44)}
    assert {"champion", "baseline_bgnbd"} <= set(rows["role"]) and set(rows["level"]) == {"all"}
    assert rows.loc[(rows["role"] == "champion") & (rows["metric"] == "auc"), "value"].between(0.5, 1.0).all()
    assert omnilake(cfg, "evaluate", "churn", "--as-of", str(D), "--origins", "2", "--step-days", "14") == 0
    assert len(catalog.read("gold.model_evaluations").toPandas()) == len(rows)  # a rerun replaces its rows
    from jobs.common.errors import UserError

    with pytest.raises(UserError, match="history too short for an honest comparison"):
        omnilake(cfg, "evaluate", "churn", "--as-of", str(START + timedelta(days=60)))


def _monitor_churn(cfg, catalog, capsys, omnilake) -> None:
    """`omnilake monitor churn` as of D on a world without drift: every check judged, none alerts; the realized
    AUC of the scores made as of D - H stands next to the version's validation AUC; a rerun replaces the rows."""
    assert omnilake(cfg, "score", "churn", "--as-of", str(D - timedelta(days=30))) == 0
    capsys.readouterr()
    assert omnilake(cfg, "monitor", "churn", "--as-of", str(D)) == 0
    out = capsys.readouterr().out
    assert f"monitor churn as_of={D} horizon=30d: " in out and " 0 alerts in " in out, out
    rows = catalog.read("gold.model_monitoring").toPandas()
    assert set(rows["check"]) == {"feature_drift", "missing", "prediction_drift", "realized"}, rows
    assert (rows["status"] != "skipped").all() and not (rows["status"] == "alert").any(), rows
    auc = rows.loc[(rows["check"] == "realized") & (rows["subject"] == "auc")].iloc[0]
    assert (
        0.5 < auc["value"] <= 1.0 and 0.5 < auc["reference"] <= 1.0 and auc["reference_as_of"] == D - timedelta(days=30)
    )
    drift = rows.loc[rows["check"] == "prediction_drift"].iloc[0]
    assert drift["subject"] == "churn_probability" and drift["reference_as_of"] == D - timedelta(days=30)
    assert omnilake(cfg, "monitor", "churn", "--as-of", str(D)) == 0
    assert len(catalog.read("gold.model_monitoring").toPandas()) == len(rows)
    from mlflow import MlflowClient

    client = MlflowClient(cfg.paths.mlflow_tracking_uri)
    champion = client.get_model_version_by_alias("omnilake_churn_h30", "champion")
    status = champion.tags["omnilake.monitoring"]  # warn: the ages (tenure) move with the calendar, never alert
    assert status in (f"ok as of {D}", f"warn as of {D}")
    assert champion.description.startswith(f"## Monitoring as of {D}: {status.split()[0]} (0 alerts")
