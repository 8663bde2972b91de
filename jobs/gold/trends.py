"""gold.sku_trends: breakout and collapsing SKUs, each against its own trailing baseline.

Per SKU and date d: units sold in the recent window (the `recent_days` to d) against the units of the `baseline_days`
before it, scaled to the recent window's length (`expected_units`). A SKU breaks out when it sells at least
`breakout_ratio` x expected and collapses at most `collapse_ratio` x expected, in both cases significantly: units are
overdispersed (one order of 12 units is not 12 events), so the significance is that of the order lines, a Poisson
z-score (recent - expected) / sqrt(expected) at least `min_z` away from 0 with at least `min_expected_lines` lines
expected (a SKU with no baseline to speak of, such as a launch, is never a trend). Days without sales count as 0:
the dates are a dense grid.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import SkuTrendRules
from jobs.gold.returns import UNKNOWN
from jobs.gold.sales import SUM_MONEY

BREAKOUT, COLLAPSE, STEADY = "breakout", "collapse", "steady"
MEASURES = ("units", "revenue", "lines")  # summed per SKU over the recent and the baseline window


def history_days(rules: SkuTrendRules) -> int:
    """Days before a date that its trend reads (the recent window's other days and the baseline)."""
    return rules.recent_days + rules.baseline_days - 1


def trend_days_from(first_sale: date | None, read_from: date | None, *, until: date, rules: SkuTrendRules) -> date:
    """The first date whose trend has its whole baseline in the lines a run reads: `history_days` after the later of
    the first sale and the first date read (`read_from`; None: all history). After `until` when there is none."""
    if first_sale is None:
        return until + timedelta(days=1)
    start = max(first_sale, read_from or first_sale) + timedelta(days=history_days(rules))
    return min(start, until + timedelta(days=1))


def _trend(rules: SkuTrendRules) -> Column:
    ratio, z = F.col("ratio"), F.col("z")
    enough = F.col("expected_lines") >= rules.min_expected_lines
    return (
        F.when(enough & (ratio >= rules.breakout_ratio) & (z >= rules.min_z), F.lit(BREAKOUT))
        .when(enough & (ratio <= rules.collapse_ratio) & (z <= -rules.min_z), F.lit(COLLAPSE))
        .otherwise(F.lit(STEADY))
    )


def sku_trend_days(
    lines: DataFrame, products: DataFrame, *, start: date, until: date, rules: SkuTrendRules
) -> DataFrame:
    """Per date in [start, until] x SKU sold in the days those dates read: the recent and baseline units, revenue
    and order lines, expected units and lines, ratio (of units), z (of lines) and trend (`breakout`, `collapse` or
    `steady`). Columns: date, sku, category, brand, recent_units, baseline_units (long), expected_units (double),
    recent_revenue, baseline_revenue, recent_lines, baseline_lines (long), expected_lines, ratio, z (double),
    trend."""
    first = start - timedelta(days=history_days(rules))
    sold = lines.where(F.col("order_date").between(F.lit(first), F.lit(until)))
    daily = sold.groupBy("sku", F.col("order_date").alias("date")).agg(
        F.sum(F.col("quantity").cast("long")).alias("units"),
        F.sum("net_amount").alias("revenue"),
        F.count("*").alias("lines"),
    )
    dates = sold.sparkSession.range(1).select(
        F.explode(F.sequence(F.lit(first), F.lit(until), F.expr("interval 1 day"))).alias("date")
    )
    grid = (
        daily.select("sku")
        .distinct()
        .crossJoin(dates)
        .join(daily, on=["sku", "date"], how="left")
        .withColumns({c: F.coalesce(c, F.lit(0).cast("long")) for c in ("units", "lines")})
        .withColumn("revenue", F.coalesce("revenue", F.lit(0)))
    )
    by_day = Window.partitionBy("sku").orderBy("date")
    recent = by_day.rowsBetween(-(rules.recent_days - 1), 0)
    base = by_day.rowsBetween(-history_days(rules), -rules.recent_days)
    sums = {f"{w}_{c}": F.sum(c).over(over) for w, over in (("recent", recent), ("baseline", base)) for c in MEASURES}
    df = grid.select("sku", "date", *[v.alias(k) for k, v in sums.items()]).where(F.col("date") >= F.lit(start))
    scale = rules.recent_days / rules.baseline_days
    units, lines = F.col("baseline_units") * scale, F.col("baseline_lines") * scale
    df = df.withColumns(
        {
            "expected_units": F.round(units, 4),
            "expected_lines": F.round(lines, 4),
            "ratio": F.round(F.try_divide(F.col("recent_units").cast("double"), units), 4),
            "z": F.round(F.try_divide(F.col("recent_lines") - lines, F.sqrt(lines)), 4),
        }
    )
    product = products.select("sku", "category", "brand")
    df = df.join(product, on="sku", how="left").withColumns(
        {c: F.coalesce(F.col(c), F.lit(UNKNOWN)) for c in ("category", "brand")}
    )
    return df.select(
        "date",
        "sku",
        "category",
        "brand",
        "recent_units",
        "baseline_units",
        "expected_units",
        F.col("recent_revenue").cast(SUM_MONEY).alias("recent_revenue"),
        F.col("baseline_revenue").cast(SUM_MONEY).alias("baseline_revenue"),
        "recent_lines",
        "baseline_lines",
        "expected_lines",
        "ratio",
        "z",
        _trend(rules).alias("trend"),
    )


def sku_trends(lines: DataFrame, products: DataFrame, *, as_of: date, rules: SkuTrendRules) -> DataFrame:
    """The snapshot: every SKU sold in the days `as_of` reads, with its trend as of that day (see sku_trend_days)."""
    days = sku_trend_days(lines, products, start=as_of, until=as_of, rules=rules)
    return days.select(F.col("date").alias("as_of"), *[c for c in days.columns if c != "date"])
