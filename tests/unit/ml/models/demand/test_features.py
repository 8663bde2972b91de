"""Horizon-safe demand features: stock-out days are never targets or zeros, nothing after as_of is read."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from ml.models.demand.features import KEY, PLANNED_FEATURES, build_forecast_frame, build_training_frame
from tests.support.demand_sim import START, simulate_panel

SCHEMA = (
    "store_id string, sku string, category string, date date, units double, stockout boolean, "
    "promo boolean, price double, list_price double"
)
D0 = date(2024, 3, 1)


def _tiny(spark, stockout_day: int = 4):
    """One series, 9 days of units 1..9; day `stockout_day` is a stock-out with no sales."""
    rows = [
        (
            "S1",
            "A",
            "bakery",
            D0 + timedelta(days=i),
            0.0 if i == stockout_day else float(i + 1),
            i == stockout_day,
            i == 6,
            2.0 if i == 6 else 2.5,
            2.5,
        )
        for i in range(9)
    ]
    return spark.createDataFrame(rows, SCHEMA)


def test_stockout_day_is_neither_target_nor_zero_lag(spark):
    frame = build_training_frame(_tiny(spark), as_of=D0 + timedelta(days=8), horizon=2)
    got = frame.select("date", "target", "lag_h", "mean_7", "stockout_share_28", "promo_plan", "price_ratio_plan")
    day = [D0 + timedelta(days=i) for i in range(9)]
    expected = spark.createDataFrame(
        [
            (day[2], 3.0, 1.0, 1.0, 0.0, 0.0, 1.0),
            (day[3], 4.0, 2.0, 1.5, 0.0, 0.0, 1.0),
            (day[5], 6.0, 4.0, 2.5, 0.0, 0.0, 1.0),  # day 4 (stock-out) is not a target row
            (day[6], 7.0, None, 2.5, 0.2, 1.0, 0.8),  # its lag is day 4: unknown, not 0
            (day[7], 8.0, 6.0, 3.2, 1 / 6, 0.0, 1.0),
            (day[8], 9.0, 7.0, 23 / 6, 1 / 7, 0.0, 1.0),  # mean of days 0..6 without day 4
        ],
        "date date, target double, lag_h double, mean_7 double, stockout_share_28 double, promo_plan double, "
        "price_ratio_plan double",
    )
    assertDataFrameEqual(got, expected, rtol=1e-9)


def test_training_features_never_see_the_last_horizon_days(spark):
    """Changing every unit in the last `horizon` days before as_of changes targets only, never a feature."""
    as_of, horizon = D0 + timedelta(days=8), 3
    base = _tiny(spark)
    bumped = base.withColumn(
        "units",
        F.when(F.col("date") > F.lit(as_of - timedelta(days=horizon)), F.col("units") + 100).otherwise(F.col("units")),
    )
    a = build_training_frame(base, as_of=as_of, horizon=horizon).drop("target")
    b = build_training_frame(bumped, as_of=as_of, horizon=horizon).drop("target")
    assertDataFrameEqual(a, b)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(stores=2, skus=3, days=150).drop(columns=["expected"])


def test_forecast_features_ignore_data_after_as_of(spark, panel):
    as_of, horizon = START + timedelta(days=120), 14
    after = pd.to_datetime(panel["date"]).dt.date > as_of
    changed = panel.assign(
        units=panel["units"].where(~after, 999.0), promo=panel["promo"] | after, stockout=panel["stockout"] & ~after
    )
    a = build_forecast_frame(spark.createDataFrame(panel), as_of=as_of, horizon=horizon)
    b = build_forecast_frame(spark.createDataFrame(changed), as_of=as_of, horizon=horizon)
    assertDataFrameEqual(a, b)
    days = sorted(r["date"] for r in a.select("date").distinct().collect())
    assert days == [as_of + timedelta(days=k) for k in range(1, horizon + 1)]
    assert a.count() == 6 * horizon


def test_forecast_rows_match_training_rows_of_the_same_days(spark, panel):
    """Day as_of+k gets the features a training frame computes for it from the full history (which knows the
    days after as_of): so they only use days <= as_of, and the forecast's lookback cuts nothing they need."""
    as_of, horizon = START + timedelta(days=120), 14
    hist = spark.createDataFrame(panel)
    future = build_forecast_frame(hist, as_of=as_of, horizon=horizon).drop("target", *PLANNED_FEATURES)
    full = build_training_frame(hist, as_of=as_of + timedelta(days=horizon), horizon=horizon)
    full = full.where(F.col("date") > F.lit(as_of)).drop("target", *PLANNED_FEATURES)
    dates = pd.to_datetime(panel["date"]).dt.date
    window = (dates > as_of) & (dates <= as_of + timedelta(days=horizon))
    assert full.count() == int((window & ~panel["stockout"]).sum())  # every day of the window but stock-outs
    assertDataFrameEqual(full, future.join(full.select(*KEY), on=KEY, how="inner").select(*full.columns))
