"""Churn output pieces: risk bands from conf cutoffs."""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.common.config.ml import RiskBand
from ml.models.churn.adapter import risk_band

BANDS = [RiskBand("low", 0.0), RiskBand("high", 0.7), RiskBand("medium", 0.4)]


def test_risk_band_takes_the_highest_band_reached(spark):
    df = spark.createDataFrame(
        [("a", 0.95), ("b", 0.7), ("c", 0.69), ("d", 0.4), ("e", 0.0)], "customer_id string, churn_probability double"
    )
    out = df.select("customer_id", risk_band(F.col("churn_probability"), BANDS).alias("risk_band"))
    assertDataFrameEqual(
        out,
        spark.createDataFrame(
            [("a", "high"), ("b", "high"), ("c", "medium"), ("d", "medium"), ("e", "low")],
            "customer_id string, risk_band string",
        ),
    )
