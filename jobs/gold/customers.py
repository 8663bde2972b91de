"""Customer snapshots as of a date: gold.customer_360 and gold.rfm_segments."""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import RfmTiers, Tier
from jobs.gold.sales import SUM_MONEY, customer_returns, order_totals


def _top(df: DataFrame, key: str, value: str, rank_by: str) -> DataFrame:
    """Per `key`, the `value` with the largest `rank_by` (ties: smallest value), deterministic."""
    w = Window.partitionBy(key).orderBy(F.col(rank_by).desc(), F.col(value).asc())
    return df.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").select(key, value)


def of_touched(df: DataFrame, touched: DataFrame) -> DataFrame:
    """`df`'s rows of the touched customers (a semi join on customer_id; see jobs/io/touched.py)."""
    return df.join(touched, on="customer_id", how="left_semi")


def carried(previous: DataFrame, touched: DataFrame, *, as_of: date) -> DataFrame:
    """A base snapshot's rows of the customers not touched, as of `as_of`."""
    return previous.join(touched, on="customer_id", how="left_anti").withColumn("as_of", F.lit(as_of))


def _preferences(lines: DataFrame, products: DataFrame, orders: DataFrame) -> DataFrame:
    by_category = (
        lines.join(products.select("sku", "category"), on="sku", how="left")
        .where(F.col("category").isNotNull())
        .groupBy("customer_id", "category")
        .agg(F.sum("net_amount").alias("revenue"))
    )
    by_channel = orders.groupBy("customer_id", "channel").agg(F.count("*").alias("orders"))
    return (
        _top(by_category, "customer_id", "category", "revenue")
        .withColumnRenamed("category", "preferred_category")
        .join(
            _top(by_channel, "customer_id", "channel", "orders").withColumnRenamed("channel", "preferred_channel"),
            on="customer_id",
            how="full",
        )
    )


def customer_360(
    lines: DataFrame, returns: DataFrame, products: DataFrame, customers: DataFrame, *, as_of: date
) -> DataFrame:
    """One row per customer known by `as_of`: purchase history, returns, preferences, tier and consent."""
    lines = lines.where((F.col("order_date") <= F.lit(as_of)) & F.col("customer_id").isNotNull())
    orders = order_totals(lines)
    costed = lines.join(products.select("sku", "unit_cost"), on="sku", how="left")
    stats = (
        orders.groupBy("customer_id")
        .agg(
            F.array_sort(F.collect_set("channel")).alias("channels"),
            F.min("order_date").alias("first_purchase_date"),
            F.max("order_date").alias("last_purchase_date"),
            F.count("*").alias("orders"),
            F.sum("units").alias("units"),
            F.sum("revenue").alias("revenue"),
        )
        .join(
            costed.groupBy("customer_id").agg(
                F.sum(F.col("net_amount") - F.col("quantity") * F.col("unit_cost")).alias("margin")
            ),
            on="customer_id",
            how="left",
        )
    )
    returned = (
        customer_returns(returns, lines, as_of=as_of)
        .groupBy("customer_id")
        .agg(
            F.countDistinct("return_id").alias("returns"),
            F.sum(F.col("quantity").cast("long")).alias("returned_units"),
            F.sum("refund_amount").alias("refund_amount"),
        )
    )
    known = customers.where(F.to_date(F.coalesce("first_seen_ts", "joined_ts")) <= F.lit(as_of)).select(
        "customer_id", "tier", "consent_email", "consent_sms"
    )
    zero = F.lit(0)
    return (
        known.join(stats, on="customer_id", how="full")
        .join(returned, on="customer_id", how="left")
        .join(_preferences(lines, products, orders), on="customer_id", how="left")
        .select(
            F.lit(as_of).alias("as_of"),
            "customer_id",
            F.coalesce("channels", F.array().cast("array<string>")).alias("channels"),
            "first_purchase_date",
            "last_purchase_date",
            F.coalesce("orders", zero).cast("long").alias("orders"),
            F.coalesce("units", zero).cast("long").alias("units"),
            F.coalesce("revenue", zero).cast(SUM_MONEY).alias("revenue"),
            F.coalesce("margin", zero).cast(SUM_MONEY).alias("margin"),
            F.coalesce("returns", zero).cast("long").alias("returns"),
            F.coalesce("returned_units", zero).cast("long").alias("returned_units"),
            F.coalesce("refund_amount", zero).cast(SUM_MONEY).alias("refund_amount"),
            "preferred_category",
            "preferred_channel",
            F.col("tier").alias("member_tier"),
            "consent_email",
            "consent_sms",
        )
    )


def customer_360_since(
    previous: DataFrame,
    touched: DataFrame,
    lines: DataFrame,
    returns: DataFrame,
    products: DataFrame,
    customers: DataFrame,
    *,
    as_of: date,
) -> DataFrame:
    """customer_360 as of `as_of` from the snapshot `previous` (an earlier as_of): the `touched` customers
    recomputed from their history, every other row carried (no column of it measures time since a date)."""
    fresh = customer_360(of_touched(lines, touched), returns, products, of_touched(customers, touched), as_of=as_of)
    return carried(previous, touched, as_of=as_of).select(*fresh.columns).unionByName(fresh)


def _tier_condition(tier: Tier) -> Column:
    cond = F.lit(True)
    if tier.max_recency_days is not None:
        cond = cond & (F.col("recency_days") < tier.max_recency_days)
    if tier.min_recency_days is not None:
        cond = cond & (F.col("recency_days") > tier.min_recency_days)
    if tier.min_orders is not None:
        cond = cond & (F.col("frequency") > tier.min_orders)
    if tier.min_spend is not None:
        cond = cond & (F.col("monetary") > F.lit(tier.min_spend))
    return cond


def _quintile(col: str, ascending: bool) -> Column:
    # cume_dist gives tied values the same score, so scores do not depend on row order (ntile would)
    order = F.col(col).asc() if ascending else F.col(col).desc()
    return F.ceil(F.round(F.cume_dist().over(Window.partitionBy(F.lit(1)).orderBy(order)) * 5, 6)).cast("int")


def rfm_measures(lines: DataFrame, *, as_of: date) -> DataFrame:
    """Per customer with a purchase by `as_of`: recency_days (since the last purchase), frequency (orders) and
    monetary (revenue), over their whole history."""
    orders = order_totals(lines.where((F.col("order_date") <= F.lit(as_of)) & F.col("customer_id").isNotNull()))
    return orders.groupBy("customer_id").agg(
        F.datediff(F.lit(as_of), F.max("order_date")).alias("recency_days"),
        F.count("*").alias("frequency"),
        F.sum("revenue").cast(SUM_MONEY).alias("monetary"),
    )


def rfm_segments(lines: DataFrame, *, as_of: date, tiers: RfmTiers) -> DataFrame:
    """Recency (days since last purchase), lifetime frequency and monetary up to `as_of`, 1-5 quintile scores
    (5 = most recent / most frequent / highest spend), the first matching business tier and its size."""
    return rfm_scored(rfm_measures(lines, as_of=as_of), as_of=as_of, tiers=tiers)


def rfm_segments_since(
    previous: DataFrame, touched: DataFrame, lines: DataFrame, *, as_of: date, tiers: RfmTiers
) -> DataFrame:
    """rfm_segments as of `as_of` from the snapshot `previous` (an earlier as_of): the measures of the `touched`
    customers recomputed, the others' carried (recency grows by the days between), every score recomputed (a
    quintile is over all customers)."""
    shift = F.datediff(F.lit(as_of), F.col("as_of"))
    kept = previous.join(touched, on="customer_id", how="left_anti").select(
        "customer_id", (F.col("recency_days") + shift).alias("recency_days"), "frequency", "monetary"
    )
    fresh = rfm_measures(of_touched(lines, touched), as_of=as_of)
    return rfm_scored(kept.unionByName(fresh.select(*kept.columns)), as_of=as_of, tiers=tiers)


def rfm_scored(rfm: DataFrame, *, as_of: date, tiers: RfmTiers) -> DataFrame:
    """rfm_segments' rows from the measures: quintile scores over all customers, tier and tier size."""
    tier = F.lit(tiers.default_tier)
    for rule in reversed(tiers.tiers):
        tier = F.when(_tier_condition(rule), F.lit(rule.name)).otherwise(tier)
    scored = rfm.select(
        "*",
        _quintile("recency_days", ascending=False).alias("r_score"),
        _quintile("frequency", ascending=True).alias("f_score"),
        _quintile("monetary", ascending=True).alias("m_score"),
        tier.alias("tier"),
    )
    return scored.select(
        F.lit(as_of).alias("as_of"),
        "customer_id",
        "recency_days",
        F.col("frequency").cast("long"),
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        F.concat_ws("", "r_score", "f_score", "m_score").alias("rfm_score"),
        "tier",
        F.count("*").over(Window.partitionBy("tier")).alias("tier_customers"),
    )
