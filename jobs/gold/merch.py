"""Merchandising snapshots: gold.sku_matrix (sales x margin quadrants) and gold.sell_through."""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import SellThroughRules, SkuMatrixRules
from jobs.gold.sales import SUM_MONEY

QUADRANTS = {
    (True, True): "star",
    (True, False): "traffic_driver",
    (False, True): "profit_driver",
    (False, False): "slow_mover",
}


def sku_matrix(lines: DataFrame, products: DataFrame, *, as_of: date, rules: SkuMatrixRules) -> DataFrame:
    """Each SKU of the catalog (launched by `as_of`) placed by trailing-window revenue and margin rate.

    High sales: revenue > 0 and the SKU's cumulative distribution rank by revenue above
    `high_sales_percentile`. High margin: realised margin / revenue >= `high_margin_rate`. A SKU without sales in
    the window earned no margin, so it is never high margin (a slow mover, not a profit driver); its margin_rate
    column shows the list margin (list_price - unit_cost) / list_price for reference.
    """
    start = as_of - timedelta(days=rules.window_days - 1)
    window = lines.where((F.col("order_date") >= F.lit(start)) & (F.col("order_date") <= F.lit(as_of)))
    sold = window.groupBy("sku").agg(
        F.sum(F.col("quantity").cast("long")).alias("units"), F.sum("net_amount").alias("revenue")
    )
    catalog = products.where(F.col("launched_date").isNull() | (F.col("launched_date") <= F.lit(as_of)))
    df = (
        catalog.select("sku", "category", "list_price", "unit_cost")
        .join(sold, on="sku", how="full")
        .select(
            "sku",
            "category",
            F.coalesce("units", F.lit(0)).alias("units"),
            F.coalesce("revenue", F.lit(0)).cast(SUM_MONEY).alias("revenue"),
            (F.coalesce("revenue", F.lit(0)) - F.coalesce("units", F.lit(0)) * F.col("unit_cost"))
            .cast(SUM_MONEY)
            .alias("margin"),
            F.coalesce(
                F.try_divide(F.col("revenue") - F.col("units") * F.col("unit_cost"), F.col("revenue")),
                F.try_divide(F.col("list_price") - F.col("unit_cost"), F.col("list_price")),
            )
            .cast("double")
            .alias("margin_rate"),
        )
    )
    rank = F.cume_dist().over(Window.partitionBy(F.lit(1)).orderBy("revenue"))
    high_sales = (F.col("revenue") > 0) & (rank > F.lit(rules.high_sales_percentile))
    high_margin = (F.col("revenue") > 0) & F.coalesce(
        F.col("margin_rate") >= F.lit(rules.high_margin_rate), F.lit(False)
    )
    quadrant = F.lit(None).cast("string")
    for (sales, margin), name in QUADRANTS.items():
        quadrant = F.when((high_sales == F.lit(sales)) & (high_margin == F.lit(margin)), name).otherwise(quadrant)
    return df.select(
        F.lit(as_of).alias("as_of"),
        "sku",
        "category",
        F.col("units").cast("long"),
        "revenue",
        "margin",
        F.round("margin_rate", 4).alias("margin_rate"),
        F.round(rank, 4).alias("sales_percentile"),
        quadrant.alias("quadrant"),
    )


def sell_through_daily(grid: DataFrame, products: DataFrame, *, rules: SellThroughRules) -> DataFrame:
    """Per store x category x day: SKUs in stock at some point in the trailing window (the day included),
    how many of them sold at least one unit, the share, and whether it is below `flag_below`."""
    w = Window.partitionBy("store_id", "sku").orderBy("date").rowsBetween(-(rules.window_days - 1), 0)
    flags = grid.select(
        "store_id",
        "sku",
        "date",
        F.max(F.col("in_stock").cast("int")).over(w).alias("stocked"),
        F.max((F.col("units") > 0).cast("int")).over(w).alias("sold"),
    ).join(products.select("sku", "category"), on="sku", how="left")
    per = (
        flags.where("stocked = 1")
        .groupBy("date", "store_id", "category")
        .agg(F.count("*").alias("skus_in_stock"), F.sum("sold").cast("long").alias("skus_sold"))
    )
    rate = F.col("skus_sold") / F.col("skus_in_stock")
    return per.select(
        "date",
        "store_id",
        "category",
        "skus_in_stock",
        "skus_sold",
        F.round(rate, 4).alias("sell_through"),
        (rate < F.lit(rules.flag_below)).alias("flagged"),
    )


def sell_through(grid: DataFrame, products: DataFrame, *, as_of: date, rules: SellThroughRules) -> DataFrame:
    """gold.sell_through as of a date: the daily measure on `as_of` over the trailing window."""
    start = as_of - timedelta(days=rules.window_days - 1)
    window = grid.where((F.col("date") >= F.lit(start)) & (F.col("date") <= F.lit(as_of)))
    daily = sell_through_daily(window, products, rules=rules).where(F.col("date") == F.lit(as_of))
    return daily.select(
        F.lit(as_of).alias("as_of"), "store_id", "category", "skus_in_stock", "skus_sold", "sell_through", "flagged"
    )
