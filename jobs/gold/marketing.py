"""Marketing facts by business date: gold.funnel and gold.channel_roi (last-touch attribution)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.gold.sales import ORDER_KEY, SUM_MONEY, order_totals

STEPS = ("view", "cart", "order", "paid")


def _rate(num: str, den: str) -> Column:
    return F.round(F.when(F.col(den) > 0, F.col(num) / F.col(den)), 4)


def funnel(events: DataFrame) -> DataFrame:
    """Sessions reaching view, cart, order and paid per business date x channel, and the step rates
    (cart_rate = carts / views, order_rate = orders / carts, paid_rate = paid / orders, conversion = paid / views)."""
    counts = events.groupBy(F.col("event_date").alias("business_date"), "channel").agg(
        *[
            F.countDistinct(F.when(F.col("event_type") == step, F.col("session_id"))).alias(f"{step}_sessions")
            for step in STEPS
        ]
    )
    return counts.select(
        "business_date",
        "channel",
        *[f"{s}_sessions" for s in STEPS],
        _rate("cart_sessions", "view_sessions").alias("cart_rate"),
        _rate("order_sessions", "cart_sessions").alias("order_rate"),
        _rate("paid_sessions", "order_sessions").alias("paid_rate"),
        _rate("paid_sessions", "view_sessions").alias("conversion_rate"),
    )


def _touch_key() -> Column:
    # resolved customer when known (cross-device), else the source account within its channel
    return F.coalesce(F.col("customer_id"), F.concat_ws(":", F.col("channel"), F.col("account_id")))


def first_purchases(lines: DataFrame) -> DataFrame:
    """Each customer's first purchase ever (customer_id, channel, order_id): the earliest of their sales lines by
    (order_ts, channel, order_id). A narrow aggregate, so a windowed run can take it from all history cheaply."""
    first = F.min(F.struct("order_ts", "channel", "order_id")).alias("_first")
    return (
        lines.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(first)
        .select("customer_id", F.col("_first.channel").alias("channel"), F.col("_first.order_id").alias("order_id"))
    )


def attribute_orders(
    lines: DataFrame, events: DataFrame, *, window_days: int, first: DataFrame | None = None
) -> DataFrame:
    """Each order with its last touch (an event or the order itself carrying a campaign code) in
    [order_ts - window_days, order_ts] by the same customer (or account), and whether it is the customer's
    first purchase ever (`first`: first_purchases over all history, default: over `lines`). Orders without such
    a touch get null touch_channel / campaign_id."""
    orders = order_totals(lines)
    firsts = (
        (first if first is not None else first_purchases(lines))
        .select("channel", "order_id", F.lit(True).alias("is_new"))
        .distinct()
    )
    orders = orders.join(firsts, on=ORDER_KEY, how="left").withColumn(
        "is_new", F.col("customer_id").isNotNull() & F.coalesce(F.col("is_new"), F.lit(False))
    )
    orders = orders.withColumn("_key", _touch_key())
    touches = (
        events.where(F.col("campaign_code").isNotNull())
        .select(
            _touch_key().alias("_key"),
            F.col("event_ts").alias("touch_ts"),
            F.col("channel").alias("touch_channel"),
            F.col("campaign_code").alias("campaign_id"),
        )
        .unionByName(
            orders.where(F.col("campaign_code").isNotNull()).select(
                "_key",
                F.col("order_ts").alias("touch_ts"),
                F.col("channel").alias("touch_channel"),
                F.col("campaign_code").alias("campaign_id"),
            )
        )
    )
    o, t = orders.alias("o"), touches.alias("t")
    cond = (
        (F.col("o._key") == F.col("t._key"))
        & (F.col("t.touch_ts") <= F.col("o.order_ts"))
        & (F.col("t.touch_ts") >= F.col("o.order_ts") - F.expr(f"INTERVAL {int(window_days)} DAYS"))
    )
    last = Window.partitionBy("o.channel", "o.order_id").orderBy(
        F.col("t.touch_ts").desc(), F.col("t.campaign_id").desc(), F.col("t.touch_channel").desc()
    )
    return (
        o.join(t, on=cond, how="left")
        .withColumn("_rn", F.row_number().over(last))
        .where("_rn = 1")
        .select(
            "o.channel",
            "o.order_id",
            "o.customer_id",
            "o.order_ts",
            "o.order_date",
            "o.revenue",
            "o.is_new",
            "t.touch_channel",
            "t.campaign_id",
        )
    )


def channel_roi(
    lines: DataFrame, events: DataFrame, spend: DataFrame, *, window_days: int, first: DataFrame | None = None
) -> DataFrame:
    """Per business date x marketing channel x campaign: spend, impressions, clicks, last-touch attributed
    orders, revenue and new customers (first purchase ever), ROI = (revenue - spend) / spend, CAC = spend / new.

    A campaign's channel is the one its spend is booked on (a CRM e-mail's code is clicked through to web or app
    sessions: its revenue counts for crm); a code with no spend rows keeps the channel it was seen on. `first`: as in
    attribute_orders."""
    attributed = attribute_orders(lines, events, window_days=window_days, first=first).where(
        F.col("campaign_id").isNotNull()
    )
    key = ["business_date", "channel", "campaign_id"]
    booked = spend.groupBy("campaign_id").agg(F.min("channel").alias("_booked"))
    revenue = (
        attributed.join(F.broadcast(booked), on="campaign_id", how="left").groupBy(
            F.col("order_date").alias("business_date"),
            F.coalesce("_booked", "touch_channel").alias("channel"),
            "campaign_id",
        )
    ).agg(
        F.count("*").alias("attributed_orders"),
        F.sum("revenue").alias("attributed_revenue"),
        F.countDistinct(F.when(F.col("is_new"), F.col("customer_id"))).alias("new_customers"),
    )
    cost = spend.groupBy(F.col("spend_date").alias("business_date"), "channel", "campaign_id").agg(
        F.sum("spend").alias("spend"), F.sum("impressions").alias("impressions"), F.sum("clicks").alias("clicks")
    )
    df = cost.join(revenue, on=key, how="full")
    spent = F.coalesce(F.col("spend"), F.lit(0)).cast(SUM_MONEY)
    rev = F.coalesce(F.col("attributed_revenue"), F.lit(0)).cast(SUM_MONEY)
    new = F.coalesce(F.col("new_customers"), F.lit(0)).cast("long")
    return df.select(
        *key,
        spent.alias("spend"),
        F.coalesce("impressions", F.lit(0)).cast("long").alias("impressions"),
        F.coalesce("clicks", F.lit(0)).cast("long").alias("clicks"),
        F.coalesce("attributed_orders", F.lit(0)).cast("long").alias("attributed_orders"),
        rev.alias("attributed_revenue"),
        new.alias("new_customers"),
        F.round(F.when(spent > 0, (rev - spent) / spent), 4).cast("double").alias("roi"),
        F.round(F.when(new > 0, spent / new), 2).cast(SUM_MONEY).alias("cac"),
    )
