"""Origin-anchored demand features in Spark: one row per store x SKU x origin x lead.

A row (series, origin o, lead k) holds what is known at the end of day o (every window ends at o, inclusive) and
asks for the units of day t = o + k, k = 1..horizon; the lead and the target day's calendar are features. So day 1
of a forecast reads yesterday's sales, and the model learns how much less yesterday says about four weeks ahead.
(The first design built every row's features `horizon` days before its own day, so day 1 of a 28-day forecast
ignored the 27 most recent days that a moving average uses; on intermittent real logs it lost to the average.)

Training rows come from a lattice of origins: every `origin_step_days` days, anchored on a given day, the latest
`origins` of them before the last labelled day, each with every lead whose day is labelled. A series gives about
origins x horizon rows however long its history is. A forecast is the one origin as_of.

Stock-out days are unknown demand, not zero demand: null in every statistic and never a target. Prices are the
day's realised prices of the grid (jobs/gold/demand.py); the series' own normal price is its highest price of the
last NORMAL_PRICE_DAYS days, so a promotion reads as a ratio below 1 and a permanent price change as a move of the
normal price against its year average. Input columns (features.item_store_day): store_id, sku, category, date, units,
stockout, promo, price, list_price.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.common.config.ml import DemandFrame

KEY = ["store_id", "sku", "date"]
SERIES = ["store_id", "sku"]
WEEKDAY_WEEKS = 8  # same-weekday mean over this many weeks (and the weekday index against the same span)
LONG_WINDOW = 91  # the long rolling statistics
YEAR_WINDOW = 364  # the year level and the cap of days_since_sale
NORMAL_PRICE_DAYS = 56  # the normal price: the highest price of this many days
EWM_HALF_LIVES = (7, 28)  # exponentially weighted means of these half-lives (days), over EWM_SPAN half-lives
EWM_SPAN = 6
STATE_FEATURES = (
    "last_1",
    *(f"ewm_{h}" for h in EWM_HALF_LIVES),
    "mean_7",
    "mean_14",
    "mean_28",
    "std_28",
    "max_28",
    "mean_91",
    "mean_364",
    "zero_share_28",
    "zero_share_91",
    "nonzero_mean_91",
    "days_since_sale",
    "stockout_share_28",
    "promo_share_28",
    "promo_now",
    "price_vs_normal",
    "normal_vs_year",
)
TARGET_FEATURES = (
    "lead",
    "day_of_week",
    "day_of_month",
    "month",
    "same_weekday_last",
    "weekday_mean_8",
    "weekday_index",
    "year_ago_index",
    "event",
)
NUMERIC_FEATURES = (*TARGET_FEATURES, *STATE_FEATURES)
PLANNED_FEATURES = ("promo_plan", "price_vs_normal_plan")  # the target day's own promo and price: only from a plan
INPUT_COLUMNS = ("store_id", "sku", "category", "date", "units", "stockout", "promo", "price", "list_price")
FRAME_COLUMNS = (*KEY, "origin", "category", "horizon", *NUMERIC_FEATURES, *PLANNED_FEATURES, "target")


def lookback_days() -> int:
    """Days of history up to an origin that its row reads (the year-ago window: 52 weeks and 14 days)."""
    return max(YEAR_WINDOW + 14, 7 * WEEKDAY_WEEKS + 7)


def _check_input(df: DataFrame, horizon: int) -> None:
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    missing = [c for c in INPUT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"item_store_day frame lacks columns {missing}")


def _typed(df: DataFrame) -> DataFrame:
    """The input columns with fixed types, so history rows and added rows union cleanly."""
    return df.select(
        *(F.col(c).cast("string").alias(c) for c in ("store_id", "sku", "category")),
        F.col("date").cast("date").alias("date"),
        F.col("units").cast("double").alias("units"),
        F.col("stockout").cast("boolean").alias("stockout"),
        F.col("promo").cast("boolean").alias("promo"),
        F.col("price").cast("double").alias("price"),
        F.col("list_price").cast("double").alias("list_price"),
    )


def _ewm(value: str, half_life: int, window: Window, base: int) -> Column:
    """The exponentially weighted mean of `value` over `window` (nulls skipped), weight 2^(-age / half_life).

    A window aggregate cannot see its own row's day, so the weights are 2^((day - base) / half_life), absolute
    from a fixed `base` day: their ratio cancels the common factor. `base` is the first day of the frame, so the
    exponents stay small (2^(800 / 7) ~ 1e34 for the longest frames, far from a double's range).
    """
    weight = F.pow(F.lit(2.0), (F.col("_day") - F.lit(base)) / F.lit(float(half_life)))
    known = F.when(F.col(value).isNotNull(), weight)
    return F.try_divide(F.sum(F.col(value) * weight).over(window), F.sum(known).over(window))


def _state(df: DataFrame, *, base: date) -> DataFrame:
    """Per series and day d: what is known at the end of d (windows over days d - n + 1 .. d); `base` is the first
    day of `df` (the reference of the exponential weights)."""
    by_day = Window.partitionBy(*SERIES).orderBy("_day")
    by_weekday = Window.partitionBy(*SERIES, F.dayofweek("date")).orderBy("_day")
    stockout = F.coalesce(F.col("stockout"), F.lit(False))
    obs = F.when(stockout, F.lit(None).cast("double")).otherwise(F.col("units"))
    rows = df.select(
        *SERIES,
        "category",
        "date",
        F.unix_date("date").alias("_day"),
        obs.alias("_obs"),
        stockout.cast("double").alias("_stockout"),
        F.col("promo").cast("double").alias("_promo"),
        F.col("price").alias("_price"),
    )

    def last(days: int) -> Window:
        return by_day.rangeBetween(-(days - 1), 0)

    zero = F.when(F.col("_obs").isNotNull(), (F.col("_obs") == 0).cast("double"))
    sale_day = F.max(F.when(F.col("_obs") > 0, F.col("_day"))).over(last(YEAR_WINDOW))
    normal_price = F.max("_price").over(last(NORMAL_PRICE_DAYS))
    return rows.select(
        *SERIES,
        "category",
        "_day",
        F.col("_obs").alias("last_1"),
        *(_ewm("_obs", h, last(EWM_SPAN * h), _unix(base)).alias(f"ewm_{h}") for h in EWM_HALF_LIVES),
        F.avg("_obs").over(last(7)).alias("mean_7"),
        F.avg("_obs").over(last(14)).alias("mean_14"),
        F.avg("_obs").over(last(28)).alias("mean_28"),
        F.stddev_samp("_obs").over(last(28)).alias("std_28"),
        F.max("_obs").over(last(28)).alias("max_28"),
        F.avg("_obs").over(last(LONG_WINDOW)).alias("mean_91"),
        F.avg("_obs").over(last(YEAR_WINDOW)).alias("mean_364"),
        F.avg(zero).over(last(28)).alias("zero_share_28"),
        F.avg(zero).over(last(LONG_WINDOW)).alias("zero_share_91"),
        F.avg(F.when(F.col("_obs") > 0, F.col("_obs"))).over(last(LONG_WINDOW)).alias("nonzero_mean_91"),
        F.coalesce(F.col("_day") - sale_day, F.lit(YEAR_WINDOW)).cast("double").alias("days_since_sale"),
        F.avg("_stockout").over(last(28)).alias("stockout_share_28"),
        F.avg("_promo").over(last(28)).alias("promo_share_28"),
        F.col("_promo").alias("promo_now"),
        F.try_divide(F.col("_price"), normal_price).alias("price_vs_normal"),
        F.try_divide(normal_price, F.avg("_price").over(last(YEAR_WINDOW))).alias("normal_vs_year"),
        normal_price.alias("_normal_price"),
        F.avg("_obs").over(by_weekday.rangeBetween(-7 * (WEEKDAY_WEEKS - 1), 0)).alias("_weekday_mean"),
        F.avg("_obs").over(last(7 * WEEKDAY_WEEKS)).alias("_span_mean"),
    )


def _rows(
    state: DataFrame,
    origins: Column,
    *,
    horizon: int,
    last_target: date | None,
    events: Sequence[date],
    plan: DataFrame | None,
) -> DataFrame:
    """One row per state row kept by `origins` and lead 1..horizon (day <= last_target when given), with the
    target day's calendar, same-weekday statistics (read at the latest same weekday <= origin) and target."""
    leads = F.sequence(F.lit(1), F.lit(horizon))
    rows = (
        state.where(origins)
        .withColumnRenamed("_day", "_o")
        .select("*", F.explode(leads).alias("lead"))
        .withColumn("_t", F.col("_o") + F.col("lead"))
        .withColumn("_s", F.col("_t") - 7 * F.ceil(F.col("lead") / F.lit(7)).cast("int"))
        .withColumn("_y", F.col("_t") - F.lit(YEAR_WINDOW - 14))  # 28 days around the same day 52 weeks before
    )
    if last_target is not None:
        rows = rows.where(F.col("_t") <= F.lit(_unix(last_target)))
    weekday = state.select(
        *SERIES,
        F.col("_day").alias("_s"),
        F.col("last_1").alias("same_weekday_last"),
        F.col("_weekday_mean").alias("weekday_mean_8"),
        F.try_divide(F.col("_weekday_mean"), F.col("_span_mean")).alias("weekday_index"),
    )
    year_ago = state.select(*SERIES, F.col("_day").alias("_y"), F.col("mean_28").alias("_year_ago_mean"))
    target = state.select(*SERIES, F.col("_day").alias("_t"), F.col("last_1").alias("target"))
    rows = (
        rows.join(weekday, on=[*SERIES, "_s"], how="left")
        .join(year_ago, on=[*SERIES, "_y"], how="left")
        .join(target, on=[*SERIES, "_t"], how="left")
    )
    rows = rows.withColumn("date", F.date_from_unix_date("_t"))
    if plan is None:
        planned = [F.lit(None).cast("double").alias(c) for c in PLANNED_FEATURES]
    else:
        rows = rows.join(_plan(plan), on=KEY, how="left")
        planned = [
            F.col("_plan_promo").cast("double").alias("promo_plan"),
            F.try_divide(F.col("_plan_price"), F.col("_normal_price")).alias("price_vs_normal_plan"),
        ]
    event_days = [F.lit(d) for d in sorted(set(events))]
    is_event = F.col("date").isin(*event_days) if event_days else F.lit(False)
    return rows.select(
        "store_id",
        "sku",
        "date",
        F.date_from_unix_date("_o").alias("origin"),
        "category",
        F.lit(horizon).alias("horizon"),
        F.col("lead").cast("double").alias("lead"),
        F.dayofweek("date").cast("double").alias("day_of_week"),
        F.dayofmonth("date").cast("double").alias("day_of_month"),
        F.month("date").cast("double").alias("month"),
        "same_weekday_last",
        "weekday_mean_8",
        "weekday_index",
        F.try_divide(F.col("_year_ago_mean"), F.col("mean_364")).alias("year_ago_index"),
        is_event.cast("double").alias("event"),
        *STATE_FEATURES,
        *planned,
        "target",
    )


def _plan(plan: DataFrame) -> DataFrame:
    return plan.select(
        F.col("store_id").cast("string").alias("store_id"),
        F.col("sku").cast("string").alias("sku"),
        F.col("date").cast("date").alias("date"),
        F.col("promo").cast("boolean").alias("_plan_promo"),
        F.col("price").cast("double").alias("_plan_price"),
    )


def _unix(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def origin_lattice(anchor: date, *, until: date, step_days: int, origins: int) -> list[date]:
    """The training origins, oldest first: the latest `origins` days anchor + j * step_days (any integer j) that
    are before `until`."""
    if step_days < 1 or origins < 1:
        raise ValueError(f"origin_step_days and origins must be >= 1, got {step_days}, {origins}")
    latest = anchor + timedelta(days=step_days * (((until - anchor).days - 1) // step_days))
    return [latest - timedelta(days=step_days * j) for j in reversed(range(origins))]


def build_training_frame(
    item_store_day: DataFrame,
    *,
    as_of: date,
    horizon: int,
    anchor: date,
    step_days: int,
    origins: int,
    events: Sequence[date] = (),
) -> DataFrame:
    """Training rows: origins of origin_lattice(anchor, until=as_of), each with every lead whose day is <= as_of and
    observed (not stocked out), for series with an observed day in the LONG_WINDOW days up to the origin.

    Columns FRAME_COLUMNS; `target` is the units of `date`; promo_plan / price_vs_normal_plan are the day's realised
    promotion and price (what a plan says at forecast time; used only by a model with use_plan); `horizon`
    (constant) is the longest lead the frame was built for, so a model and the frames it scores cannot disagree.
    Data after as_of is never read.
    """
    _check_input(item_store_day, horizon)
    days = origin_lattice(anchor, until=as_of, step_days=step_days, origins=origins)
    start = days[0] - timedelta(days=lookback_days())
    past = _typed(item_store_day).where((F.col("date") > F.lit(start)) & (F.col("date") <= F.lit(as_of)))
    state = _state(past, base=start)
    keep = F.col("_day").isin(*[_unix(d) for d in days]) & F.col("mean_91").isNotNull()
    realised = past.select(*KEY, "promo", "price")  # a target day's own promotion and price stand in for its plan
    rows = _rows(state, keep, horizon=horizon, last_target=as_of, events=events, plan=realised)
    return rows.where(F.col("target").isNotNull()).select(*FRAME_COLUMNS)


def lattice_training_frame(
    item_store_day: DataFrame, *, as_of: date, horizon: int, anchor: date, lattice: DemandFrame
) -> DataFrame:
    """build_training_frame with the origin lattice and events of conf `ml.demand.frame`."""
    return build_training_frame(
        item_store_day,
        as_of=as_of,
        horizon=horizon,
        anchor=anchor,
        step_days=lattice.origin_step_days,
        origins=lattice.origins,
        events=lattice.events,
    )


def build_forecast_frame(
    item_store_day: DataFrame,
    *,
    as_of: date,
    horizon: int,
    plan: DataFrame | None = None,
    events: Sequence[date] = (),
) -> DataFrame:
    """Feature rows for days as_of+1 .. as_of+horizon (origin as_of) of every series seen in the lookback.

    Only history <= as_of is read; a series without a row on as_of itself gets one with unknown units, so its
    windows still end at as_of. `plan` (store_id, sku, date, promo, price) supplies the target days' planned
    promotions and prices; without it promo_plan / price_vs_normal_plan are null. `target` is null.
    """
    _check_input(item_store_day, horizon)
    start = as_of - timedelta(days=lookback_days())
    past = _typed(item_store_day).where((F.col("date") > F.lit(start)) & (F.col("date") <= F.lit(as_of)))
    last = Window.partitionBy(*SERIES).orderBy(F.col("date").desc())
    latest = past.withColumn("_n", F.row_number().over(last)).where("_n = 1")
    missing = latest.where(F.col("date") < F.lit(as_of)).select(
        *SERIES,
        "category",
        F.lit(as_of).alias("date"),
        F.lit(None).cast("double").alias("units"),
        F.lit(None).cast(T.BooleanType()).alias("stockout"),
        F.lit(None).cast(T.BooleanType()).alias("promo"),
        "price",
        "list_price",
    )
    state = _state(past.unionByName(missing), base=start)
    at_origin = F.col("_day") == F.lit(_unix(as_of))
    return _rows(state, at_origin, horizon=horizon, last_target=None, events=events, plan=plan).select(*FRAME_COLUMNS)
