"""ALS recommendations on simulated taste clusters: beats popularity, filters, cold start, id round trip."""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.common.config.ml import InteractionWeights
from jobs.gold.sales import sales_lines
from ml.models.recommend.als import (
    AlsParams,
    _index,
    load_recommender,
    recommend,
    recommend_popular,
    save_recommender,
    train_als,
)
from ml.models.recommend.evaluate import evaluate
from ml.models.recommend.interactions import interactions_from_silver
from tests.support.recommend_sim import AS_OF, ITEMS, simulate_shoppers

N = 10
WEIGHTS = InteractionWeights(purchase=5.0, cart=2.0, view=1.0, imported_default=1.0)  # conf ml.recommend.weights


@pytest.fixture(scope="module")
def sim(spark):
    data = simulate_shoppers()
    frames = {name: spark.createDataFrame(df) for name, df in data.items()}
    empty = spark.createDataFrame([], "customer_id string, item_id string, interaction_ts timestamp, weight double")
    frames["interactions"] = interactions_from_silver(
        frames["order_lines"], frames["events"], empty, weights=WEIGHTS, as_of=AS_OF, excluded_statuses=("cancelled",)
    ).cache()
    frames["out_of_stock"] = spark.createDataFrame([(ITEMS[0],), (ITEMS[5],)], "item_id string")
    return frames


@pytest.fixture(scope="module")
def model(sim):
    return train_als(sim["interactions"], params=AlsParams(rank=8, max_iter=5))  # 4 planted clusters


@pytest.fixture(scope="module")
def recs(sim, model):
    return recommend(
        model, sim["customers"], exclude=sim["interactions"], out_of_stock=sim["out_of_stock"], n=N
    ).cache()


def test_als_beats_popularity_on_the_later_window(sim, model, recs):
    pop = recommend_popular(
        model.popular, sim["customers"], exclude=sim["interactions"], out_of_stock=sim["out_of_stock"], n=N
    )
    als_m = evaluate(recs, sim["future"], k=N, catalog_size=len(ITEMS))
    pop_m = evaluate(pop, sim["future"], k=N, catalog_size=len(ITEMS))
    assert als_m["precision"] >= 1.1 * pop_m["precision"], (als_m, pop_m)
    assert als_m["ndcg"] > pop_m["ndcg"] and als_m["coverage"] > pop_m["coverage"]


def test_every_customer_gets_n_ranked_items_and_ids_round_trip(sim, recs):
    got = recs.toPandas()
    customers = set(sim["customers"].toPandas()["customer_id"])
    assert set(got["customer_id"]) == customers  # the exact input ids, odd characters included
    assert set(got["item_id"]) <= set(ITEMS)
    assert (
        got.groupby("customer_id")["rank"].apply(sorted)
        == pd.Series([list(range(1, N + 1))] * len(customers)).set_axis(sorted(customers))
    ).all()
    assert not got.duplicated(["customer_id", "item_id"]).any()
    ordered = got.sort_values(["customer_id", "rank"])
    assert (ordered.groupby("customer_id")["score"].diff().dropna() <= 0).all()


def test_bought_interacted_and_out_of_stock_items_are_never_recommended(sim, recs):
    seen = recs.join(sim["interactions"], on=["customer_id", "item_id"], how="inner")
    assertDataFrameEqual(seen.select("customer_id", "item_id"), recs.limit(0).select("customer_id", "item_id"))
    assert recs.join(sim["out_of_stock"], on="item_id", how="inner").isEmpty()
    sales = sales_lines(sim["order_lines"], excluded_statuses=("cancelled",))
    bought = sales.select("customer_id", F.col("sku").alias("item_id"))
    assert recs.join(bought, on=["customer_id", "item_id"], how="inner").isEmpty()


def test_cold_start_customers_get_popularity(sim, model, recs):
    cold = recs.join(sim["cold"], on="customer_id", how="inner")
    expected = recommend_popular(
        model.popular, sim["cold"], exclude=sim["interactions"], out_of_stock=sim["out_of_stock"], n=N
    )
    assertDataFrameEqual(cold, expected)
    top = [r["item_id"] for r in model.popular.orderBy("rank").limit(N + 2).collect()]
    in_stock = [i for i in top if i not in (ITEMS[0], ITEMS[5])][:N]
    assert [
        r["item_id"] for r in cold.where(F.col("customer_id") == sim["cold"].first()[0]).orderBy("rank").collect()
    ] == in_stock


@pytest.mark.filterwarnings("ignore::UserWarning")  # MLflow's advice on integer columns and input examples
def test_save_load_and_mlflow_pyfunc(spark, tmp_path, sim, model):
    import mlflow.pyfunc
    from mlflow.models import infer_signature

    from ml.models.recommend.pyfunc import ARTIFACT_KEY, AlsPyfunc

    save_recommender(model, tmp_path / "rec")
    some = sim["customers"].toPandas().iloc[[0, 1, 7, -1]]  # an imported-looking id and a cold-start one
    direct = recommend(model, spark.createDataFrame(some), exclude=model.seen, out_of_stock=None, n=3)
    direct = direct.orderBy("customer_id", "rank").toPandas()
    loaded = load_recommender(spark, tmp_path / "rec")
    assert loaded.n_items == model.n_items and loaded.params == model.params
    signature = infer_signature(some, direct, params={"n": 10})  # params must be declared to reach predict
    mlflow.pyfunc.save_model(
        str(tmp_path / "pyfunc"),
        python_model=AlsPyfunc(),
        signature=signature,
        artifacts={ARTIFACT_KEY: str(tmp_path / "rec")},
    )
    out = mlflow.pyfunc.load_model(str(tmp_path / "pyfunc")).predict(some, params={"n": 3})
    pd.testing.assert_frame_equal(out.reset_index(drop=True), direct, rtol=1e-5)


def test_index_numbers_ids_in_id_order_whatever_the_input_partitioning(spark):
    """The index is the rank in id order (Spark compares strings as UTF-8 bytes), computed over several sorted
    partitions, and the same however the input arrives."""
    ids = [f"c{i:03d}" for i in range(150)] + ["Ω-import", "a b", "", "Z"]
    expected = spark.createDataFrame(
        list(enumerate(sorted(ids, key=str.encode))), "user_idx int, customer_id string"
    ).select("customer_id", "user_idx")
    df = spark.createDataFrame([(i,) for i in ids * 2], "customer_id string")
    coalesce = spark.conf.get("spark.sql.adaptive.coalescePartitions.enabled")
    spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")  # keep the sort's partitions apart
    try:
        for frame in (df.repartition(5), df.orderBy(F.rand(3)).repartition(2)):
            got = _index(frame, "customer_id", "user_idx")
            assert got.dtypes == [("customer_id", "string"), ("user_idx", "int")]
            assertDataFrameEqual(got, expected)
    finally:
        spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", coalesce)
