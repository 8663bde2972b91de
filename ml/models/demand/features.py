"""Horizon-safe demand features in Spark: one row per store x SKU x day, every lag at least `horizon` days old.

A row for day t only looks at days <= t - horizon, so one model trained on rows "units on day t" forecasts every
day D+k (k = 1..horizon) of an origin D from data <= D, without expanding the training set by horizon.
Stock-out days are unknown demand, not zero demand: they are null in every lag and rolling statistic and are
never training targets. Input columns (features.item_store_day): store_id, sku, category, date, units, stockout,
promo, price, list_price.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

KEY = ["store_id", "sku", "date"]
SERIES = ["store_id", "sku"]
WEEKLY_LAGS = 4  # same-weekday lags w1..w4
WEEKDAY_MEAN_WEEKS = 8  # same-weekday mean over this many weeks
LONG_WINDOW = 91  # days of the long rolling mean
NUMERIC_FEATURES = (
    "lag_h",
    *(f"lag_w{j}" for j in range(1, WEEKLY_LAGS + 1)),
    "weekday_mean_8",
    "mean_7",
    "mean_28",
    "std_28",
    "max_28",
    "mean_91",
    "zero_share_28",
    "stockout_share_28",
    "promo_share_28",
    "promo_lag_w1",
    "price_ratio_lag_h",
    "day_of_week",
    "day_of_month",
)
PLANNED_FEATURES = ("promo_plan", "price_ratio_plan")  # the target day's own promo and price: only from a plan
INPUT_COLUMNS = ("store_id", "sku", "category", "date", "units", "stockout", "promo", "price", "list_price")
FRAME_COLUMNS = (*KEY, "category", "horizon", *NUMERIC_FEATURES, *PLANNED_FEATURES, "target")


def season_lag(horizon: int) -> int:
    """The smallest multiple of 7 that is >= horizon: the most recent same-weekday day every forecast may use."""
    return 7 * -(-horizon // 7)


def lookback_days(horizon: int) -> int:
    """Days of history before the first target day that a row's features read."""
    return max(horizon + LONG_WINDOW - 1, season_lag(horizon) + 7 * (WEEKDAY_MEAN_WEEKS - 1))


def _check_input(df: DataFrame, horizon: int) -> None:
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    missing = [c for c in INPUT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"item_store_day frame lacks columns {missing}")


def _typed(df: DataFrame) -> DataFrame:
    """The input columns with fixed types, so history and future rows union cleanly."""
    return df.select(
        *(F.col(c).cast("string").alias(c) for c in ("store_id", "sku", "category")),
        F.col("date").cast("date").alias("date"),
        F.col("units").cast("double").alias("units"),
        F.col("stockout").cast("boolean").alias("stockout"),
        F.col("promo").cast("boolean").alias("promo"),
        F.col("price").cast("double").alias("price"),
        F.col("list_price").cast("double").alias("list_price"),
    )


def _prepared(df: DataFrame) -> DataFrame:
    """Day number for the range windows; stock-out days carry null observed demand (unknown, not zero)."""
    stockout = F.coalesce(F.col("stockout"), F.lit(False))
    return df.select(
        "store_id",
        "sku",
        "category",
        "date",
        F.unix_date("date").alias("_day"),
        F.when(stockout, F.lit(None).cast("double")).otherwise(F.col("units")).alias("_obs"),
        stockout.cast("double").alias("_stockout"),
        F.col("promo").cast("double").alias("_promo"),
        F.try_divide(F.col("price"), F.col("list_price")).alias("_price_ratio"),
    )


def _features(df: DataFrame, horizon: int) -> DataFrame:
    """Lag / rolling / calendar features of every row of a prepared frame (windows end at day - horizon)."""
    by_day = Window.partitionBy(*SERIES).orderBy("_day")
    by_weekday = Window.partitionBy(*SERIES, F.dayofweek("date")).orderBy("_day")
    lag0 = season_lag(horizon)

    def at(col: str, lag: int) -> Column:
        return F.max(col).over(by_day.rangeBetween(-lag, -lag))

    def window(days: int) -> Window:
        return by_day.rangeBetween(-(horizon + days - 1), -horizon)

    observed_zero = F.when(F.col("_obs").isNotNull(), (F.col("_obs") == 0).cast("double"))
    weekday_frame = by_weekday.rangeBetween(-(lag0 + 7 * (WEEKDAY_MEAN_WEEKS - 1)), -lag0)
    return df.select(
        *KEY,
        "category",
        F.lit(horizon).alias("horizon"),
        at("_obs", horizon).alias("lag_h"),
        *(at("_obs", lag0 + 7 * (j - 1)).alias(f"lag_w{j}") for j in range(1, WEEKLY_LAGS + 1)),
        F.avg("_obs").over(weekday_frame).alias("weekday_mean_8"),
        F.avg("_obs").over(window(7)).alias("mean_7"),
        F.avg("_obs").over(window(28)).alias("mean_28"),
        F.stddev_samp("_obs").over(window(28)).alias("std_28"),
        F.max("_obs").over(window(28)).alias("max_28"),
        F.avg("_obs").over(window(LONG_WINDOW)).alias("mean_91"),
        F.avg(observed_zero).over(window(28)).alias("zero_share_28"),
        F.avg("_stockout").over(window(28)).alias("stockout_share_28"),
        F.avg("_promo").over(window(28)).alias("promo_share_28"),
        at("_promo", lag0).alias("promo_lag_w1"),
        at("_price_ratio", horizon).alias("price_ratio_lag_h"),
        F.dayofweek("date").alias("day_of_week"),
        F.dayofmonth("date").alias("day_of_month"),
        F.col("_promo").alias("promo_plan"),
        F.col("_price_ratio").alias("price_ratio_plan"),
        F.col("_obs").alias("target"),
    )


def build_training_frame(item_store_day: DataFrame, *, as_of: date, horizon: int) -> DataFrame:
    """Training rows: store x SKU x day <= as_of with an observed (not stocked-out) target and some history.

    Columns FRAME_COLUMNS; `target` is the day's units; `horizon` (constant) records the lag distance the features
    were built with, so a model and the frames it scores cannot disagree. Data after as_of is never read.
    """
    _check_input(item_store_day, horizon)
    rows = _prepared(_typed(item_store_day).where(F.col("date") <= F.lit(as_of)))
    return (
        _features(rows, horizon)
        .where(F.col("target").isNotNull() & F.col("mean_91").isNotNull())
        .select(*FRAME_COLUMNS)
    )


def build_forecast_frame(
    item_store_day: DataFrame, *, as_of: date, horizon: int, plan: DataFrame | None = None
) -> DataFrame:
    """Feature rows for days as_of+1 .. as_of+horizon of every series seen in the lookback before as_of.

    Only history <= as_of is read. `plan` (store_id, sku, date, promo, price) supplies the target days' planned
    promotions and prices; without it promo_plan / price_ratio_plan are null. `target` is null.
    """
    _check_input(item_store_day, horizon)
    start = as_of - timedelta(days=lookback_days(horizon))
    past = _typed(item_store_day).where((F.col("date") > F.lit(start)) & (F.col("date") <= F.lit(as_of)))
    last = Window.partitionBy(*SERIES).orderBy(F.col("date").desc())
    series = past.withColumn("_n", F.row_number().over(last)).where("_n = 1").select(*SERIES, "category", "list_price")
    days = F.sequence(F.lit(as_of + timedelta(days=1)), F.lit(as_of + timedelta(days=horizon)))
    future = series.select(*SERIES, "category", "list_price", F.explode(days).alias("date"))
    if plan is not None:
        planned = plan.select(
            F.col("store_id").cast("string").alias("store_id"),
            F.col("sku").cast("string").alias("sku"),
            F.col("date").cast("date").alias("date"),
            F.col("promo").cast("boolean").alias("promo"),
            F.col("price").cast("double").alias("price"),
        )
        future = future.join(planned, on=KEY, how="left")
    else:
        future = future.withColumn("promo", F.lit(None).cast(T.BooleanType())).withColumn(
            "price", F.lit(None).cast("double")
        )
    future = future.select(
        *INPUT_COLUMNS[:4],
        F.lit(None).cast("double").alias("units"),
        F.lit(None).cast("boolean").alias("stockout"),
        "promo",
        "price",
        "list_price",
    )
    rows = _prepared(past.unionByName(future))
    return _features(rows, horizon).where(F.col("date") > F.lit(as_of)).select(*FRAME_COLUMNS)
