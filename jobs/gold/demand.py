"""The dense store x SKU x day grid that sell-through, inventory health, alerts and demand features share.

The grid can be built over a window [start, until] only: the state it carries forward (stock, price, whether the
pair exists yet) comes in as a seed, the grid's own rows on start - 1 (see grid_state).
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

GRID_KEY = ["store_id", "sku", "date"]
STATE_COLUMNS = ["on_hand", "on_order", "price"]  # what a grid row carries forward to the next day


def _dated(df: DataFrame, col: str, start: date | None, until: date) -> DataFrame:
    within = F.col(col) <= F.lit(until)
    return df.where(within if start is None else within & (F.col(col) >= F.lit(start)))


def _daily_sales(
    lines: DataFrame, imported: DataFrame, products: DataFrame, start: date | None, until: date
) -> DataFrame:
    """Store-located sales per store x SKU x day: POS lines (online lines have no store) plus imported sales."""
    priced = (
        _dated(lines, "order_date", start, until)
        .where(F.col("store_id").isNotNull())
        .join(products.select("sku", "list_price"), on="sku", how="left")
    )
    discounted = (F.coalesce(F.col("discount"), F.lit(0)) > 0) | (F.col("unit_price") < F.col("list_price"))
    pos = priced.select(
        "store_id",
        "sku",
        F.col("order_date").alias("date"),
        F.col("quantity").cast("double").alias("units"),
        F.col("net_amount").cast("double").alias("amount"),
        discounted.alias("promo"),
    )
    imp = _dated(imported, "sales_date", start, until).select(
        "store_id",
        "sku",
        F.col("sales_date").alias("date"),
        F.col("units").cast("double").alias("units"),
        (F.col("units") * F.col("price")).cast("double").alias("amount"),
        F.coalesce(F.col("promo"), F.lit(False)).alias("promo"),
    )
    return (
        pos.unionByName(imp)
        .groupBy(*GRID_KEY)
        .agg(F.sum("units").alias("units"), F.sum("amount").alias("amount"), F.max("promo").alias("promo"))
    )


def store_sku_days(
    lines: DataFrame,
    imported: DataFrame,
    inventory: DataFrame,
    products: DataFrame,
    *,
    until: date,
    start: date | None = None,
    seed: DataFrame | None = None,
) -> DataFrame:
    """One row per store x SKU x day from the first day the pair is seen (a sale or a stock snapshot) to `until`.

    units: units sold that day (0 when none); price: average realised unit price that day, else the last one;
    on_hand / on_order: the latest stock snapshot on or before the day (null before the first one);
    stockout: on_hand = 0; units_observed: units, or null on a stock-out day without sales (unknown demand,
    not zero demand); in_stock: on hand > 0 or sold that day.

    With `start` (and `seed`, required with it): only the days from `start` on, from inputs dated from `start` on,
    carrying forward `seed`: the grid_state of the pairs seen before `start`, on start - 1 (store_id, sku,
    on_hand, on_order, price). The rows equal the full grid's on those days.
    """
    if (start is None) != (seed is None):
        raise ValueError("store_sku_days: `start` and `seed` go together")
    sales = _daily_sales(lines, imported, products, start, until)
    stock = _dated(inventory, "snapshot_date", start, until).select(
        "store_id",
        "sku",
        F.col("snapshot_date").alias("date"),
        F.col("on_hand").cast("long").alias("_on_hand"),
        F.col("on_order").cast("long").alias("_on_order"),
        F.lit(None).cast("double").alias("_carried_price"),
    )
    if start is not None and seed is not None:  # the day before the window: one row per pair, its carried state
        stock = stock.unionByName(
            seed.select(
                "store_id",
                "sku",
                F.lit(start - timedelta(days=1)).alias("date"),
                F.col("on_hand").cast("long").alias("_on_hand"),
                F.col("on_order").cast("long").alias("_on_order"),
                F.col("price").cast("double").alias("_carried_price"),
            )
        )
    seen = sales.select(*GRID_KEY).unionByName(stock.select(*GRID_KEY))
    days = (
        seen.groupBy("store_id", "sku")
        .agg(F.min("date").alias("first"))
        .select("store_id", "sku", F.explode(F.sequence(F.col("first"), F.lit(until))).alias("date"))
    )
    upto = Window.partitionBy("store_id", "sku").orderBy("date").rowsBetween(Window.unboundedPreceding, 0)
    realised = F.when(F.col("units") > 0, F.col("amount") / F.col("units"))
    filled = (
        days.join(sales, on=GRID_KEY, how="left")
        .join(stock, on=GRID_KEY, how="left")
        .withColumn("on_hand", F.last("_on_hand", ignorenulls=True).over(upto))
        .withColumn("on_order", F.last("_on_order", ignorenulls=True).over(upto))
        .withColumn("price", F.last(F.coalesce(realised, F.col("_carried_price")), ignorenulls=True).over(upto))
    )
    if start is not None:
        filled = filled.where(F.col("date") >= F.lit(start))
    units = F.coalesce(F.col("units"), F.lit(0.0))
    stockout = F.coalesce(F.col("on_hand") == 0, F.lit(False))
    return filled.select(
        "store_id",
        "sku",
        "date",
        units.alias("units"),
        F.when(stockout & (units == 0), F.lit(None).cast("double")).otherwise(units).alias("units_observed"),
        "on_hand",
        "on_order",
        stockout.alias("stockout"),
        (F.coalesce(F.col("on_hand") > 0, F.lit(False)) | (units > 0)).alias("in_stock"),
        F.coalesce(F.col("promo"), F.lit(False)).alias("promo"),
        F.round("price", 4).alias("price"),
    )


def grid_state(grid: DataFrame) -> DataFrame:
    """What each grid row carries forward (date, store_id, sku, on_hand, on_order, price): the seed of a grid
    built from the next day on. The price is the grid's rounded one: rounding it again changes nothing."""
    return grid.select("date", "store_id", "sku", *STATE_COLUMNS)
