from __future__ import annotations

from datetime import date
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.gold.demand import store_sku_days

D = [date(2025, 3, i) for i in range(1, 6)]
GRID = (
    "store_id string, sku string, date date, units double, units_observed double, on_hand long, on_order long, "
    "stockout boolean, in_stock boolean, promo boolean, price double"
)


def test_grid_is_dense_carries_stock_and_price_and_marks_stockouts(spark, silver) -> None:
    def line(order_id, day, qty, price, store="S1"):
        return {
            "channel": "pos" if store else "web",
            "order_id": order_id,
            "line_no": 1,
            "store_id": store,
            "order_date": day,
            "sku": "P1",
            "quantity": qty,
            "unit_price": Dec(price),
            "discount": Dec("0.00"),
            "net_amount": Dec(price) * qty,
        }

    lines = silver(
        "silver.order_lines",
        [
            line("T1", D[0], 2, "10.00"),
            line("T2", D[2], 1, "8.00"),  # 8 < list
            line("W1", D[1], 5, "10.00", store=None),  # online: no store
            line("T3", D[4], 9, "10.00"),
        ],
    )  # after `until`
    imported = silver(
        "silver.daily_sales_imported",
        [{"store_id": "S2", "sku": "P1", "sales_date": D[1], "units": 3.0, "price": Dec("9.00"), "promo": True}],
    )
    inventory = silver(
        "silver.inventory",
        [
            {"snapshot_date": D[1], "store_id": "S1", "sku": "P1", "on_hand": 0, "on_order": 5},
            {"snapshot_date": D[3], "store_id": "S1", "sku": "P1", "on_hand": 4, "on_order": 0},
        ],
    )
    products = silver("silver.products", [{"sku": "P1", "list_price": Dec("10.00")}])
    expected = spark.createDataFrame(
        [
            ("S1", "P1", D[0], 2.0, 2.0, None, None, False, True, False, 10.0),
            ("S1", "P1", D[1], 0.0, None, 0, 5, True, False, False, 10.0),  # stock-out, no sale: demand unknown
            ("S1", "P1", D[2], 1.0, 1.0, 0, 5, True, True, True, 8.0),  # sold below list price: promo
            ("S1", "P1", D[3], 0.0, 0.0, 4, 0, False, True, False, 8.0),
            ("S2", "P1", D[1], 3.0, 3.0, None, None, False, True, True, 9.0),
            ("S2", "P1", D[2], 0.0, 0.0, None, None, False, False, False, 9.0),
            ("S2", "P1", D[3], 0.0, 0.0, None, None, False, False, False, 9.0),
        ],
        GRID,
    )
    assertDataFrameEqual(store_sku_days(lines, imported, inventory, products, until=D[3]), expected)
