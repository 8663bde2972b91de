"""gold.alerts: rows raised by the threshold rules of conf `gold.alerts`, with the numbers behind them.

Every rule is evaluated per business date from data up to that date, so a past day's alerts can be rebuilt
exactly when late data arrives.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import AlertRules

COLUMNS = ["business_date", "rule", "severity", "entity_type", "entity_id", "metric", "baseline", "threshold", "detail"]


def _alert(
    df: DataFrame,
    rule: str,
    severity: Column,
    entity_type: str,
    entity_id: Column,
    metric: Column,
    baseline: Column,
    threshold: Column,
    detail: Column,
) -> DataFrame:
    return df.select(
        "business_date",
        F.lit(rule).alias("rule"),
        severity.alias("severity"),
        F.lit(entity_type).alias("entity_type"),
        entity_id.alias("entity_id"),
        metric.cast("double").alias("metric"),
        baseline.cast("double").alias("baseline"),
        threshold.cast("double").alias("threshold"),
        detail.alias("detail"),
    )


def _day_over_day(today: DataFrame, key: str, value: str) -> DataFrame:
    """`value` per (business_date, key) beside the previous day's, on dates that have data; a key without a
    row on such a date counts as 0 that day."""
    prev = today.select(F.date_add("business_date", 1).alias("business_date"), key, F.col(value).alias("before"))
    return (
        prev.join(today.select("business_date").distinct(), on="business_date", how="inner")
        .join(today.select("business_date", key, F.col(value).alias("now")), on=["business_date", key], how="left")
        .withColumn("now", F.coalesce("now", F.lit(0.0)))
    )


def sales_drop(daily_sales: DataFrame, *, rules: AlertRules) -> DataFrame:
    revenue = daily_sales.groupBy("business_date", "channel").agg(F.sum("revenue").cast("double").alias("revenue"))
    d = _day_over_day(revenue, "channel", "revenue").withColumn("drop", 1 - F.try_divide("now", "before"))
    d = d.where((F.col("before") >= rules.sales_drop.min_base_revenue) & (F.col("drop") >= rules.sales_drop.min_drop))
    sev = F.when(F.col("drop") >= rules.sales_drop.high_drop, "high").otherwise("medium")
    detail = F.format_string("revenue %.2f vs %.2f the day before (-%.0f%%)", "now", "before", F.col("drop") * 100)
    return _alert(
        d,
        "sales_drop",
        sev,
        "channel",
        F.col("channel"),
        F.col("now"),
        F.col("before"),
        F.lit(rules.sales_drop.min_drop),
        detail,
    )


def conversion_drop(funnel: DataFrame, *, rules: AlertRules) -> DataFrame:
    f = funnel.where(F.col("view_sessions") >= rules.conversion_drop.min_views)
    d = _day_over_day(f.withColumn("rate", F.col("conversion_rate").cast("double")), "channel", "rate")
    d = d.join(f.select("business_date", "channel"), on=["business_date", "channel"], how="inner")
    d = d.withColumn("drop", 1 - F.try_divide("now", "before")).where(
        (F.col("before") > 0) & (F.col("drop") >= rules.conversion_drop.min_drop)
    )
    sev = F.when(F.col("drop") >= rules.conversion_drop.high_drop, "high").otherwise("medium")
    detail = F.format_string("conversion %.4f vs %.4f the day before", "now", "before")
    return _alert(
        d,
        "conversion_drop",
        sev,
        "channel",
        F.col("channel"),
        F.col("now"),
        F.col("before"),
        F.lit(rules.conversion_drop.min_drop),
        detail,
    )


def stock_below_reorder(reorder_points: DataFrame) -> DataFrame:
    d = reorder_points.where(F.col("on_hand") < F.col("reorder_point")).withColumnRenamed("date", "business_date")
    sev = F.when(F.col("on_hand") == 0, "high").otherwise("medium")
    detail = F.format_string("on hand %d below reorder point %.2f", "on_hand", "reorder_point")
    return _alert(
        d,
        "stock_below_reorder",
        sev,
        "store_sku",
        F.concat_ws("/", "store_id", "sku"),
        F.col("on_hand"),
        F.col("lead_time_demand"),
        F.col("reorder_point"),
        detail,
    )


def sell_through_low(sell_through: DataFrame, *, rules: AlertRules, flag_below: float) -> DataFrame:
    """Store x category days flagged below `flag_below` (gold.sell_through.flag_below) with enough SKUs in stock."""
    d = sell_through.where(F.col("flagged") & (F.col("skus_in_stock") >= rules.sell_through.min_skus_in_stock))
    detail = F.format_string("%d of %d SKUs in stock sold", "skus_sold", "skus_in_stock")
    return _alert(
        d.withColumnRenamed("date", "business_date"),
        "sell_through_low",
        F.lit("medium"),
        "store_category",
        F.concat_ws("/", "store_id", "category"),
        F.col("sell_through"),
        F.lit(None),
        F.lit(flag_below),
        detail,
    )


def quarantine_spike(batch_audit: DataFrame, *, rules: AlertRules) -> DataFrame:
    """Per delivery date and source: quarantined share of the bronze rows, against the prior days' average."""
    per_day = batch_audit.groupBy(F.col("delivery_date").alias("business_date"), "source").agg(
        F.sum("quarantined").alias("quarantined"), F.sum("bronze_rows").alias("bronze_rows")
    )
    day_no = F.unix_date("business_date")
    prior = Window.partitionBy("source").orderBy(day_no).rangeBetween(-rules.quarantine_spike.baseline_days, -1)
    d = per_day.withColumn("rate", F.try_divide("quarantined", "bronze_rows")).withColumn(
        "baseline", F.coalesce(F.avg("rate").over(prior), F.lit(0.0))
    )
    d = d.where(
        (F.col("rate") > rules.quarantine_spike.max_rate)
        & (F.col("rate") > F.col("baseline") * rules.quarantine_spike.spike_factor)
    )
    sev = F.when(F.col("rate") >= rules.quarantine_spike.high_rate, "high").otherwise("medium")
    detail = F.format_string("%d of %d rows quarantined", "quarantined", "bronze_rows")
    return _alert(
        d,
        "quarantine_spike",
        sev,
        "source",
        F.col("source"),
        F.col("rate"),
        F.col("baseline"),
        F.lit(rules.quarantine_spike.max_rate),
        detail,
    )


def alerts(
    daily_sales: DataFrame,
    funnel: DataFrame,
    reorder_points: DataFrame,
    sell_through: DataFrame,
    batch_audit: DataFrame,
    *,
    rules: AlertRules,
    sell_through_flag_below: float,
) -> DataFrame:
    """All rules' alerts; inputs are gold.daily_sales, gold.funnel, reorder_points_daily, sell_through_daily
    and ops.batch_audit frames."""
    parts = [
        sales_drop(daily_sales, rules=rules),
        conversion_drop(funnel, rules=rules),
        stock_below_reorder(reorder_points),
        sell_through_low(sell_through, rules=rules, flag_below=sell_through_flag_below),
        quarantine_spike(batch_audit, rules=rules),
    ]
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.select(*COLUMNS)
