"""Origin-anchored demand features: windows end at the origin, stock-out days are never targets or zeros, nothing
after the origin is read, and a forecast's rows are the training rows of the same origin."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from ml.models.demand.features import (
    KEY,
    PLANNED_FEATURES,
    build_forecast_frame,
    build_training_frame,
    origin_lattice,
)
from tests.support.demand_sim import START, simulate_panel

SCHEMA = (
    "store_id string, sku string, category string, date date, units double, stockout boolean, "
    "promo boolean, price double, list_price double"
)
D0 = date(2024, 3, 4)  # a Monday


def _tiny(spark, stockout_day: int = 4, days: int = 16):
    """One series, units 1..days; day `stockout_day` is a stock-out with no sales; day 6 a promotion at 2.0."""
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
        for i in range(days)
    ]
    return spark.createDataFrame(rows, SCHEMA)


def test_origin_lattice_is_anchored_and_ends_before_the_last_labelled_day():
    anchor = date(2025, 3, 1)
    days = origin_lattice(anchor, until=anchor + timedelta(days=28), step_days=7, origins=5)
    assert days == [anchor + timedelta(days=d) for d in (-7, 0, 7, 14, 21)]
    before = [anchor - timedelta(days=14), anchor - timedelta(days=7)]
    assert origin_lattice(anchor, until=anchor, step_days=7, origins=2) == before
    assert origin_lattice(anchor, until=anchor + timedelta(days=1), step_days=7, origins=1) == [anchor]
    with pytest.raises(ValueError, match="origin_step_days"):
        origin_lattice(anchor, until=anchor, step_days=0, origins=1)


def test_rows_read_up_to_their_origin_and_skip_stock_out_targets(spark):
    """Origin day 8 (units 9, day 4 a stock-out): windows end at day 8, leads 1..3 ask for days 9..11."""
    origin = D0 + timedelta(days=8)
    frame = build_training_frame(
        _tiny(spark), as_of=origin + timedelta(days=3), horizon=3, anchor=origin, step_days=7, origins=1
    )
    got = frame.select(
        "origin",
        "date",
        "lead",
        "target",
        "last_1",
        "mean_7",
        "stockout_share_28",
        "days_since_sale",
        "same_weekday_last",
        "day_of_week",
        "promo_now",
        "price_vs_normal",
    )
    day = [D0 + timedelta(days=i) for i in range(16)]
    mean_7 = (3 + 4 + 6 + 7 + 8 + 9) / 6  # days 2..8 without the stock-out day 4
    expected = spark.createDataFrame(
        [
            # same weekday as day 9 at or before the origin: day 2 (units 3); day 10 -> day 3; day 11 -> day 4, unknown
            (origin, day[9], 1.0, 10.0, 9.0, mean_7, 1 / 9, 0.0, 3.0, 4.0, 0.0, 1.0),
            (origin, day[10], 2.0, 11.0, 9.0, mean_7, 1 / 9, 0.0, 4.0, 5.0, 0.0, 1.0),
            (origin, day[11], 3.0, 12.0, 9.0, mean_7, 1 / 9, 0.0, None, 6.0, 0.0, 1.0),
        ],
        "origin date, date date, lead double, target double, last_1 double, mean_7 double, "
        "stockout_share_28 double, days_since_sale double, same_weekday_last double, day_of_week double, "
        "promo_now double, price_vs_normal double",
    )
    assertDataFrameEqual(got, expected, rtol=1e-9)
    stocked_out = build_training_frame(
        _tiny(spark, stockout_day=10),
        as_of=origin + timedelta(days=3),
        horizon=3,
        anchor=origin,
        step_days=7,
        origins=1,
    )
    assert sorted(r["lead"] for r in stocked_out.collect()) == [1.0, 3.0]  # day 10 is unknown demand: no target


def test_a_promotion_reads_as_a_price_below_normal(spark):
    origin = D0 + timedelta(days=6)  # the promotion day: 2.0 against a normal 2.5
    row = build_forecast_frame(_tiny(spark), as_of=origin, horizon=1).first()
    assert row["promo_now"] == 1.0 and row["price_vs_normal"] == pytest.approx(0.8)


def test_training_features_never_see_after_their_origin(spark):
    """Changing every unit after the origin changes targets only, never a feature of the origin's rows."""
    origin = D0 + timedelta(days=8)
    base = _tiny(spark)
    bumped = base.withColumn(
        "units", F.when(F.col("date") > F.lit(origin), F.col("units") + 100).otherwise(F.col("units"))
    )
    kw = {"as_of": origin + timedelta(days=5), "horizon": 5, "anchor": origin, "step_days": 7, "origins": 1}
    a, b = build_training_frame(base, **kw), build_training_frame(bumped, **kw)
    assertDataFrameEqual(a.drop("target"), b.drop("target"))
    assert sorted(r["target"] for r in b.collect()) == [110.0 + k for k in range(5)]


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


def test_a_series_without_a_row_on_as_of_is_still_forecast_from_as_of(spark, panel):
    as_of = START + timedelta(days=120)
    dates = pd.to_datetime(panel["date"]).dt.date
    gap = panel.loc[~((panel["sku"] == panel["sku"].iloc[0]) & (dates > as_of - timedelta(days=3)))]
    frame = build_forecast_frame(spark.createDataFrame(gap), as_of=as_of, horizon=7)
    assert frame.count() == 6 * 7
    assert {r["origin"] for r in frame.select("origin").distinct().collect()} == {as_of}


def test_forecast_rows_are_the_training_rows_of_the_same_origin(spark, panel):
    """The forecast at as_of equals the rows of origin as_of of a training frame labelled up to as_of + horizon:
    so its features only use days <= as_of and its lookback cuts nothing they need."""
    as_of, horizon = START + timedelta(days=120), 14
    hist = spark.createDataFrame(panel)
    future = build_forecast_frame(hist, as_of=as_of, horizon=horizon).drop("target", *PLANNED_FEATURES)
    full = build_training_frame(
        hist, as_of=as_of + timedelta(days=horizon), horizon=horizon, anchor=as_of, step_days=7, origins=4
    )
    origins = {r["origin"] for r in full.select("origin").distinct().collect()}
    assert origins == {as_of + timedelta(days=d) for d in (-14, -7, 0, 7)}
    full = full.where(F.col("origin") == F.lit(as_of)).drop("target", *PLANNED_FEATURES)
    dates = pd.to_datetime(panel["date"]).dt.date
    window = (dates > as_of) & (dates <= as_of + timedelta(days=horizon))
    assert full.count() == int((window & ~panel["stockout"]).sum())  # every day of the window but stock-outs
    assertDataFrameEqual(full, future.join(full.select(*KEY), on=KEY, how="inner").select(*full.columns))
