from __future__ import annotations

from datetime import date
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import ReturnsRules
from jobs.gold.returns import returns_analysis, returns_by_sku
from jobs.io.schemas import ddl

D = date.fromisoformat
W1, W2 = D("2025-03-03"), D("2025-03-10")  # Mondays


def _products(silver):
    return silver(
        "silver.products",
        [
            {"sku": s, "category": c, "brand": b}
            for s, c, b in [("P1", "A", "X"), ("P2", "A", "Y"), ("P3", "B", "X"), ("P4", "A", "X"), ("P5", "B", "Y")]
        ],
    )


def _lines(silver):
    rows = [
        ("web", "O1", "2025-03-03", "P1", 4, "40.00"),
        ("web", "O2", "2025-03-05", "P1", 6, "60.00"),
        ("pos", "T1", "2025-03-04", "P2", 2, "30.00"),
        ("web", "O3", "2025-03-10", "P3", 1, "50.00"),
        ("app", "A1", "2025-03-09", "P4", 20, "100.00"),
        ("web", "O4", "2025-03-11", "P1", 1, "10.00"),  # after until / as_of: left out
    ]
    return silver(
        "silver.order_lines",
        [
            dict(channel=c, order_id=o, line_no=1, order_date=D(d), sku=s, quantity=q, net_amount=Dec(n))
            for c, o, d, s, q, n in rows
        ],
    )


def _returns(silver):
    rows = [
        ("R1", "web", "O1", "P1", 1, "10.00", "damaged", "2025-03-06"),
        ("R2", "web", "O2", "P1", 2, "20.00", "damaged", "2025-03-07"),
        ("R3", "web", "O2", "P1", 1, "10.00", "changed_mind", "2025-03-08"),
        ("R4", "pos", "T1", "P2", 1, "15.00", None, "2025-03-10"),  # no reason; the week sold nothing in the cell
        ("R5", "web", "O3", "P3", 1, "50.00", "other", "2025-03-11"),  # after until / as_of
        ("R6", "web", "O0", "P5", 1, "25.00", "wrong_item", "2025-03-03"),  # a sale before the window
    ]
    return silver(
        "silver.returns",
        [
            {
                "return_id": r,
                "channel": c,
                "order_id": o,
                "line_no": 1,
                "sku": s,
                "quantity": q,
                "refund_amount": Dec(a),
                "reason": why,
                "return_date": D(d),
            }
            for r, c, o, s, q, a, why, d in rows
        ],
    )


def test_returns_analysis_rates_each_reason_against_the_cells_weekly_sales(spark, silver) -> None:
    got = returns_analysis(_lines(silver), _returns(silver), _products(silver), until=D("2025-03-10"))
    expected = spark.createDataFrame(
        [
            # web x A x X sold 10 units for 100.00 in the week of 03-03; 3 units (30.00) came back damaged
            (W1, "web", "A", "X", "damaged", 2, 3, Dec("30.00"), 10, Dec("100.00"), 0.3, 0.3),
            (W1, "web", "A", "X", "changed_mind", 1, 1, Dec("10.00"), 10, Dec("100.00"), 0.1, 0.1),
            (W1, "web", "B", "Y", "wrong_item", 1, 1, Dec("25.00"), 0, Dec("0.00"), None, None),
            (W2, "pos", "A", "Y", "unknown", 1, 1, Dec("15.00"), 0, Dec("0.00"), None, None),
        ],
        ddl("gold.returns_analysis"),
    )
    assertDataFrameEqual(got, expected)


def test_returns_by_sku_flags_skus_far_above_their_category_with_enough_units(spark, silver) -> None:
    rules = ReturnsRules(window_days=10, min_units=5, min_ratio=1.5, top_reasons=1)
    got = returns_by_sku(_lines(silver), _returns(silver), _products(silver), as_of=D("2025-03-10"), rules=rules)
    as_of = D("2025-03-10")
    # category A (03-01 .. 03-10): 32 units sold, 5 returned = 0.15625; B: 1 sold, 1 returned (P5's, sold earlier)
    expected = spark.createDataFrame(
        [
            (as_of, "P1", "A", "X", 10, 4, 0.4, 0.1563, 2.56, True, ["damaged"]),
            (as_of, "P2", "A", "Y", 2, 1, 0.5, 0.1563, 3.2, False, ["unknown"]),  # too few units to judge
            (as_of, "P4", "A", "X", 20, 0, 0.0, 0.1563, 0.0, False, []),
            (as_of, "P3", "B", "X", 1, 0, 0.0, 1.0, 0.0, False, []),
            (as_of, "P5", "B", "Y", 0, 1, None, 1.0, None, False, ["wrong_item"]),
        ],
        ddl("gold.returns_by_sku"),
    )
    assertDataFrameEqual(got, expected)
