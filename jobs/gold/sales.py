"""Sales building blocks and gold.daily_sales (business date x channel x store x category x SKU)."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

SUM_MONEY = "decimal(18,2)"
ORDER_KEY = ["channel", "order_id"]


def sales_lines(order_lines: DataFrame, *, excluded_statuses: tuple[str, ...]) -> DataFrame:
    """Order lines that count as sales: status not in `excluded_statuses` (a null status counts)."""
    if not excluded_statuses:
        return order_lines
    return order_lines.where(~F.coalesce(F.col("status").isin(*excluded_statuses), F.lit(False)))


def order_totals(lines: DataFrame) -> DataFrame:
    """One row per order (channel, order_id) from its lines: who, when, campaign, units and net revenue."""
    return lines.groupBy(*ORDER_KEY).agg(
        F.first("customer_id", ignorenulls=True).alias("customer_id"),
        F.first("account_id", ignorenulls=True).alias("account_id"),
        F.first("store_id", ignorenulls=True).alias("store_id"),
        F.min("order_ts").alias("order_ts"),
        F.min("order_date").alias("order_date"),
        F.first("campaign_code", ignorenulls=True).alias("campaign_code"),
        F.first("device_id", ignorenulls=True).alias("device_id"),
        F.first("phone_token", ignorenulls=True).alias("phone_token"),
        F.first("email_token", ignorenulls=True).alias("email_token"),
        F.sum(F.col("quantity").cast("long")).alias("units"),
        F.sum("net_amount").cast(SUM_MONEY).alias("revenue"),
    )


def customer_returns(returns: DataFrame, lines: DataFrame, *, as_of: date) -> DataFrame:
    """Returns dated on or before `as_of`, with the customer_id of the sales line each one returns."""
    return returns.where(F.col("return_date") <= F.lit(as_of)).join(
        lines.select("channel", "order_id", "line_no", "customer_id"),
        on=["channel", "order_id", "line_no"],
        how="inner",
    )


def daily_sales(
    lines: DataFrame, returns: DataFrame, products: DataFrame, *, returned_lines: DataFrame | None = None
) -> DataFrame:
    """Units, revenue, margin, orders and returns per business date x channel x store x category x SKU.

    Returns count on their own return date, under the channel, store and SKU of the line they return, looked up
    in `returned_lines` (default `lines`; a windowed run passes the returned lines of any date).
    """
    key = ["business_date", "channel", "store_id", "sku"]
    sold = lines.select(
        F.col("order_date").alias("business_date"),
        "channel",
        "store_id",
        "sku",
        "order_id",
        F.col("quantity").cast("long").alias("units"),
        F.col("net_amount").alias("revenue"),
        F.lit(0).cast("long").alias("returned_units"),
        F.lit(None).cast(SUM_MONEY).alias("refund_amount"),
    )
    store_of_line = (lines if returned_lines is None else returned_lines).select(
        "channel", "order_id", "line_no", "store_id"
    )
    returned = returns.join(store_of_line, on=["channel", "order_id", "line_no"], how="left").select(
        F.col("return_date").alias("business_date"),
        "channel",
        "store_id",
        "sku",
        F.lit(None).cast("string").alias("order_id"),
        F.lit(0).cast("long").alias("units"),
        F.lit(None).cast(SUM_MONEY).alias("revenue"),
        F.col("quantity").cast("long").alias("returned_units"),
        F.col("refund_amount"),
    )
    totals = (
        sold.unionByName(returned)
        .groupBy(*key)
        .agg(
            F.sum("units").alias("units"),
            F.coalesce(F.sum("revenue"), F.lit(0)).cast(SUM_MONEY).alias("revenue"),
            F.countDistinct("order_id").alias("orders"),
            F.sum("returned_units").alias("returned_units"),
            F.coalesce(F.sum("refund_amount"), F.lit(0)).cast(SUM_MONEY).alias("refund_amount"),
        )
    )
    product = products.select("sku", "category", "unit_cost")
    return totals.join(product, on="sku", how="left").select(
        "business_date",
        "channel",
        "store_id",
        "category",
        "sku",
        "units",
        "revenue",
        (F.col("revenue") - F.col("units") * F.col("unit_cost")).cast(SUM_MONEY).alias("margin"),
        "orders",
        "returned_units",
        "refund_amount",
    )
