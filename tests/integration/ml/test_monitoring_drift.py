"""Issue 13 (item 4): `omnilake monitor` on a generated business with a planted drift (conf generate.drift: from one
day on every price x1.25 and the POS channel's traffic x0.4). Champions trained a week before the drift; monitoring
the day before it flags nothing, monitoring a week into it flags the store x SKU volumes (feature drift) and the
bias of the week-old forecasts on the days that have happened, and the retrain reason names them. The price rise
alone is not flagged by demand: its normal price is the 56-day maximum, so a rise is the new normal at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jobs.cli import main
from ml.monitoring.reason import retrain_reason

pytestmark = pytest.mark.integration
START, DAYS = date(2025, 1, 1), 98
# 12 weeks before the drift: the demand features' 56-day normal price has long left the first days (where the
# carried list price still sets it), so the weeks before the drift are a steady state
DRIFT = START + timedelta(days=84)  # 2025-03-26
TRAINED = DRIFT - timedelta(days=8)  # the champions learn from the weeks before the drift only
BEFORE, AFTER = DRIFT - timedelta(days=1), DRIFT + timedelta(days=7)
MODELS = ("demand",)  # the customer models stay quiet too: test_ml_customer_scores, the e2e daily run


def _monitor(cfg, catalog, omnilake, capsys, day: date) -> tuple[str, list[dict]]:
    for model in MODELS:
        assert omnilake(cfg, "score", model, "--as-of", str(day)) == 0
        assert omnilake(cfg, "monitor", model, "--as-of", str(day)) == 0
    out = capsys.readouterr().out
    rows = [r.asDict() for r in catalog.read("gold.model_monitoring").where(f"as_of = DATE'{day}'").collect()]
    return out, rows


def _table(rows: list[dict]) -> str:
    """The monitoring rows, one a line (a failure's message: values against thresholds)."""
    ordered = sorted(rows, key=lambda r: (r["model"], r["check"], -(r["value"] or 0)))
    return "\n".join(
        f"{r['model']} {r['check']} {r['subject']} {r['status']} {r['value']} {r['threshold']} {r['detail']}"
        for r in ordered
    )


def test_monitoring_flags_a_planted_drift_in_time_and_nothing_before_it(
    spark, cfg, catalog, capsys, omnilake, monkeypatch
):
    monkeypatch.setenv("OMNILAKE__GENERATE__DRIFT__CHANNEL", "pos")
    # 1,000 customers: the volumes the mean_7 flag needs (seed 5: psi 0.448 against its noise limit 0.351 a week in;
    # at 300 customers 0.066 against 0.25, not flagged). Fewer customers barely shorten the run: its Spark jobs are
    # the same 117 series
    assert (
        main(["generate", "--customers", "1000", "--days", str(DAYS), "--seed", "5", "--drift-from", str(DRIFT)]) == 0
    )
    assert "drift from 2025-03-26: prices x1.25, pos traffic x0.4" in capsys.readouterr().out
    assert main(["ingest"]) == 0
    for model in MODELS:
        assert omnilake(cfg, "train", model, "--as-of", str(TRAINED)) == 0
        assert omnilake(cfg, "score", model, "--as-of", str(TRAINED)) == 0  # the first scores: prediction reference
    capsys.readouterr()

    _, before = _monitor(cfg, catalog, omnilake, capsys, BEFORE)
    _, after = _monitor(cfg, catalog, omnilake, capsys, AFTER)
    assert {r["model"] for r in before} == set(MODELS)
    alerts = [(r["model"], r["check"], r["subject"], r["detail"]) for r in before if r["status"] == "alert"]
    assert not alerts, f"alerts the day before the drift: {alerts}\n{_table(before)}"
    assert retrain_reason(before, cfg.ml.monitoring.retrain_on) == "", _table(before)

    # a week into the drift: the forecasts made the week before run 100%+ above what happened (POS volumes fell
    # to 0.4x), and the store x SKU volumes of the last week moved beyond the noise of 117 series
    flagged = {(r["model"], r["check"], r["subject"]) for r in after if r["status"] == "alert"}
    assert {("demand", "realized", "abs_bias"), ("demand", "feature_drift", "mean_7")} <= flagged, _table(after)
    bias = next(r for r in after if (r["model"], r["check"], r["subject"]) == ("demand", "realized", "abs_bias"))
    assert bias["value"] > 0.5 and bias["reference_as_of"] == BEFORE, bias
    reason = retrain_reason(after, cfg.ml.monitoring.retrain_on)
    assert reason.startswith(f"monitoring {AFTER}: demand v1 ") and "abs_bias" in reason and "mean_7" in reason, reason
