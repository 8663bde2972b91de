"""A generated world's order lines as a Spark frame (jobs.generate.world.build_world), for unit tests that check a
gold transform against the truth the generator planted without ingesting its files."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from jobs.generate.world import World

LINES = (
    "channel string, order_id string, sku string, order_date date, quantity int, unit_price double, "
    "discount double, net_amount decimal(18,2)"
)


def world_lines(spark: SparkSession, w: World) -> DataFrame:
    """One row per order line: channel, order_id, sku, order_date, quantity, unit_price (the day's list price),
    discount, net_amount (quantity x unit_price, to the cent)."""
    import pandas as pd

    order = w.lines["order"].to_numpy()
    qty, price = w.lines["qty"].to_numpy(), w.lines["price"].to_numpy()
    lines = pd.DataFrame(
        {
            "channel": w.orders["channel"].to_numpy()[order].astype(str),
            "order_id": w.orders["order_id"].to_numpy()[order].astype(str),
            "sku": w.cat.sku[w.lines["sku"].to_numpy()].astype(str),
            "order_date": [w.cal.start + timedelta(days=int(d)) for d in w.orders["day"].to_numpy()[order]],
            "quantity": qty.astype("int32"),
            "unit_price": price.astype(float),
            "discount": w.lines["discount"].to_numpy().astype(float),
            "net_amount": [Decimal(f"{v:.2f}") for v in (qty * price).round(2)],
        }
    )
    return spark.createDataFrame(lines, LINES)


def world_products(spark: SparkSession, w: World) -> DataFrame:
    """sku, category (assortment.CATEGORIES' names) of every SKU of the world."""
    from jobs.generate.assortment import CATEGORIES

    rows = [(str(s), CATEGORIES[c]) for s, c in zip(w.cat.sku, w.cat.category, strict=True)]
    return spark.createDataFrame(rows, "sku string, category string")
