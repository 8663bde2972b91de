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
