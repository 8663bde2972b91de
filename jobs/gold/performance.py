"""Period-over-period facts: gold.brand_performance (brand x channel x week) and gold.gmv_decomposition
(GMV = visitors x conversion x AOV per channel x day and week, with each factor's share of the change).

Weeks are ISO weeks (week_start: the Monday). Every period is compared with the one before it (the day before, the
week before); a row exists for a period with activity in it or in the period before, up to `until` (the current
week holds its days up to `until`: `days` says how many).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.gold.sales import SUM_MONEY

PERIOD_DAYS = {"day": 1, "week": 7}


def _start(period_type: str, col: str) -> Column:
    return F.col(col) if period_type == "day" else F.date_trunc("week", F.col(col)).cast("date")


def _days(period_type: str, until: date) -> Column:
    """Days of the period up to `until`."""
    if period_type == "day":
        return F.lit(1)
    return F.least(F.lit(7), F.datediff(F.lit(until), F.col("period_start")) + 1)


def _with_previous(current: DataFrame, key: list[str], measures: list[str], step: Column, *, until: date) -> DataFrame:
    """`current` (key includes period_start) beside the previous period's `measures` (prev_<m>, 0 when it had no
    row); rows of a period with a row in it or in the previous one, starting on or before `until`."""
    previous = current.select(
        *[c for c in key if c != "period_start"],
        F.date_add(F.col("period_start"), step).alias("period_start"),
        *[F.col(m).alias(f"prev_{m}") for m in measures],
    )
    joined = current.join(previous, on=key, how="full").where(F.col("period_start") <= F.lit(until))
    return joined.withColumns({c: F.coalesce(F.col(c), F.lit(0)) for m in measures for c in (m, f"prev_{m}")})


def brand_performance(lines: DataFrame, products: DataFrame, *, until: date) -> DataFrame:
    """Per ISO week x brand x channel, sales dated up to `until`: units, orders, revenue, the channel's revenue
    that week, share_of_channel (revenue / channel revenue), the previous week's revenue and revenue_growth
    (revenue / previous - 1, null when the previous week sold nothing). A SKU missing from the catalog: brand
    `unknown`."""
    brand = products.select("sku", "brand")
    weekly = (
        lines.where(F.col("order_date") <= F.lit(until))
        .join(brand, on="sku", how="left")
        .groupBy(
            _start("week", "order_date").alias("period_start"),
            F.coalesce(F.col("brand"), F.lit("unknown")).alias("brand"),
            "channel",
        )
        .agg(
            F.sum(F.col("quantity").cast("long")).alias("units"),
            F.countDistinct("order_id").alias("orders"),
            F.sum("net_amount").cast(SUM_MONEY).alias("revenue"),
        )
    )
    key = ["period_start", "brand", "channel"]
    df = _with_previous(weekly, key, ["units", "orders", "revenue"], F.lit(7), until=until)
    channel_revenue = F.sum("revenue").over(Window.partitionBy("period_start", "channel")).cast(SUM_MONEY)
    df = df.withColumn("channel_revenue", channel_revenue)
    return df.select(
        F.col("period_start").alias("week_start"),
        "brand",
        "channel",
        _days("week", until).alias("days"),
        F.col("units").cast("long").alias("units"),
        F.col("orders").cast("long").alias("orders"),
        F.col("revenue").cast(SUM_MONEY).alias("revenue"),
        "channel_revenue",
        F.round(F.try_divide(F.col("revenue").cast("double"), F.col("channel_revenue").cast("double")), 4).alias(
            "share_of_channel"
        ),
        F.col("prev_revenue").cast(SUM_MONEY).alias("prev_revenue"),
        F.round(
            F.when(F.col("prev_revenue") > 0, F.col("revenue").cast("double") / F.col("prev_revenue") - 1), 4
        ).alias("revenue_growth"),
    )


def _channel_days(lines: DataFrame, funnel: DataFrame, *, until: date) -> DataFrame:
    """Per business date x channel: visitors (sessions with a view), orders (distinct) and gmv (net revenue)."""
    sales = (
        lines.where(F.col("order_date") <= F.lit(until))
        .groupBy(F.col("order_date").alias("business_date"), "channel")
        .agg(F.countDistinct("order_id").alias("orders"), F.sum("net_amount").alias("gmv"))
    )
    visits = funnel.where(F.col("business_date") <= F.lit(until)).select(
        "business_date", "channel", F.col("view_sessions").alias("visitors")
    )
    return sales.join(visits, on=["business_date", "channel"], how="full")


def gmv_decomposition(lines: DataFrame, funnel: DataFrame, *, until: date) -> DataFrame:
    """Per channel x period (day, week) up to `until`: visitors x conversion x AOV = GMV, and the change in GMV
    against the previous period split into the factors' contributions by a sequential (chained) decomposition in
    the order visitors -> conversion -> AOV, which adds up exactly:
        visitors_effect   = (V1 - V0) x C0 x A0
        conversion_effect = V1 x (C1 - C0) x A0
        aov_effect        = V1 x C1 x (A1 - A0) = O1 x (A1 - A0)
    (V visitors, C = orders / visitors, A = GMV / orders, O orders; 0 = previous period, 1 = this one; A and C
    count as 0 without orders or visitors). orders_effect = visitors_effect + conversion_effect = (O1 - O0) x A0.
    Each effect is rounded to cents and aov_effect is the change less orders_effect, so orders_effect + aov_effect
    = gmv_change exactly. A period with orders but no visitors (a channel without sessions: POS, marketplace)
    has no visitor identity: there visitors_effect and conversion_effect are null and only orders_effect and
    aov_effect split the change."""
    daily = _channel_days(lines, funnel, until=until)
    measures = ["visitors", "orders", "gmv"]
    frames = []
    for period_type, days in PERIOD_DAYS.items():
        periods = daily.groupBy("channel", _start(period_type, "business_date").alias("period_start")).agg(
            *[F.sum(m).alias(m) for m in measures]
        )
        frames.append(
            _with_previous(periods, ["channel", "period_start"], measures, F.lit(days), until=until).select(
                "channel",
                F.lit(period_type).alias("period_type"),
                "period_start",
                _days(period_type, until).alias("days"),
                *[c for m in measures for c in (m, f"prev_{m}")],
            )
        )
    df = frames[0].unionByName(frames[1])
    v0, v1 = F.col("prev_visitors"), F.col("visitors")
    o0, o1 = F.col("prev_orders"), F.col("orders")
    a0 = F.coalesce(F.try_divide(F.col("prev_gmv").cast("double"), o0.cast("double")), F.lit(0.0))
    c0 = F.coalesce(F.try_divide(o0.cast("double"), v0.cast("double")), F.lit(0.0))
    change = (F.col("gmv") - F.col("prev_gmv")).cast(SUM_MONEY)
    orders_effect = F.round((o1 - o0) * a0, 2).cast(SUM_MONEY)
    identity = ((v0 > 0) | (o0 == 0)) & ((v1 > 0) | (o1 == 0))  # visitors x conversion = orders in both periods
    visitors_effect = F.when(identity, F.round((v1 - v0) * c0 * a0, 2).cast(SUM_MONEY))
    return df.select(
        "channel",
        "period_type",
        "period_start",
        F.col("days").cast("int").alias("days"),
        F.col("visitors").cast("long").alias("visitors"),
        F.col("orders").cast("long").alias("orders"),
        F.col("gmv").cast(SUM_MONEY).alias("gmv"),
        F.round(F.try_divide(o1.cast("double"), v1.cast("double")), 6).alias("conversion"),
        F.round(F.try_divide(F.col("gmv").cast("double"), o1.cast("double")), 2).alias("aov"),
        F.col("prev_visitors").cast("long").alias("prev_visitors"),
        F.col("prev_orders").cast("long").alias("prev_orders"),
        F.col("prev_gmv").cast(SUM_MONEY).alias("prev_gmv"),
        change.alias("gmv_change"),
        visitors_effect.alias("visitors_effect"),
        F.when(identity, orders_effect - visitors_effect).cast(SUM_MONEY).alias("conversion_effect"),
        orders_effect.alias("orders_effect"),
        (change - orders_effect).cast(SUM_MONEY).alias("aov_effect"),
    )
