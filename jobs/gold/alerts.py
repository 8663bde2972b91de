"""gold.alerts and gold.alert_digest: what the threshold rules of conf `gold.alerts` raise, with the numbers behind
them, and each day's top alerts.

Each rule yields its condition per entity and day (with a severity); an alert is raised on the day the condition
holds and did not hold at that severity or above on the rule's `suppress_days` days before: a new condition, or
one that got worse. That is a function of the conditions over [d - suppress_days, d] only (never of earlier
alerts), so a past day's alerts can be rebuilt exactly when late data arrives.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import AlertRules, SkuTrendAlert, SkuTrendRules
from jobs.gold.trends import BREAKOUT, COLLAPSE

COLUMNS = [
    "business_date",
    "rule",
    "severity",
    "entity_type",
    "entity_id",
    "metric",
    "baseline",
    "threshold",
    "detail",
    "status",
    "since",
    "days_active",
    "priority",
]
DIGEST_COLUMNS = [
    "business_date",
    "rank",
    "rule",
    "severity",
    "status",
    "entity_type",
    "entity_id",
    "priority",
    "since",
    "days_active",
    "detail",
]
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
ENTITY = ["rule", "entity_type", "entity_id"]


def _severity_rank(severity: Column) -> Column:
    return F.create_map(*[F.lit(x) for kv in SEVERITY_RANK.items() for x in kv])[severity]


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
    score: Column,
) -> DataFrame:
    """A rule's conditions: one row per entity and day it holds; `score` in [0, 1] ranks them."""
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
        F.least(F.greatest(score.cast("double"), F.lit(0.0)), F.lit(1.0)).alias("score"),
    )


def raise_on_onset(conditions: DataFrame, *, suppress_days: int, weight: float) -> DataFrame:
    """The conditions (from `_alert`) that raise an alert: `new` when the entity's condition did not hold on any of
    the `suppress_days` days before, `escalated` when it held only at a lower severity; `since` / `days_active`:
    the first day and the number of days it held in [date - suppress_days, date]."""
    day = F.unix_date("business_date")
    before = Window.partitionBy(*ENTITY).orderBy(day).rangeBetween(-suppress_days, -1)
    span = Window.partitionBy(*ENTITY).orderBy(day).rangeBetween(-suppress_days, 0)
    # suppress_days 0: no days before (an empty frame Spark rejects), every day's condition raises
    prior = F.max("_rank").over(before) if suppress_days else F.lit(None).cast("int")
    d = conditions.withColumn("_rank", _severity_rank(F.col("severity"))).select(
        "*",
        prior.alias("_before"),
        F.min("business_date").over(span).alias("since"),
        F.count(F.lit(1)).over(span).alias("days_active"),
    )
    d = d.where(F.col("_before").isNull() | (F.col("_rank") > F.col("_before")))
    status = F.when(F.col("_before").isNull(), "new").otherwise("escalated")
    return d.select(
        *COLUMNS[:9],
        status.alias("status"),
        "since",
        F.col("days_active").cast("int").alias("days_active"),
        F.round(F.col("score") * weight, 4).alias("priority"),
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


def _channel_revenue(daily_sales: DataFrame) -> DataFrame:
    return daily_sales.groupBy("business_date", "channel").agg(F.sum("revenue").cast("double").alias("revenue"))


def sales_drop(daily_sales: DataFrame, *, rules: AlertRules) -> DataFrame:
    r = rules.sales_drop
    d = _day_over_day(_channel_revenue(daily_sales), "channel", "revenue")
    d = d.withColumn("drop", 1 - F.try_divide("now", "before"))
    d = d.where((F.col("before") >= r.min_base_revenue) & (F.col("drop") >= r.min_drop))
    sev = F.when(F.col("drop") >= r.high_drop, "high").otherwise("medium")
    detail = F.format_string("revenue %.2f vs %.2f the day before (-%.0f%%)", "now", "before", F.col("drop") * 100)
    cond = _alert(
        d,
        "sales_drop",
        sev,
        "channel",
        F.col("channel"),
        F.col("now"),
        F.col("before"),
        F.lit(r.min_drop),
        detail,
        F.col("drop"),
    )
    return raise_on_onset(cond, suppress_days=r.suppress_days, weight=r.weight)


def conversion_drop(funnel: DataFrame, *, rules: AlertRules) -> DataFrame:
    r = rules.conversion_drop
    f = funnel.where(F.col("view_sessions") >= r.min_views)
    d = _day_over_day(f.withColumn("rate", F.col("conversion_rate").cast("double")), "channel", "rate")
    d = d.join(f.select("business_date", "channel"), on=["business_date", "channel"], how="inner")
    d = d.withColumn("drop", 1 - F.try_divide("now", "before")).where(
        (F.col("before") > 0) & (F.col("drop") >= r.min_drop)
    )
    sev = F.when(F.col("drop") >= r.high_drop, "high").otherwise("medium")
    detail = F.format_string("conversion %.4f vs %.4f the day before", "now", "before")
    cond = _alert(
        d,
        "conversion_drop",
        sev,
        "channel",
        F.col("channel"),
        F.col("now"),
        F.col("before"),
        F.lit(r.min_drop),
        detail,
        F.col("drop"),
    )
    return raise_on_onset(cond, suppress_days=r.suppress_days, weight=r.weight)


def stock_below_reorder(reorder_points: DataFrame, *, rules: AlertRules) -> DataFrame:
    """On hand below the reorder point (reorder_points_daily). High: a SKU that sells (demand_mean at least
    `stock.min_daily_demand`) out of stock or under its lead-time demand; medium: one that sells below its reorder
    point; low: stock on order covers the reorder point, or a slow seller. Score: the share of the reorder point
    missing."""
    r = rules.stock
    d = reorder_points.where(F.col("on_hand") < F.col("reorder_point")).withColumnRenamed("date", "business_date")
    sells = F.col("demand_mean") >= r.min_daily_demand
    covered = F.col("on_hand") + F.coalesce(F.col("on_order"), F.lit(0)) >= F.col("reorder_point")
    short = (F.col("on_hand") == 0) | (F.col("on_hand") < F.col("lead_time_demand"))
    sev = F.when(covered | ~sells, "low").when(short, "high").otherwise("medium")
    detail = F.format_string("on hand %d below reorder point %.2f", "on_hand", "reorder_point")
    cond = _alert(
        d,
        "stock_below_reorder",
        sev,
        "store_sku",
        F.concat_ws("/", "store_id", "sku"),
        F.col("on_hand"),
        F.col("lead_time_demand"),
        F.col("reorder_point"),
        detail,
        1 - F.col("on_hand") / F.col("reorder_point"),
    )
    return raise_on_onset(cond, suppress_days=r.suppress_days, weight=r.weight)


def sell_through_low(sell_through: DataFrame, *, rules: AlertRules, flag_below: float) -> DataFrame:
    """Store x category days flagged below `flag_below` (gold.sell_through.flag_below) with enough SKUs in stock."""
    r = rules.sell_through
    d = sell_through.where(F.col("flagged") & (F.col("skus_in_stock") >= r.min_skus_in_stock))
    detail = F.format_string("%d of %d SKUs in stock sold", "skus_sold", "skus_in_stock")
    cond = _alert(
        d.withColumnRenamed("date", "business_date"),
        "sell_through_low",
        F.lit("medium"),
        "store_category",
        F.concat_ws("/", "store_id", "category"),
        F.col("sell_through"),
        F.lit(None),
        F.lit(flag_below),
        detail,
        1 - F.col("sell_through") / flag_below,
    )
    return raise_on_onset(cond, suppress_days=r.suppress_days, weight=r.weight)


def quarantine_spike(batch_audit: DataFrame, *, rules: AlertRules) -> DataFrame:
    """Per delivery date and source: quarantined share of the bronze rows, against the prior days' average."""
    r = rules.quarantine_spike
    per_day = batch_audit.groupBy(F.col("delivery_date").alias("business_date"), "source").agg(
        F.sum("quarantined").alias("quarantined"), F.sum("bronze_rows").alias("bronze_rows")
    )
    day_no = F.unix_date("business_date")
    prior = Window.partitionBy("source").orderBy(day_no).rangeBetween(-r.baseline_days, -1)
    d = per_day.withColumn("rate", F.try_divide("quarantined", "bronze_rows")).withColumn(
        "baseline", F.coalesce(F.avg("rate").over(prior), F.lit(0.0))
    )
    d = d.where((F.col("rate") > r.max_rate) & (F.col("rate") > F.col("baseline") * r.spike_factor))
    sev = F.when(F.col("rate") >= r.high_rate, "high").otherwise("medium")
    detail = F.format_string("%d of %d rows quarantined", "quarantined", "bronze_rows")
    cond = _alert(
        d,
        "quarantine_spike",
        sev,
        "source",
        F.col("source"),
        F.col("rate"),
        F.col("baseline"),
        F.lit(r.max_rate),
        detail,
        F.col("rate") / r.high_rate,
    )
    return raise_on_onset(cond, suppress_days=r.suppress_days, weight=r.weight)


def sales_target(daily_sales: DataFrame, *, rules: AlertRules) -> DataFrame | None:
    """Per channel with a monthly target, on every date with sales: month-to-date revenue behind the pro-rata target
    (monthly target x day of month / days in the month) by more than the tolerance; score: the share behind.
    None when no channel has a target."""
    r = rules.sales_target
    if not r.monthly_revenue:
        return None
    targets = F.create_map(*[F.lit(x) for kv in sorted(r.monthly_revenue.items()) for x in kv])
    channels = F.explode(F.array(*[F.lit(c) for c in sorted(r.monthly_revenue)]))
    grid = daily_sales.select("business_date").distinct().select("business_date", channels.alias("channel"))
    month = (
        Window.partitionBy("channel", F.trunc("business_date", "month"))
        .orderBy("business_date")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    d = (
        grid.join(_channel_revenue(daily_sales), on=["business_date", "channel"], how="left")
        .withColumn("mtd", F.sum(F.coalesce(F.col("revenue"), F.lit(0.0))).over(month))
        .withColumn(
            "pace",
            targets[F.col("channel")] * F.dayofmonth("business_date") / F.dayofmonth(F.last_day("business_date")),
        )
        .withColumn("behind", 1 - F.col("mtd") / F.col("pace"))
        .where(F.col("behind") > r.tolerance)
    )
    sev = F.when(F.col("behind") > r.high_tolerance, "high").otherwise("medium")
    detail = F.format_string(
        "month to date %.2f vs %.2f pro-rata target (-%.0f%%)", "mtd", "pace", F.col("behind") * 100
    )
    cond = _alert(
        d,
        "sales_target",
        sev,
        "channel",
        F.col("channel"),
        F.col("mtd"),
        F.col("pace"),
        F.col("pace") * (1 - r.tolerance),
        detail,
        F.col("behind"),
    )
    return raise_on_onset(cond, suppress_days=r.suppress_days, weight=r.weight)


def sku_trend(trend_days: DataFrame, *, rule: SkuTrendAlert, trends: SkuTrendRules) -> list[DataFrame]:
    """sku_breakout and sku_collapse: the SKUs that gold.sku_trends' rules (`trends`) call a breakout or a collapse on
    a date (`trend_days`: jobs.gold.trends.sku_trend_days). Metric: the recent window's units; baseline: the units
    expected from the SKU's own baseline; threshold: expected x the trend's ratio. High from `high_breakout_ratio`
    x expected up (`high_collapse_ratio` x down). Score: 1 - 1 / ratio for a breakout, 1 - ratio for a collapse."""
    ratio = F.col("ratio")
    detail = F.format_string(
        "%s: %d units in the %d days to the date vs %.1f expected (x%.2f; %d order lines, z %.1f)",
        "category",
        "recent_units",
        F.lit(trends.recent_days),
        "expected_units",
        ratio,
        "recent_lines",
        "z",
    )
    kinds = (
        (BREAKOUT, "sku_breakout", ratio >= rule.high_breakout_ratio, trends.breakout_ratio, 1 - 1 / ratio),
        (COLLAPSE, "sku_collapse", ratio <= rule.high_collapse_ratio, trends.collapse_ratio, 1 - ratio),
    )
    out = []
    for trend, name, high, threshold, score in kinds:
        d = trend_days.where(F.col("trend") == trend).withColumnRenamed("date", "business_date")
        cond = _alert(
            d,
            name,
            F.when(high, "high").otherwise("medium"),
            "sku",
            F.col("sku"),
            F.col("recent_units"),
            F.col("expected_units"),
            F.col("expected_units") * threshold,
            detail,
            score,
        )
        out.append(raise_on_onset(cond, suppress_days=rule.suppress_days, weight=rule.weight))
    return out


def alerts(
    daily_sales: DataFrame,
    funnel: DataFrame,
    reorder_points: DataFrame,
    sell_through: DataFrame,
    batch_audit: DataFrame,
    trend_days: DataFrame,
    *,
    rules: AlertRules,
    sell_through_flag_below: float,
    trends: SkuTrendRules,
) -> DataFrame:
    """All rules' alerts; inputs are gold.daily_sales, gold.funnel, reorder_points_daily, sell_through_daily,
    ops.batch_audit and sku_trend_days frames."""
    parts = [
        sales_drop(daily_sales, rules=rules),
        conversion_drop(funnel, rules=rules),
        stock_below_reorder(reorder_points, rules=rules),
        sell_through_low(sell_through, rules=rules, flag_below=sell_through_flag_below),
        quarantine_spike(batch_audit, rules=rules),
        sales_target(daily_sales, rules=rules),
        *sku_trend(trend_days, rule=rules.sku_trend, trends=trends),
    ]
    present = [p for p in parts if p is not None]
    out = present[0]
    for part in present[1:]:
        out = out.unionByName(part)
    return out.select(*COLUMNS)


def alert_digest(alerts: DataFrame, *, top_n: int) -> DataFrame:
    """Each day's `top_n` alerts (gold.alerts): high severity first, then by priority; ties by rule and entity."""
    order = Window.partitionBy("business_date").orderBy(
        _severity_rank(F.col("severity")).desc(), F.col("priority").desc(), *ENTITY
    )
    ranked = alerts.withColumn("rank", F.row_number().over(order))
    return ranked.where(F.col("rank") <= top_n).select(*DIGEST_COLUMNS)
