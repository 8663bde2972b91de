"""Returns root cause: gold.returns_analysis (weekly fact) and gold.returns_by_sku (snapshot).

A return counts on its own return date (as in gold.daily_sales), under the channel of the line it returns and the
category and brand of its SKU. A rate is returned units over the units sold in the same period and cell, so the
rates of a cell's reasons add up to its return rate.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import ReturnsRules
from jobs.gold.sales import SUM_MONEY

UNKNOWN = "unknown"  # a return without a reason; a SKU missing from the catalog
CELL = ["channel", "category", "brand"]


def _rate(num: str, den: str) -> Column:
    return F.round(F.try_divide(F.col(num).cast("double"), F.col(den).cast("double")), 4)


def _described(df: DataFrame, products: DataFrame) -> DataFrame:
    """`df` with the category and brand of its SKU (`unknown` when the catalog does not know it)."""
    product = products.select("sku", "category", "brand")
    return df.join(product, on="sku", how="left").withColumns(
        {c: F.coalesce(F.col(c), F.lit(UNKNOWN)) for c in ("category", "brand")}
    )


def _week(col: str) -> Column:
    return F.date_trunc("week", F.col(col)).cast("date")


def returns_analysis(lines: DataFrame, returns: DataFrame, products: DataFrame, *, until: date) -> DataFrame:
    """Per ISO week (Monday week_start) x channel x category x brand x return reason, dated up to `until`: returns,
    returned units, refunds, and the cell's units sold and revenue that week; return_rate = returned / sold units,
    value_rate = refunds / revenue (null without sales). Only cells with a return have rows."""
    sold = (
        _described(lines.where(F.col("order_date") <= F.lit(until)), products)
        .groupBy(_week("order_date").alias("week_start"), *CELL)
        .agg(
            F.sum(F.col("quantity").cast("long")).alias("units_sold"),
            F.sum("net_amount").cast(SUM_MONEY).alias("revenue"),
        )
    )
    returned = (
        _described(returns.where(F.col("return_date") <= F.lit(until)), products)
        .groupBy(
            _week("return_date").alias("week_start"),
            *CELL,
            F.coalesce(F.col("reason"), F.lit(UNKNOWN)).alias("reason"),
        )
        .agg(
            F.count("*").alias("returns"),
            F.sum(F.col("quantity").cast("long")).alias("returned_units"),
            F.coalesce(F.sum("refund_amount"), F.lit(0)).cast(SUM_MONEY).alias("refund_amount"),
        )
    )
    df = returned.join(sold, on=["week_start", *CELL], how="left").withColumns(
        {
            "units_sold": F.coalesce(F.col("units_sold"), F.lit(0)),
            "revenue": F.coalesce(F.col("revenue"), F.lit(0)).cast(SUM_MONEY),
        }
    )
    return df.select(
        "week_start",
        *CELL,
        "reason",
        "returns",
        "returned_units",
        "refund_amount",
        "units_sold",
        "revenue",
        _rate("returned_units", "units_sold").alias("return_rate"),
        _rate("refund_amount", "revenue").alias("value_rate"),
    )


def returns_by_sku(
    lines: DataFrame, returns: DataFrame, products: DataFrame, *, as_of: date, rules: ReturnsRules
) -> DataFrame:
    """Per SKU sold or returned in the trailing `rules.window_days` to `as_of`: units sold and returned, return rate,
    its category's rate over the same window, their ratio, the top `rules.top_reasons` reasons (most returned units,
    then name) and `flagged`: at least `rules.min_units` sold and a ratio of at least `rules.min_ratio`."""
    start = as_of - timedelta(days=rules.window_days - 1)
    in_window = F.col("d").between(F.lit(start), F.lit(as_of))
    sold = (
        lines.withColumn("d", F.col("order_date"))
        .where(in_window)
        .groupBy("sku")
        .agg(F.sum(F.col("quantity").cast("long")).alias("units_sold"))
    )
    by_reason = (
        returns.withColumn("d", F.col("return_date"))
        .where(in_window)
        .groupBy("sku", F.coalesce(F.col("reason"), F.lit(UNKNOWN)).alias("reason"))
        .agg(F.sum(F.col("quantity").cast("long")).alias("units"))
    )
    order = Window.partitionBy("sku").orderBy(F.col("units").desc(), F.col("reason"))
    top = (
        by_reason.withColumn("_rank", F.row_number().over(order))
        .groupBy("sku")
        .agg(
            F.sum("units").alias("returned_units"),
            F.sort_array(
                F.collect_list(F.when(F.col("_rank") <= rules.top_reasons, F.struct("_rank", "reason")))
            ).alias("_top"),
        )
    )
    df = _described(sold.join(top, on="sku", how="full"), products).withColumns(
        {c: F.coalesce(F.col(c), F.lit(0).cast("long")) for c in ("units_sold", "returned_units")}
    )
    category = Window.partitionBy("category")
    rate = F.try_divide(F.col("returned_units").cast("double"), F.col("units_sold"))
    category_rate = F.try_divide(
        F.sum("returned_units").over(category).cast("double"), F.sum("units_sold").over(category)
    )
    df = df.withColumns({"_rate": rate, "_category_rate": category_rate}).withColumn(
        "_ratio", F.try_divide(F.col("_rate"), F.col("_category_rate"))
    )
    flagged = (F.col("units_sold") >= rules.min_units) & F.coalesce(F.col("_ratio") >= rules.min_ratio, F.lit(False))
    return df.select(
        F.lit(as_of).alias("as_of"),
        "sku",
        "category",
        "brand",
        "units_sold",
        "returned_units",
        F.round("_rate", 4).alias("return_rate"),
        F.round("_category_rate", 4).alias("category_return_rate"),
        F.round("_ratio", 4).alias("ratio"),
        flagged.alias("flagged"),
        F.coalesce(F.transform("_top", lambda t: t["reason"]), F.array().cast("array<string>")).alias("top_reasons"),
    )
