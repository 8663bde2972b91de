from __future__ import annotations

from datetime import date
from decimal import Decimal as Dec

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.gold.performance import brand_performance, gmv_decomposition
from jobs.io.schemas import ddl

D = date.fromisoformat
W1, W2 = D("2025-03-03"), D("2025-03-10")  # Mondays
FUNNEL = "business_date date, channel string, view_sessions long"


def _lines(silver, rows):
    return silver(
        "silver.order_lines",
        [
            dict(channel=c, order_id=o, line_no=n, order_date=D(d), sku=s, quantity=q, net_amount=Dec(a))
            for c, o, n, d, s, q, a in rows
        ],
    )


def test_brand_performance_shares_each_channels_week_and_grows_against_the_week_before(spark, silver) -> None:
    products = silver("silver.products", [{"sku": "P1", "brand": "X"}, {"sku": "P2", "brand": "Y"}])
    lines = _lines(
        silver,
        [
            ("web", "O1", 1, "2025-03-03", "P1", 2, "20.00"),
            ("web", "O1", 2, "2025-03-03", "P2", 1, "30.00"),
            ("web", "O2", 1, "2025-03-09", "P1", 1, "10.00"),
            ("web", "O3", 1, "2025-03-11", "P1", 3, "45.00"),
            ("pos", "T1", 1, "2025-03-04", "P2", 1, "40.00"),
            ("web", "O4", 1, "2025-03-12", "P9", 1, "5.00"),  # a SKU the catalog does not know
            ("web", "O5", 1, "2025-03-13", "P1", 1, "99.00"),  # after until
        ],
    )
    got = brand_performance(lines, products, until=D("2025-03-12"))
    expected = spark.createDataFrame(
        [
            (W1, "X", "web", 7, 3, 2, Dec("30.00"), Dec("60.00"), 0.5, Dec("0.00"), None),
            (W1, "Y", "web", 7, 1, 1, Dec("30.00"), Dec("60.00"), 0.5, Dec("0.00"), None),
            (W1, "Y", "pos", 7, 1, 1, Dec("40.00"), Dec("40.00"), 1.0, Dec("0.00"), None),
            # the week of 03-10 to 03-12 (3 days): X grew by half, Y and pos sold nothing
            (W2, "X", "web", 3, 3, 1, Dec("45.00"), Dec("50.00"), 0.9, Dec("30.00"), 0.5),
            (W2, "unknown", "web", 3, 1, 1, Dec("5.00"), Dec("50.00"), 0.1, Dec("0.00"), None),
            (W2, "Y", "web", 3, 0, 0, Dec("0.00"), Dec("50.00"), 0.0, Dec("30.00"), -1.0),
            (W2, "Y", "pos", 3, 0, 0, Dec("0.00"), Dec("0.00"), None, Dec("40.00"), -1.0),
        ],
        ddl("gold.brand_performance"),
    )
    assertDataFrameEqual(got, expected)


def test_gmv_decomposition_splits_the_change_into_factors_that_add_up(spark, silver) -> None:
    lines = _lines(
        silver,
        [
            # web 03-09 (Sun): 2 orders, 100.00; 03-10 (Mon): 3 orders, 180.00
            ("web", "W1", 1, "2025-03-09", "P1", 1, "60.00"),
            ("web", "W2", 1, "2025-03-09", "P1", 1, "40.00"),
            ("web", "W3", 1, "2025-03-10", "P1", 1, "50.00"),
            ("web", "W3", 2, "2025-03-10", "P2", 1, "10.00"),
            ("web", "W4", 1, "2025-03-10", "P1", 1, "60.00"),
            ("web", "W5", 1, "2025-03-10", "P1", 1, "60.00"),
            # pos: no sessions; 03-09 one order of 30.00, 03-10 none
            ("pos", "T1", 1, "2025-03-09", "P1", 1, "30.00"),
        ],
    )
    funnel = spark.createDataFrame(
        [(D("2025-03-09"), "web", 20), (D("2025-03-10"), "web", 25)],
        FUNNEL,
    )
    got = gmv_decomposition(lines, funnel, until=D("2025-03-10"))
    expected = spark.createDataFrame(
        [
            # web 03-10 vs 03-09: V 20 -> 25, C 0.1 -> 0.12, A 50 -> 60. Sequential: visitors (25-20) x 0.1 x 50 =
            # 25.00; conversion 25 x 0.02 x 50 = 25.00; AOV 3 x 10 = 30.00; sum 80.00 = 180.00 - 100.00
            ("web", "day", D("2025-03-10"), 1, 25, 3, Dec("180.00"), 0.12, 60.0, 20, 2, Dec("100.00"), Dec("80.00"))
            + (Dec("25.00"), Dec("25.00"), Dec("50.00"), Dec("30.00")),
            ("web", "day", D("2025-03-09"), 1, 20, 2, Dec("100.00"), 0.1, 50.0, 0, 0, Dec("0.00"), Dec("100.00"))
            + (Dec("0.00"), Dec("0.00"), Dec("0.00"), Dec("100.00")),
            # pos has no visitors: only orders (1 -> 0) and AOV split its change
            ("pos", "day", D("2025-03-09"), 1, 0, 1, Dec("30.00"), None, 30.0, 0, 0, Dec("0.00"), Dec("30.00"))
            + (None, None, Dec("0.00"), Dec("30.00")),
            ("pos", "day", D("2025-03-10"), 1, 0, 0, Dec("0.00"), None, None, 0, 1, Dec("30.00"), Dec("-30.00"))
            + (None, None, Dec("-30.00"), Dec("0.00")),
            # the week of 03-03 holds 03-09; the week of 03-10 its first day, against it
            ("web", "week", W1, 7, 20, 2, Dec("100.00"), 0.1, 50.0, 0, 0, Dec("0.00"), Dec("100.00"))
            + (Dec("0.00"), Dec("0.00"), Dec("0.00"), Dec("100.00")),
            ("web", "week", W2, 1, 25, 3, Dec("180.00"), 0.12, 60.0, 20, 2, Dec("100.00"), Dec("80.00"))
            + (Dec("25.00"), Dec("25.00"), Dec("50.00"), Dec("30.00")),
            ("pos", "week", W1, 7, 0, 1, Dec("30.00"), None, 30.0, 0, 0, Dec("0.00"), Dec("30.00"))
            + (None, None, Dec("0.00"), Dec("30.00")),
            ("pos", "week", W2, 1, 0, 0, Dec("0.00"), None, None, 0, 1, Dec("30.00"), Dec("-30.00"))
            + (None, None, Dec("-30.00"), Dec("0.00")),
        ],
        ddl("gold.gmv_decomposition"),
    )
    assertDataFrameEqual(got, expected)
    # every row: the effects add up to the change exactly
    sums = got.where(F.col("orders_effect") + F.col("aov_effect") != F.col("gmv_change"))
    assert sums.count() == 0
