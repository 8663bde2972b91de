from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as Dec

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.gold.demand import grid_state, store_sku_days

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


def _lines(silver, rows):
    return silver(
        "silver.order_lines",
        [
            {
                "channel": "pos",
                "order_id": f"T{i}",
                "line_no": 1,
                "store_id": store,
                "order_date": day,
                "sku": sku,
                "quantity": qty,
                "unit_price": (Dec(net) / qty).quantize(Dec("0.01")),
                "discount": Dec("0.00"),
                "net_amount": Dec(net),
            }
            for i, (store, sku, day, qty, net) in enumerate(rows)
        ],
    )


def test_windowed_grid_seeded_with_the_day_before_equals_the_full_grid_on_the_window(spark, silver) -> None:
    day = [date(2025, 1, 1) + timedelta(days=i) for i in range(40)]
    start, until = day[30], day[36]
    lines = _lines(
        silver,
        [
            ("S1", "P1", day[2], 3, "22.00"),  # price 7.3333..., carried 28 days into the window
            ("S1", "P1", day[33], 2, "18.00"),
            ("S2", "P2", day[29], 1, "4.00"),  # the day before the window
            ("S3", "P3", day[32], 1, "5.00"),  # a pair first seen inside the window
            ("S1", "P1", day[38], 1, "1.00"),  # after `until`
        ],
    )
    imported = silver(
        "silver.daily_sales_imported",
        [{"store_id": "S4", "sku": "P1", "sales_date": day[10], "units": 3.0, "price": Dec("2.10"), "promo": True}],
    )
    inventory = silver(
        "silver.inventory",
        [
            {"snapshot_date": day[1], "store_id": "S1", "sku": "P1", "on_hand": 0, "on_order": 7},  # long before
            {"snapshot_date": day[0], "store_id": "S5", "sku": "P2", "on_hand": 6, "on_order": None},  # stock only
            {"snapshot_date": day[20], "store_id": "S5", "sku": "P2", "on_hand": None, "on_order": 3},
            {"snapshot_date": day[31], "store_id": "S2", "sku": "P2", "on_hand": 0, "on_order": 1},
            {"snapshot_date": day[34], "store_id": "S6", "sku": "P3", "on_hand": 2, "on_order": 0},  # first seen
        ],
    )
    products = silver("silver.products", [{"sku": s, "list_price": Dec("10.00")} for s in ("P1", "P2", "P3")])
    full = store_sku_days(lines, imported, inventory, products, until=until)
    seed = grid_state(full).where(F.col("date") == day[29])
    windowed = store_sku_days(lines, imported, inventory, products, until=until, start=start, seed=seed)
    assertDataFrameEqual(windowed, full.where(F.col("date") >= F.lit(start)))
    # the pairs and their first days: 4 pairs seen before the window, 2 inside it
    firsts = {
        (r["store_id"], r["sku"]): r["first"]
        for r in windowed.groupBy("store_id", "sku").agg(F.min("date").alias("first")).collect()
    }
    assert firsts == {
        ("S1", "P1"): start,
        ("S2", "P2"): start,
        ("S4", "P1"): start,
        ("S5", "P2"): start,
        ("S3", "P3"): day[32],
        ("S6", "P3"): day[34],
    }


def test_windowed_grid_ignores_inputs_before_its_start_and_needs_a_seed(spark, silver) -> None:
    """Only the seed carries history: an input row before `start` missing from the seed leaves no trace."""
    day = [date(2025, 1, 1) + timedelta(days=i) for i in range(5)]
    lines = _lines(silver, [("S1", "P1", day[0], 1, "3.00"), ("S1", "P1", day[3], 1, "4.00")])
    imported = silver("silver.daily_sales_imported", [])
    inventory = silver("silver.inventory", [])
    products = silver("silver.products", [{"sku": "P1", "list_price": Dec("5.00")}])
    empty_seed = spark.createDataFrame([], "store_id string, sku string, on_hand long, on_order long, price double")
    windowed = store_sku_days(lines, imported, inventory, products, until=day[4], start=day[2], seed=empty_seed)
    assertDataFrameEqual(
        windowed,
        spark.createDataFrame(
            [
                ("S1", "P1", day[3], 1.0, 1.0, None, None, False, True, True, 4.0),
                ("S1", "P1", day[4], 0.0, 0.0, None, None, False, False, False, 4.0),
            ],
            GRID,
        ),
    )
    with pytest.raises(ValueError, match="go together"):
        store_sku_days(lines, imported, inventory, products, until=day[4], start=day[2])
