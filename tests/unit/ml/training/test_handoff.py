"""The bounded Spark -> pandas hand-off: capped, deterministic by key, honest about sampling."""

from __future__ import annotations

from pyspark.sql import functions as F

from jobs.common.config.ml import HandOff
from ml.training.handoff import to_pandas_bounded


def test_below_the_cap_everything_comes_over(spark):
    out = to_pandas_bounded(spark.range(50).withColumnRenamed("id", "k"), key=["k"], limits=HandOff(100, 1), what="t")
    assert sorted(out.frame["k"]) == list(range(50))
    assert out.describe() == {"rows": 50, "source_rows": 50, "sampled": False}


def test_above_the_cap_a_deterministic_sample_of_whole_keys(spark):
    df = spark.range(40000).select((F.col("id") % 10000).alias("customer"), F.col("id").alias("row"))
    first = to_pandas_bounded(df, key=["customer"], limits=HandOff(10000, 7), what="t")
    again = to_pandas_bounded(df, key=["customer"], limits=HandOff(10000, 7), what="t")
    assert first.sampled and first.source_rows == 40000 and 9000 < len(first.frame) <= 10000
    assert sorted(first.frame["row"]) == sorted(again.frame["row"])
    assert (first.frame.groupby("customer").size() == 4).all()  # whole customers


def test_rows_come_in_the_same_order_whatever_the_partitioning(spark):
    """A model fit on the hand-off must not depend on how many partitions (executors) produced it."""
    rows = [(f"c{i % 7}", (i * 37) % 11, float(i % 3), [i, i + 1]) for i in range(60)]
    df = spark.createDataFrame(rows, "customer string, day int, amount double, items array<int>")
    frames = [
        to_pandas_bounded(df.repartition(n, "day"), key=["customer"], limits=HandOff(100, 1), what="t").frame
        for n in (1, 5)
    ]
    assert frames[0].drop(columns="items").equals(frames[1].drop(columns="items"))
    assert list(frames[0].index) == list(range(60))
    assert frames[0]["customer"].is_monotonic_increasing
