"""features.item_store_day: daily demand per store x SKU with lags, rolling stats, calendar, price and promotions.

Built on the dense grid of jobs/gold/demand.py. Lags and rolling statistics look only at days before the row's
date (the row's own units are the target), and use units_observed, so stock-out days without sales count as
unknown demand, not zero.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def item_store_day(
    grid: DataFrame, products: DataFrame, *, lags: tuple[int, ...], rolling: tuple[int, ...]
) -> DataFrame:
    """One row per store x SKU x day of `grid` with its features (see the module docstring)."""
    by_day = Window.partitionBy("store_id", "sku").orderBy("date")
    df = grid.join(
        products.select("sku", "category", F.col("list_price").cast("double").alias("list_price")), on="sku", how="left"
    )
    price = F.coalesce(F.col("price"), F.col("list_price"))
    df = df.withColumn("price", F.round(price, 4))
    lag_cols = [F.lag("units_observed", k).over(by_day).alias(f"units_lag_{k}") for k in lags]
    roll_cols = []
    for k in rolling:
        before = by_day.rowsBetween(-k, -1)
        roll_cols += [
            F.round(F.avg("units_observed").over(before), 4).alias(f"units_mean_{k}"),
            F.round(F.stddev_samp("units_observed").over(before), 4).alias(f"units_std_{k}"),
        ]
    prev_price = F.lag("price").over(by_day)
    return df.select(
        "date",
        "store_id",
        "sku",
        "category",
        "units",
        "units_observed",
        "on_hand",
        "on_order",
        "stockout",
        "promo",
        "price",
        "list_price",
        F.round(F.try_divide(F.col("price") - prev_price, prev_price), 4).alias("price_change"),
        F.round(F.try_divide(F.col("list_price") - F.col("price"), F.col("list_price")), 4).alias("discount_depth"),
        *lag_cols,
        *roll_cols,
        F.dayofweek("date").alias("day_of_week"),
        F.dayofmonth("date").alias("day_of_month"),
        F.weekofyear("date").alias("week_of_year"),
        F.month("date").alias("month"),
        F.dayofweek("date").isin(1, 7).alias("is_weekend"),
    )
