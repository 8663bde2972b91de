from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import (
    AlertRules,
    ConversionDropAlert,
    QuarantineSpikeAlert,
    SalesDropAlert,
    SellThroughAlert,
)
from jobs.gold.alerts import COLUMNS, alerts

D1, D2 = date(2025, 3, 1), date(2025, 3, 2)
RULES = AlertRules(
    sales_drop=SalesDropAlert(min_drop=0.5, high_drop=0.8, min_base_revenue=100),
    conversion_drop=ConversionDropAlert(min_drop=0.5, high_drop=0.8, min_views=10),
    sell_through=SellThroughAlert(min_skus_in_stock=2),
    quarantine_spike=QuarantineSpikeAlert(max_rate=0.02, high_rate=0.1, spike_factor=3.0, baseline_days=7),
)


def test_each_rule_raises_with_severity_and_numbers(spark, silver) -> None:
    sales = spark.createDataFrame(
        [
            (D1, "web", Dec("1000.00")),
            (D2, "web", Dec("100.00")),  # -90%: high
            (D1, "app", Dec("200.00")),
            (D2, "app", Dec("150.00")),  # -25%: fine
            (D1, "pos", Dec("50.00")),  # gone, but below the minimum base
        ],
        "business_date date, channel string, revenue decimal(18,2)",
    )
    funnel = spark.createDataFrame(
        [
            (D1, "web", 100, 0.1),
            (D2, "web", 50, 0.04),
            (D1, "app", 50, 0.5),
            (D2, "app", 5, 0.0),
        ],  # too few views to judge
        "business_date date, channel string, view_sessions long, conversion_rate double",
    )
    stock = spark.createDataFrame(
        [("S1", "P1", D2, 0, 3.0, 5.5), ("S1", "P2", D2, 10, 3.0, 5.0), ("S1", "P3", D2, None, 3.0, 5.0)],
        "store_id string, sku string, date date, on_hand long, lead_time_demand double, reorder_point double",
    )
    sell = spark.createDataFrame(
        [(D2, "S1", "A", 40, 1, 0.025, True), (D2, "S2", "A", 1, 0, 0.0, True)],
        "date date, store_id string, category string, skus_in_stock long, skus_sold long, "
        "sell_through double, flagged boolean",
    )
    audit = silver(
        "ops.batch_audit",
        [
            {
                "source": "web_orders",
                "batch_id": "w1",
                "bronze_rows": 100,
                "quarantined": 1,
                "processed_at": datetime(2025, 3, 2, 6),
                "delivery_date": date(2025, 3, 1),
            },
            {
                "source": "web_orders",
                "batch_id": "w2",
                "bronze_rows": 200,
                "quarantined": 20,
                "processed_at": datetime(2025, 3, 3, 6),
                "delivery_date": date(2025, 3, 2),
            },
            {
                "source": "app_orders",
                "batch_id": "a1",
                "bronze_rows": 100,
                "quarantined": 3,
                "processed_at": datetime(2025, 3, 3, 6),
                "delivery_date": date(2025, 3, 2),
            },
        ],
    )
    expected = spark.createDataFrame(
        [
            (
                D2,
                "sales_drop",
                "high",
                "channel",
                "web",
                100.0,
                1000.0,
                0.5,
                "revenue 100.00 vs 1000.00 the day before (-90%)",
            ),
            (
                D2,
                "conversion_drop",
                "medium",
                "channel",
                "web",
                0.04,
                0.1,
                0.5,
                "conversion 0.0400 vs 0.1000 the day before",
            ),
            (
                D2,
                "stock_below_reorder",
                "high",
                "store_sku",
                "S1/P1",
                0.0,
                3.0,
                5.5,
                "on hand 0 below reorder point 5.50",
            ),
            (
                D2,
                "sell_through_low",
                "medium",
                "store_category",
                "S1/A",
                0.025,
                None,
                0.05,
                "1 of 40 SKUs in stock sold",
            ),
            (D2, "quarantine_spike", "high", "source", "web_orders", 0.1, 0.01, 0.02, "20 of 200 rows quarantined"),
            (D2, "quarantine_spike", "medium", "source", "app_orders", 0.03, 0.0, 0.02, "3 of 100 rows quarantined"),
        ],
        "business_date date, rule string, severity string, entity_type string, entity_id string, metric double, "
        "baseline double, threshold double, detail string",
    )
    actual = alerts(sales, funnel, stock, sell, audit, rules=RULES, sell_through_flag_below=0.05)
    assert actual.columns == COLUMNS
    assertDataFrameEqual(actual, expected)
