from __future__ import annotations

import statistics
from datetime import date
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.features.item_store_day import item_store_day

D = [date(2025, 3, i) for i in range(1, 5)]  # Saturday .. Tuesday
# units the 3 days before D[3] observed: D[0] and D[2] (D[1] was a stock-out, its demand unobserved)
OBSERVED = (2.0, 1.0)
GRID = (
    "store_id string, sku string, date date, units double, units_observed double, on_hand long, on_order long, "
    "stockout boolean, in_stock boolean, promo boolean, price double"
)


def test_lags_and_rolling_stats_look_back_only_and_skip_stockouts(spark, silver) -> None:
    grid = spark.createDataFrame(
        [
            ("S1", "P1", D[0], 2.0, 2.0, 5, 0, False, True, False, 10.0),
            ("S1", "P1", D[1], 0.0, None, 0, 5, True, False, False, 10.0),
            ("S1", "P1", D[2], 1.0, 1.0, 0, 5, True, True, True, 8.0),
            ("S1", "P1", D[3], 0.0, 0.0, 4, 0, False, True, False, 8.0),
        ],
        GRID,
    )
    products = silver("silver.products", [{"sku": "P1", "category": "A", "list_price": Dec("10.00")}])
    expected = spark.createDataFrame(
        [
            (
                D[0],
                "S1",
                "P1",
                "A",
                2.0,
                2.0,
                5,
                0,
                False,
                False,
                10.0,
                10.0,
                None,
                0.0,
                None,
                None,
                None,
                7,
                1,
                9,
                3,
                True,
            ),
            (
                D[1],
                "S1",
                "P1",
                "A",
                0.0,
                None,
                0,
                5,
                True,
                False,
                10.0,
                10.0,
                0.0,
                0.0,
                2.0,
                2.0,
                None,
                1,
                2,
                9,
                3,
                True,
            ),
            (
                D[2],
                "S1",
                "P1",
                "A",
                1.0,
                1.0,
                0,
                5,
                True,
                True,
                8.0,
                10.0,
                -0.2,
                0.2,
                None,
                2.0,
                None,
                2,
                3,
                10,
                3,
                False,
            ),
            (
                D[3],
                "S1",
                "P1",
                "A",
                0.0,
                0.0,
                4,
                0,
                False,
                False,
                8.0,
                10.0,
                0.0,
                0.2,
                1.0,
                statistics.mean(OBSERVED),
                round(statistics.stdev(OBSERVED), 4),
                3,
                4,
                10,
                3,
                False,
            ),
        ],
        "date date, store_id string, sku string, category string, units double, units_observed double, on_hand long, "
        "on_order long, stockout boolean, promo boolean, price double, list_price double, price_change double, "
        "discount_depth double, units_lag_1 double, units_mean_3 double, units_std_3 double, day_of_week int, "
        "day_of_month int, week_of_year int, month int, is_weekend boolean",
    )
    assertDataFrameEqual(item_store_day(grid, products, lags=(1,), rolling=(3,)), expected)
