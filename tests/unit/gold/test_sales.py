from __future__ import annotations

from datetime import date
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.gold.sales import daily_sales, sales_lines

D1, D2 = date(2025, 3, 1), date(2025, 3, 2)
OUT = (
    "business_date date, channel string, store_id string, category string, sku string, units long, "
    "revenue decimal(18,2), margin decimal(18,2), orders long, returned_units long, refund_amount decimal(18,2)"
)


def _line(channel, order_id, line_no, sku, qty, net, status="paid", store=None):
    return {
        "channel": channel,
        "order_id": order_id,
        "line_no": line_no,
        "order_date": D1,
        "sku": sku,
        "quantity": qty,
        "net_amount": Dec(net),
        "status": status,
        "store_id": store,
    }


def test_daily_sales_sums_lines_and_books_returns_on_their_date(spark, silver) -> None:
    lines = silver(
        "silver.order_lines",
        [
            _line("web", "W1", 1, "P1", 2, "20.00"),
            _line("web", "W1", 2, "P2", 1, "20.00"),
            _line("web", "W2", 1, "P1", 1, "9.00"),
            _line("pos", "T1", 1, "P1", 1, "10.00", store="S1"),
            _line("web", "W3", 1, "P2", 5, "100.00", status="cancelled"),
        ],
    )
    returns = silver(
        "silver.returns",
        [
            {
                "return_id": "R1",
                "channel": "web",
                "order_id": "W1",
                "line_no": 2,
                "sku": "P2",
                "quantity": 1,
                "refund_amount": Dec("20.00"),
                "return_date": D2,
            }
        ],
    )
    products = silver(
        "silver.products",
        [
            {"sku": "P1", "category": "A", "unit_cost": Dec("6.00")},
            {"sku": "P2", "category": "B", "unit_cost": Dec("8.00")},
        ],
    )
    sales = sales_lines(lines, excluded_statuses=("cancelled",))
    expected = spark.createDataFrame(
        [
            (D1, "web", None, "A", "P1", 3, Dec("29.00"), Dec("11.00"), 2, 0, Dec("0.00")),
            (D1, "web", None, "B", "P2", 1, Dec("20.00"), Dec("12.00"), 1, 0, Dec("0.00")),
            (D1, "pos", "S1", "A", "P1", 1, Dec("10.00"), Dec("4.00"), 1, 0, Dec("0.00")),
            (D2, "web", None, "B", "P2", 0, Dec("0.00"), Dec("0.00"), 0, 1, Dec("20.00")),
        ],
        OUT,
    )
    assertDataFrameEqual(daily_sales(sales, returns, products), expected)
