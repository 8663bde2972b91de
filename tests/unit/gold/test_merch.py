from __future__ import annotations

from datetime import date
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import SellThroughRules, SkuMatrixRules
from jobs.gold.merch import sell_through, sku_matrix


def _pct(rank: int, skus: int = 6) -> float:
    """sales_percentile: the cumulative share of the 6 SKUs whose window revenue is at most this one's (P5 and P7
    tie at 0 and share rank 2)."""
    return round(rank / skus, 4)


def test_sku_matrix_places_each_sku_in_its_quadrant(spark, silver) -> None:
    as_of = date(2025, 3, 31)
    products = silver(
        "silver.products",
        [
            {"sku": s, "category": c, "list_price": Dec(lp), "unit_cost": Dec(uc), "launched_date": date(2025, m, 1)}
            for s, c, lp, uc, m in [
                ("P1", "A", "10.00", "5.00", 1),
                ("P2", "A", "10.00", "9.00", 1),
                ("P3", "B", "100.00", "50.00", 1),
                ("P4", "B", "100.00", "90.00", 1),
                ("P5", "B", "20.00", "18.00", 1),
                ("P6", "B", "20.00", "1.00", 4),
                ("P7", "B", "20.00", "2.00", 1),
            ]
        ],
    )
    lines = silver(
        "silver.order_lines",
        [
            {
                "channel": "web",
                "order_id": f"O{s}",
                "line_no": 1,
                "sku": s,
                "quantity": q,
                "net_amount": Dec(n),
                "order_date": d,
            }
            for s, q, n, d in [
                ("P1", 5, "50.00", date(2025, 3, 20)),
                ("P2", 20, "200.00", date(2025, 3, 20)),
                ("P3", 1, "100.00", date(2025, 3, 20)),
                ("P4", 3, "300.00", date(2025, 3, 20)),
                ("P5", 1, "20.00", date(2025, 2, 15)),
            ]
        ],
    )  # P5 sold before the window only
    rules = SkuMatrixRules(window_days=30, high_sales_percentile=0.5, high_margin_rate=0.3)
    expected = spark.createDataFrame(
        [
            (as_of, "P1", "A", 5, Dec("50.00"), Dec("25.00"), 0.5, _pct(3), "profit_driver"),
            (as_of, "P2", "A", 20, Dec("200.00"), Dec("20.00"), 0.1, _pct(5), "traffic_driver"),
            (as_of, "P3", "B", 1, Dec("100.00"), Dec("50.00"), 0.5, _pct(4), "star"),
            (as_of, "P4", "B", 3, Dec("300.00"), Dec("30.00"), 0.1, _pct(6), "traffic_driver"),
            (as_of, "P5", "B", 0, Dec("0.00"), Dec("0.00"), 0.1, _pct(2), "slow_mover"),  # list margin: (20-18)/20
            # unsold in the window: no margin earned, a slow mover whatever its list margin (0.9)
            (as_of, "P7", "B", 0, Dec("0.00"), Dec("0.00"), 0.9, _pct(2), "slow_mover"),
        ],
        "as_of date, sku string, category string, units long, revenue decimal(18,2), margin decimal(18,2), "
        "margin_rate double, sales_percentile double, quadrant string",
    )
    assertDataFrameEqual(sku_matrix(lines, products, as_of=as_of, rules=rules), expected)


def test_sell_through_counts_skus_in_stock_in_the_window_and_flags_low_share(spark, silver) -> None:
    as_of = date(2025, 3, 10)
    grid = spark.createDataFrame(
        [
            ("S1", "P1", date(2025, 3, 8), 0.0, True),
            ("S1", "P1", date(2025, 3, 9), 1.0, True),
            ("S1", "P1", date(2025, 3, 10), 0.0, True),
            ("S1", "P2", date(2025, 3, 10), 0.0, True),  # in stock, unsold
            ("S1", "P3", date(2025, 3, 5), 0.0, True),
            ("S1", "P3", date(2025, 3, 10), 0.0, False),  # stocked before only
            ("S1", "P4", date(2025, 3, 6), 2.0, True),
            ("S1", "P4", date(2025, 3, 10), 0.0, True),  # sold before only
            ("S2", "P5", date(2025, 3, 10), 1.0, True),
        ],
        "store_id string, sku string, date date, units double, in_stock boolean",
    )
    products = silver(
        "silver.products",
        [{"sku": s, "category": "A"} for s in ("P1", "P2", "P3", "P4")] + [{"sku": "P5", "category": "B"}],
    )
    expected = spark.createDataFrame(
        [(as_of, "S1", "A", 3, 1, round(1 / 3, 4), True), (as_of, "S2", "B", 1, 1, 1 / 1, False)],
        "as_of date, store_id string, category string, skus_in_stock long, skus_sold long, sell_through double, "
        "flagged boolean",
    )
    rules = SellThroughRules(window_days=3, flag_below=0.5)
    assertDataFrameEqual(sell_through(grid, products, as_of=as_of, rules=rules), expected)
