"""features.customer_asof: point-in-time customer features. Only data dated on or before `as_of` is used."""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.gold.customers import of_touched
from jobs.gold.sales import customer_returns, order_totals

ENGAGEMENT_TYPES = ("view", "cart")


def _since(col: str, as_of: date, days: int) -> Column:
    """`col` within the `days` days ending on `as_of` (both ends included)."""
    return F.col(col) > F.lit(as_of - timedelta(days=days))


def _rfm(orders: DataFrame, *, as_of: date, windows: tuple[int, ...], channels: tuple[str, ...]) -> DataFrame:
    aggs = [
        F.count("*").alias("frequency"),
        F.sum("revenue").cast("double").alias("monetary"),
        F.sum("units").alias("_units"),
        F.datediff(F.lit(as_of), F.max("order_date")).alias("recency_days"),
        F.datediff(F.lit(as_of), F.min("order_date")).alias("tenure_days"),
    ]
    for days in windows:
        inside = _since("order_date", as_of, days)
        aggs += [
            F.count(F.when(inside, 1)).alias(f"orders_{days}d"),
            F.coalesce(F.sum(F.when(inside, F.col("revenue"))), F.lit(0)).cast("double").alias(f"revenue_{days}d"),
        ]
    for channel in channels:
        aggs.append(F.count(F.when(F.col("channel").startswith(channel), 1)).alias(f"_n_{channel}"))
    rfm = orders.groupBy("customer_id").agg(*aggs)
    shares = [F.round(F.col(f"_n_{c}") / F.col("frequency"), 4).alias(f"channel_share_{c}") for c in channels]
    return rfm.select("*", *shares).drop(*[f"_n_{c}" for c in channels])


def _gaps(orders: DataFrame, *, as_of: date) -> DataFrame:
    """Inter-purchase gaps in days between consecutive purchase dates: mean, std, last; recency / usual gap."""
    days = orders.select("customer_id", "order_date").distinct()
    prev = Window.partitionBy("customer_id").orderBy("order_date")
    gaps = days.withColumn("gap", F.datediff("order_date", F.lag("order_date").over(prev)))
    return (
        gaps.groupBy("customer_id")
        .agg(
            F.round(F.avg("gap"), 4).alias("gap_mean_days"),
            F.round(F.stddev_samp("gap"), 4).alias("gap_std_days"),
            F.max_by("gap", "order_date").alias("gap_last_days"),
            F.datediff(F.lit(as_of), F.max("order_date")).alias("_recency"),
        )
        .select(
            "customer_id",
            "gap_mean_days",
            "gap_std_days",
            "gap_last_days",
            F.round(F.col("_recency") / F.col("gap_mean_days"), 4).alias("recency_gap_ratio"),
        )
    )


def _categories(lines: DataFrame, products: DataFrame) -> DataFrame:
    by_cat = (
        lines.join(products.select("sku", "category"), on="sku", how="inner")
        .groupBy("customer_id", "category")
        .agg(F.sum("net_amount").cast("double").alias("rev"))
    )
    return by_cat.groupBy("customer_id").agg(
        F.count("*").alias("categories"),
        F.min_by("category", F.struct(-F.col("rev"), F.col("category"))).alias("top_category"),
        F.round(F.max("rev") / F.sum("rev"), 4).alias("top_category_share"),
    )


def _engagement(events: DataFrame, *, as_of: date, days: int) -> DataFrame:
    seen = events.where(F.col("customer_id").isNotNull() & (F.col("event_date") <= F.lit(as_of)))
    inside = _since("event_date", as_of, days)
    return seen.groupBy("customer_id").agg(
        F.count(F.when(inside, 1)).alias(f"events_{days}d"),
        F.countDistinct(F.when(inside, F.col("session_id"))).alias(f"sessions_{days}d"),
        *[F.count(F.when(inside & (F.col("event_type") == t), 1)).alias(f"{t}s_{days}d") for t in ENGAGEMENT_TYPES],
        F.datediff(F.lit(as_of), F.max("event_date")).alias("days_since_last_event"),
    )


def customer_asof(
    lines: DataFrame,
    returns: DataFrame,
    events: DataFrame,
    products: DataFrame,
    *,
    as_of: date,
    windows: tuple[int, ...],
    channels: tuple[str, ...],
    engagement_days: int,
) -> DataFrame:
    """One row per customer with a purchase on or before `as_of` (inclusive): RFM over each window, lifetime
    RFM and tenure, channel shares, category mix, return rate, inter-purchase gaps and event engagement."""
    lines = lines.where((F.col("order_date") <= F.lit(as_of)) & F.col("customer_id").isNotNull())
    orders = order_totals(lines)
    returned = (
        customer_returns(returns, lines, as_of=as_of).groupBy("customer_id").agg(F.sum("quantity").alias("_returned"))
    )
    engagement = _engagement(events, as_of=as_of, days=engagement_days)
    df = (
        _rfm(orders, as_of=as_of, windows=windows, channels=channels)
        .join(_gaps(orders, as_of=as_of), on="customer_id", how="left")
        .join(_categories(lines, products), on="customer_id", how="left")
        .join(returned, on="customer_id", how="left")
        .join(engagement, on="customer_id", how="left")
    )
    window_cols = [c for d in windows for c in (f"orders_{d}d", f"revenue_{d}d")]
    counts = [
        f"events_{engagement_days}d",
        f"sessions_{engagement_days}d",
        *[f"{t}s_{engagement_days}d" for t in ENGAGEMENT_TYPES],
    ]
    return df.select(
        F.lit(as_of).alias("as_of"),
        "customer_id",
        "recency_days",
        F.col("frequency").cast("long"),
        F.round("monetary", 2).alias("monetary"),
        "tenure_days",
        *window_cols,
        *[f"channel_share_{c}" for c in channels],
        F.coalesce("categories", F.lit(0)).cast("long").alias("categories"),
        "top_category",
        "top_category_share",
        F.round(F.coalesce("_returned", F.lit(0)) / F.col("_units"), 4).alias("return_rate"),
        "gap_mean_days",
        "gap_std_days",
        "gap_last_days",
        "recency_gap_ratio",
        *[F.coalesce(c, F.lit(0)).cast("long").alias(c) for c in counts],
        "days_since_last_event",
    )


def customer_asof_since(
    previous: DataFrame,
    touched: DataFrame,
    lines: DataFrame,
    returns: DataFrame,
    events: DataFrame,
    products: DataFrame,
    *,
    as_of: date,
    windows: tuple[int, ...],
    channels: tuple[str, ...],
    engagement_days: int,
) -> DataFrame:
    """customer_asof as of `as_of` from the snapshot `previous` (an earlier as_of): the `touched` customers
    (jobs/io/touched.py: with purchases, returns or events since, or leaving a window) recomputed, the others
    carried with the days since their last purchase, first purchase and last event grown by the days between."""
    fresh = customer_asof(
        of_touched(lines, touched),
        returns,
        of_touched(events, touched),
        products,
        as_of=as_of,
        windows=windows,
        channels=channels,
        engagement_days=engagement_days,
    )
    shift = F.datediff(F.lit(as_of), F.col("as_of"))
    grown = {c: F.col(c) + shift for c in ("recency_days", "tenure_days", "days_since_last_event")}
    grown["recency_gap_ratio"] = F.round(grown["recency_days"] / F.col("gap_mean_days"), 4)
    kept = previous.join(touched, on="customer_id", how="left_anti").select(
        F.lit(as_of).alias("as_of"),
        *[grown[c].alias(c) if c in grown else F.col(c) for c in fresh.columns if c != "as_of"],
    )
    return kept.unionByName(fresh)
