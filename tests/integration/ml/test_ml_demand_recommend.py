"""`omnilake train|score demand|recommend` end to end: ml/models/demand and ml/models/recommend wired to MLflow,
the gate and gold.demand_forecast(+_levels) / gold.recommendations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pyspark.sql import functions as F

from jobs.io.tables import Catalog
from tests.support import synthetic as syn
from tests.support.config import make_config

pytestmark = pytest.mark.integration
START, DAYS, SKUS = date(2025, 1, 1), 110, 8
D = START + timedelta(days=DAYS - 1)


def test_demand_and_recommend_train_and_score(spark, tmp_path, capsys, omnilake):
    cfg = make_config(
        tmp_path / "home",
        OMNILAKE__ML__RECOMMEND__CHALLENGER__PARAMS__MAX_ITER="3",
        OMNILAKE__ML__RECOMMEND__CHALLENGER__PARAMS__RANK="4",
        OMNILAKE__ML__DEMAND__LEVELS__N_SAMPLES="200",
    )
    catalog = Catalog.from_config(spark, cfg)
    sim = syn.simulate(syn.Planted(customers=200, days=DAYS, skus=SKUS), start=START, seed=4)
    catalog.overwrite(syn.order_lines(spark, sim.transactions), "silver.order_lines")
    catalog.overwrite(syn.web_events(spark, sim.events), "silver.events")
    sales = syn.store_sales(stores=2, skus=SKUS, days=DAYS, start=START, seed=2)
    catalog.overwrite(syn.silver_frame(spark, sales, "silver.daily_sales_imported"), "silver.daily_sales_imported")
    catalog.overwrite(syn.silver_frame(spark, syn.products(SKUS), "silver.products"), "silver.products")

    assert omnilake(cfg, "train", "demand", "--as-of", str(D)) == 0
    assert omnilake(cfg, "score", "demand", "--as-of", str(D)) == 0
    out = capsys.readouterr().out
    assert "train demand as_of=2025-04-20 horizon=28d" in out and "gold.demand_forecast_levels" in out
    forecast = catalog.read("gold.demand_forecast")
    days = (
        forecast.groupBy("store_id", "sku")
        .agg(F.min("date").alias("lo"), F.max("date").alias("hi"), F.count("*").alias("n"))
        .distinct()
        .collect()
    )
    assert len(days) == 2 * SKUS
    assert {(r.lo, r.hi, r.n) for r in days} == {(D + timedelta(days=1), D + timedelta(days=28), 28)}
    assert forecast.where((F.col("p10") > F.col("p50")) | (F.col("p50") > F.col("p90"))).count() == 0
    assert forecast.select("as_of", "model_name").distinct().collect() == [(D, "omnilake_demand_h28")]
    levels = catalog.read("gold.demand_forecast_levels")
    total = levels.where(F.col("level") == "total").select("date", F.col("mean").alias("total"))
    summed = forecast.groupBy("date").agg(F.sum("mean").alias("sum"))
    assert total.join(summed, "date", "inner").where(F.abs(F.col("total") - F.col("sum")) > 1e-6).count() == 0
    assert {r.level for r in levels.select("level").distinct().collect()} == {"total", "category", "store"}

    # the best seller is sold out everywhere on the last snapshot; the runner-up was, but is restocked by then
    top = sim.transactions.loc[sim.transactions["order_date"] <= D, "sku"].value_counts().index[:2].tolist()
    stock = [
        (day, store, sku, 0 if (sku == top[0] and day == D) or (sku == top[1] and day < D) else 5, 0)
        for day in (D - timedelta(days=1), D)
        for store in ("S1", "S2")
        for sku in syn.products(SKUS)["sku"]
    ]
    catalog.overwrite(
        spark.createDataFrame(stock, "snapshot_date date, store_id string, sku string, on_hand int, on_order int"),
        "silver.inventory",
    )
    assert omnilake(cfg, "train", "recommend", "--as-of", str(D)) == 0
    assert omnilake(cfg, "score", "recommend", "--as-of", str(D)) == 0
    assert "-> omnilake_recommend_h14" in capsys.readouterr().out
    recs = catalog.read("gold.recommendations")
    assert (
        recs.groupBy("customer_id")
        .agg(F.max("rank").alias("n"), F.count("*").alias("c"))
        .where((F.col("n") != F.col("c")) | (F.col("n") > 10))
        .count()
        == 0
    )
    seen = sim.transactions.loc[sim.transactions["order_date"] <= D, ["customer_id", "sku"]]
    seen_df = spark.createDataFrame(seen.rename(columns={"sku": "item_id"}).drop_duplicates())
    assert recs.join(seen_df, ["customer_id", "item_id"], "inner").count() == 0  # nothing already bought
    recommended = {r.item_id for r in recs.select("item_id").distinct().collect()}
    assert top[0] not in recommended and top[1] in recommended  # out of stock at D: never; restocked: yes
    assert recs.select("as_of", "model_name").distinct().collect() == [(D, "omnilake_recommend_h14")]
    assert recs.where(F.col("run_id").isNull() | F.col("model_version").isNull()).count() == 0
