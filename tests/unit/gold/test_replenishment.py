from __future__ import annotations

import dataclasses
from datetime import date

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import InventoryRules, ReplenishmentRules
from jobs.gold.inventory import Z_P90
from jobs.gold.replenishment import stock_moves
from jobs.io.schemas import ddl

AS_OF = date(2025, 3, 4)
D = [date(2025, 3, i) for i in range(1, 9)]
HISTORY = InventoryRules(service_level=0.95, lead_time_days=4, demand_window_days=4)  # only the window is read
RULES = ReplenishmentRules(
    lead_time_days=2,
    review_days=2,
    service_level=0.8413447460685429,  # z = 1
    pack_size=1,
    transfer_margin=0.2,
    lead_time_by_category={"grocery": 1},
    lead_time_by_brand={"B5": 5},
)
GRID = "store_id string, sku string, date date, units_observed double, on_hand long, on_order long"
FORECAST = "store_id string, sku string, date date, mean double, p10 double, p50 double, p90 double, as_of date"
OUT, TRANSFERS = ddl("gold.replenishment"), ddl("gold.stock_transfers")


def _products(silver, rows: list[tuple[str, str, str]]):
    return silver("silver.products", [{"sku": s, "category": c, "brand": b} for s, c, b in rows])


def test_order_up_to_from_history_and_forecast_with_on_order_and_lead_time_overrides(spark, silver) -> None:
    grid = spark.createDataFrame(
        [
            # history: observed 2, 4, (stock-out), 6 -> a day's mean 4, std 2
            ("S1", "P1", D[0], 2.0, 5, 0),
            ("S1", "P1", D[1], 4.0, 3, 0),
            ("S1", "P1", D[2], None, 0, 0),
            ("S1", "P1", D[3], 6.0, 10, 3),
            ("S1", "P2", D[3], 100.0, 4, 0),  # a forecast covers L + R: history not used
            ("S1", "P3", D[3], 0.0, 0, 0),  # no demand, no stock: nothing to do
        ],
        GRID,
    )
    half = 2 * Z_P90  # p90 - p10 = 2 * Z_P90 * sigma -> sigma 2
    forecast = spark.createDataFrame(
        [("S1", "P2", D[i], 5.0, 5.0 - half, 5.0, 5.0 + half, D[3]) for i in (4, 5, 6)]
        + [("S1", "P2", D[7], 1000.0, 1000.0, 1000.0, 1000.0, D[3])],  # day 4 ahead: past L + R = 1 + 2
        FORECAST,
    )
    products = _products(silver, [("P1", "home", "B1"), ("P2", "grocery", "B1"), ("P3", "grocery", "B5")])
    # P1 (L 2 + R 2 = 4 days): mean 16, std sqrt(4 x 4) = 4 -> S 20; reorder point 8 + sqrt(8) = 10.83; position 13
    #   is above it, purchase 20 - 10 on hand - 3 on order = 7.
    # P2 (grocery: L 1, h 3): mean 15, std sqrt(3 x 4) = 3.46 -> 18.46, S 19; reorder point 5 + 2 = 7; buys 19 - 4.
    # P3: brand B5 (L 5) wins over its category.
    expected = spark.createDataFrame(
        [
            (AS_OF, "S1", "P1", 10, 3, 2, 2, "history", 16.0, 20.0, 10.83, 20, 0, 0, 7, "purchase"),
            (AS_OF, "S1", "P2", 4, 0, 1, 2, "forecast", 15.0, 18.46, 7.0, 19, 0, 0, 15, "purchase"),
            (AS_OF, "S1", "P3", 0, 0, 5, 2, "history", 0.0, 0.0, 0.0, 0, 0, 0, 0, "none"),
        ],
        OUT,
    )
    moves, transfers = stock_moves(grid, forecast, products, as_of=AS_OF, history=HISTORY, rules=RULES)
    assertDataFrameEqual(moves, expected)
    assertDataFrameEqual(transfers, spark.createDataFrame([], TRANSFERS))


def test_transfers_meet_need_before_purchases_and_split_a_giver(spark, silver) -> None:
    # every pair sells 2 a day (std 0), L 2 + R 2: S = 8, reorder point 4; gives above 8 x 1.2 = 9.6 on hand
    stock = {
        ("G1", "P1"): (20, 0),  # excess 12
        ("G2", "P1"): (10, 0),  # excess 2
        ("G3", "P1"): (9, 0),  # above S, within the margin: keeps it
        ("T1", "P1"): (0, 1),  # need 8 - 1 = 7
        ("T2", "P1"): (2, 0),  # need 6
        ("T3", "P1"): (3, 0),  # need 5
        ("A", "P2"): (9, 0),  # P2: no store has excess
        ("B", "P2"): (0, 0),  # need 8
    }
    grid = spark.createDataFrame(
        [(st, sku, day, 2.0, *s) for (st, sku), s in stock.items() for day in (D[2], D[3])], GRID
    )
    forecast = spark.createDataFrame([], FORECAST)
    products = _products(silver, [("P1", "home", "B1"), ("P2", "home", "B1")])
    rules = dataclasses.replace(RULES, pack_size=3)
    moves, transfers = stock_moves(grid, forecast, products, as_of=AS_OF, history=HISTORY, rules=rules)
    # excess by size: G1 [0, 12), G2 [12, 14); need: T1 [0, 7), T2 [7, 13), T3 [13, 18)
    assertDataFrameEqual(
        transfers,
        spark.createDataFrame(
            [
                (AS_OF, "P1", "G1", "T1", 7),
                (AS_OF, "P1", "G1", "T2", 5),
                (AS_OF, "P1", "G2", "T2", 1),
                (AS_OF, "P1", "G2", "T3", 1),
            ],
            TRANSFERS,
        ),
    )
    common = (2, 2, "history", 8.0, 8.0, 4.0, 8)
    expected = [
        ("G1", "P1", 20, 0, 0, 12, 0, "transfer_out"),
        ("G2", "P1", 10, 0, 0, 2, 0, "transfer_out"),
        ("G3", "P1", 9, 0, 0, 0, 0, "none"),
        ("T1", "P1", 0, 1, 7, 0, 0, "transfer_in"),
        ("T2", "P1", 2, 0, 6, 0, 0, "transfer_in"),
        ("T3", "P1", 3, 0, 1, 0, 6, "transfer_in_purchase"),  # 8 - 3 - 1 = 4 short: 2 packs of 3
        ("A", "P2", 9, 0, 0, 0, 0, "none"),
        ("B", "P2", 0, 0, 0, 0, 9, "purchase"),  # 8 short: 3 packs
    ]
    assertDataFrameEqual(
        moves,
        spark.createDataFrame(
            [(AS_OF, st, sku, oh, oo, *common, i, o, p, r) for st, sku, oh, oo, i, o, p, r in expected], OUT
        ),
    )
