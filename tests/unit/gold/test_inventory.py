from __future__ import annotations

from datetime import date

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import InventoryRules
from jobs.gold.inventory import Z_P90, inventory_health

AS_OF = date(2025, 3, 4)
RULES = InventoryRules(service_level=0.95, lead_time_days=4, demand_window_days=4)  # z = 1.6449
GRID = "store_id string, sku string, date date, units_observed double, on_hand long, on_order long"
FORECAST = "store_id string, sku string, date date, mean double, p10 double, p50 double, p90 double, as_of date"
OUT = (
    "as_of date, store_id string, sku string, on_hand long, on_order long, demand_source string, "
    "demand_mean double, demand_std double, lead_time_demand double, days_of_cover double, safety_stock double, "
    "reorder_point double, stockout_risk string"
)


def test_safety_stock_and_reorder_point_from_history_and_from_forecast(spark) -> None:
    d = [date(2025, 3, i) for i in range(1, 5)]
    grid = spark.createDataFrame(
        [
            # history: observed 2, 4, (stock-out: unknown), 6 -> mean 4, std 2
            ("S1", "P1", d[0], 2.0, 5, 0),
            ("S1", "P1", d[1], 4.0, 3, 0),
            ("S1", "P1", d[2], None, 0, 0),
            ("S1", "P1", d[3], 6.0, 10, 0),
            ("S1", "P2", d[3], 1.0, 30, 5),  # a forecast covers the lead time: history is not used
            ("S2", "P1", d[3], 1.0, None, None),  # no stock snapshot yet: not reported
        ],
        GRID,
    )
    half = 2 * Z_P90  # p90 - p10 = 2 * Z_P90 * sigma -> sigma 2 with this half-spread
    forecast = spark.createDataFrame(
        # the mean, not the P50 (an intermittent SKU's median day sells 0): lead-time demand is a sum of days
        [("S1", "P2", date(2025, 3, i), 5.0, 5.0 - half, 0.0, 5.0 + half, date(2025, 3, 3)) for i in (5, 6, 7, 8)]
        + [
            ("S1", "P2", date(2025, 3, 9), 1000.0, 1000.0, 1000.0, 1000.0, date(2025, 3, 3)),  # beyond lead time
            ("S1", "P2", date(2025, 3, 5), 100.0, 100.0, 100.0, 100.0, date(2025, 3, 1)),  # older run
            ("S1", "P2", date(2025, 3, 6), 100.0, 100.0, 100.0, 100.0, date(2025, 3, 5)),
        ],  # made after as_of
        FORECAST,
    )
    # lead-time demand 4 x 4 = 16, safety 1.6449 x 2 x sqrt(4) = 6.58; forecast: 4 x 5 = 20, same safety
    expected = spark.createDataFrame(
        [
            (AS_OF, "S1", "P1", 10, 0, "history", 4.0, 2.0, 16.0, 2.5, 6.58, 22.58, "high"),
            (AS_OF, "S1", "P2", 30, 5, "forecast", 5.0, 2.0, 20.0, 6.0, 6.58, 26.58, "low"),
        ],
        OUT,
    )
    assertDataFrameEqual(inventory_health(grid, forecast, as_of=AS_OF, rules=RULES), expected)
