from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import (
    AlertRules,
    ConversionDropAlert,
    QuarantineSpikeAlert,
    SalesDropAlert,
    SalesTargetAlert,
    SellThroughAlert,
    SkuTrendAlert,
    SkuTrendRules,
    StockAlert,
)
from jobs.gold.alerts import (
    COLUMNS,
    DIGEST_COLUMNS,
    alert_digest,
    alerts,
    raise_on_onset,
    sales_target,
    sku_trend,
)

D1, D2 = date(2025, 3, 1), date(2025, 3, 2)
RULES = AlertRules(
    sales_drop=SalesDropAlert(min_drop=0.5, high_drop=0.8, min_base_revenue=100, suppress_days=1, weight=3.0),
    conversion_drop=ConversionDropAlert(min_drop=0.5, high_drop=0.8, min_views=10, suppress_days=1, weight=2.0),
    stock=StockAlert(min_daily_demand=0.5, suppress_days=7, weight=1.0),
    sell_through=SellThroughAlert(min_skus_in_stock=2, suppress_days=7, weight=1.0),
    quarantine_spike=QuarantineSpikeAlert(
        max_rate=0.02, high_rate=0.1, spike_factor=3.0, baseline_days=7, suppress_days=1, weight=2.0
    ),
    sales_target=SalesTargetAlert(monthly_revenue={}, tolerance=0.1, high_tolerance=0.25, suppress_days=7, weight=3.0),
    sku_trend=SkuTrendAlert(high_breakout_ratio=6.0, high_collapse_ratio=0.15, suppress_days=3, weight=1.5),
    digest_top_n=2,
)
TRENDS = SkuTrendRules(
    recent_days=28, baseline_days=84, breakout_ratio=3.0, collapse_ratio=0.33, min_z=3.0, min_expected_lines=5.0
)
TREND_DAYS = (
    "date date, sku string, category string, recent_units long, expected_units double, recent_lines long, "
    "ratio double, z double, trend string"
)
NEW = ("new", D2, 1)  # status, since, days_active of an alert raised on D2 for a condition new that day
ALERT_SCHEMA = (
    "business_date date, rule string, severity string, entity_type string, entity_id string, metric double, "
    "baseline double, threshold double, detail string, status string, since date, days_active int, priority double"
)


def _stock(spark, rows: list[tuple]):
    return spark.createDataFrame(
        rows,
        "store_id string, sku string, date date, on_hand long, on_order long, demand_mean double, "
        "lead_time_demand double, reorder_point double",
    )


def _day(n: int) -> date:
    return date(2025, 3, n)


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
    stock = _stock(
        spark,
        [
            ("S1", "P1", D2, 0, 0, 1.0, 3.0, 5.5),
            ("S1", "P2", D2, 10, 0, 1.0, 3.0, 5.0),
            ("S1", "P3", D2, None, 0, 1.0, 3.0, 5.0),
        ],
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
                "new",
                D2,
                1,
                2.7,
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
                "new",
                D2,
                1,
                1.2,
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
                "new",
                D2,
                1,
                1.0,
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
                "new",
                D2,
                1,
                0.5,
            ),
            (
                D2,
                "quarantine_spike",
                "high",
                "source",
                "web_orders",
                0.1,
                0.01,
                0.02,
                "20 of 200 rows quarantined",
                *NEW,
                2.0,
            ),
            (
                D2,
                "quarantine_spike",
                "medium",
                "source",
                "app_orders",
                0.03,
                0.0,
                0.02,
                "3 of 100 rows quarantined",
                *NEW,
                0.6,
            ),
        ],
        ALERT_SCHEMA,
    )
    actual = alerts(
        sales,
        funnel,
        stock,
        sell,
        audit,
        spark.createDataFrame([], TREND_DAYS),
        rules=RULES,
        sell_through_flag_below=0.05,
        trends=TRENDS,
    )
    assert actual.columns == COLUMNS
    assertDataFrameEqual(actual, expected)


def test_a_condition_raises_on_onset_and_again_only_after_the_suppression_window(spark) -> None:
    held = {
        "A": [(n, "medium") for n in range(1, 11)],  # ten days in a row: once
        "B": [(1, "medium"), (2, "medium"), (5, "medium"), (10, "medium")],  # gap of 2 days: no; of 4 days: again
        "C": [(1, "medium"), (3, "high"), (4, "high")],  # worse within the window: escalated, once
    }
    conditions = spark.createDataFrame(
        [
            (_day(n), "r", sev, "e", entity, 1.0, None, 0.5, "why", 0.5)
            for entity, days in held.items()
            for n, sev in days
        ],
        "business_date date, rule string, severity string, entity_type string, entity_id string, metric double, "
        "baseline double, threshold double, detail string, score double",
    )
    expected = spark.createDataFrame(
        [
            (_day(d), "r", sev, "e", entity, 1.0, None, 0.5, "why", status, _day(since), active, 1.0)
            for entity, d, sev, status, since, active in [
                ("A", 1, "medium", "new", 1, 1),
                ("B", 1, "medium", "new", 1, 1),
                ("B", 10, "medium", "new", 10, 1),
                ("C", 1, "medium", "new", 1, 1),
                ("C", 3, "high", "escalated", 1, 2),
            ]
        ],
        ALERT_SCHEMA,
    )
    assertDataFrameEqual(raise_on_onset(conditions, suppress_days=3, weight=2.0), expected)
    every_day = raise_on_onset(conditions, suppress_days=0, weight=2.0)  # no suppression: each condition's day
    assert sorted(every_day.select("entity_id", "status").collect()) == sorted(
        [("A", "new")] * 10 + [("B", "new")] * 4 + [("C", "new")] * 3
    )


def test_stock_severity_follows_stock_cover_orders_and_demand(spark, silver) -> None:
    # lead-time demand 7, reorder point 10 unless stated; demand_mean 1 (sells) unless stated
    stock = _stock(
        spark,
        [
            ("S1", "P1", D2, 0, 0, 1.0, 7.0, 10.0),  # out of stock: high
            ("S1", "P2", D2, 5, 0, 1.0, 7.0, 10.0),  # under the lead time's demand: high
            ("S1", "P3", D2, 8, 0, 1.0, 7.0, 10.0),  # below the reorder point: medium
            ("S1", "P4", D2, 8, 5, 1.0, 7.0, 10.0),  # on order covers it: low
            ("S1", "P5", D2, 0, None, 0.2, 1.4, 3.0),  # a slow seller: low
            ("S1", "P6", D2, 12, 0, 1.0, 7.0, 10.0),  # above: none
        ],
    )
    empty = _empty_inputs(spark, silver)
    actual = alerts(*empty[:2], stock, *empty[2:], rules=RULES, sell_through_flag_below=0.05, trends=TRENDS)
    expected = spark.createDataFrame(
        [("S1/P1", "high", 1.0), ("S1/P2", "high", 0.5), ("S1/P3", "medium", 0.2), ("S1/P4", "low", 0.2)]
        + [("S1/P5", "low", 1.0)],
        "entity_id string, severity string, priority double",
    )
    assertDataFrameEqual(actual.select("entity_id", "severity", "priority"), expected)


def _empty_inputs(spark, silver) -> tuple:
    """daily_sales, funnel, sell_through, batch_audit and SKU trend day frames without rows."""
    return (
        spark.createDataFrame([], "business_date date, channel string, revenue decimal(18,2)"),
        spark.createDataFrame([], "business_date date, channel string, view_sessions long, conversion_rate double"),
        spark.createDataFrame(
            [],
            "date date, store_id string, category string, skus_in_stock long, skus_sold long, "
            "sell_through double, flagged boolean",
        ),
        silver("ops.batch_audit", []),
        spark.createDataFrame([], TREND_DAYS),
    )


def test_sales_target_alerts_when_month_to_date_revenue_falls_behind_the_pro_rata_target(spark) -> None:
    targets = SalesTargetAlert(
        monthly_revenue={"web": 3100.0, "pos": 3100.0}, tolerance=0.1, high_tolerance=0.25, suppress_days=7, weight=3.0
    )
    apr1 = date(2025, 4, 1)
    sales = spark.createDataFrame(
        [
            (_day(1), "web", Dec("100.00")),  # pace 100 a day in March (31 days)
            (_day(1), "pos", Dec("95.00")),  # 5% behind: within the tolerance
            (_day(1), "app", Dec("1.00")),  # no target
            (_day(2), "web", Dec("50.00")),  # 150 vs 200: 25% behind, medium
            (_day(2), "pos", Dec("100.00")),
            (_day(3), "pos", Dec("100.00")),  # web sells nothing: 150 vs 300, high (escalated)
            (apr1, "web", Dec("100.00")),  # a new month: 100 vs 3100 / 30
        ],
        "business_date date, channel string, revenue decimal(18,2)",
    )
    expected = spark.createDataFrame(
        [
            (_day(2), "medium", "web", 150.0, 200.0, 180.0, "month to date 150.00 vs 200.00 pro-rata target (-25%)")
            + ("new", _day(2), 1, 0.75),
            (_day(3), "high", "web", 150.0, 300.0, 270.0, "month to date 150.00 vs 300.00 pro-rata target (-50%)")
            + ("escalated", _day(2), 2, 1.5),
            (
                apr1,
                "high",
                "pos",
                0.0,
                3100 / 30,
                3100 / 30 * 0.9,
                "month to date 0.00 vs 103.33 pro-rata target (-100%)",
            )
            + ("new", apr1, 1, 3.0),
        ],
        "business_date date, severity string, entity_id string, metric double, baseline double, threshold double, "
        "detail string, status string, since date, days_active int, priority double",
    )
    actual = sales_target(sales, rules=replace(RULES, sales_target=targets))
    assert actual is not None and sales_target(sales, rules=RULES) is None  # no targets: no rule
    assertDataFrameEqual(actual.select(*expected.columns), expected)


def test_digest_keeps_the_top_n_of_each_day_by_severity_then_priority(spark) -> None:
    def row(day: date, rule: str, severity: str, entity: str, priority: float) -> tuple:
        return (day, rule, severity, "e", entity, 1.0, None, 0.0, "why", "new", day, 1, priority)

    raised = spark.createDataFrame(
        [
            row(D1, "stock_below_reorder", "high", "S1/P1", 0.5),
            row(D1, "sales_drop", "medium", "web", 3.0),  # a higher priority, but medium
            row(D1, "sales_target", "high", "pos", 2.0),
            row(D1, "stock_below_reorder", "low", "S1/P2", 1.0),
            row(D2, "stock_below_reorder", "high", "S1/P1", 1.0),
            row(D2, "sell_through_low", "high", "S1/A", 1.0),  # a tie: by rule
            row(D2, "conversion_drop", "medium", "web", 2.0),
        ],
        ALERT_SCHEMA,
    )
    expected = spark.createDataFrame(
        [
            (D1, 1, "sales_target", "high", "new", "e", "pos", 2.0, D1, 1, "why"),
            (D1, 2, "stock_below_reorder", "high", "new", "e", "S1/P1", 0.5, D1, 1, "why"),
            (D2, 1, "sell_through_low", "high", "new", "e", "S1/A", 1.0, D2, 1, "why"),
            (D2, 2, "stock_below_reorder", "high", "new", "e", "S1/P1", 1.0, D2, 1, "why"),
        ],
        "business_date date, rank int, rule string, severity string, status string, entity_type string, "
        "entity_id string, priority double, since date, days_active int, detail string",
    )
    actual = alert_digest(raised, top_n=RULES.digest_top_n)
    assert actual.columns == DIGEST_COLUMNS
    assertDataFrameEqual(actual, expected)


def test_sku_breakouts_and_collapses_raise_on_onset_with_severity_from_the_ratio(spark) -> None:
    trend_days = spark.createDataFrame(
        [
            (_day(1), "P1", "shoes", 400, 100.0, 120, 4.0, 8.0, "breakout"),  # medium
            (_day(2), "P1", "shoes", 800, 100.0, 200, 8.0, 12.0, "breakout"),  # worse: high, escalated
            (_day(3), "P1", "shoes", 800, 100.0, 200, 8.0, 12.0, "breakout"),  # held: suppressed
            (_day(2), "P2", "bags", 20, 200.0, 10, 0.1, -9.0, "collapse"),  # high
            (_day(2), "P3", "bags", 20, 21.0, 10, 0.95, -0.2, "steady"),
            (_day(6), "P2", "bags", 60, 200.0, 30, 0.3, -7.0, "collapse"),  # after 3 days without it: again
        ],
        TREND_DAYS,
    )
    actual = sku_trend(trend_days, rule=RULES.sku_trend, trends=TRENDS)
    rows = sorted(
        (r["business_date"].day, r["rule"], r["entity_id"], r["severity"], r["status"], r["metric"], r["threshold"])
        + (r["priority"],)
        for part in actual
        for r in part.collect()
    )
    assert rows == [
        (1, "sku_breakout", "P1", "medium", "new", 400.0, 300.0, 1.125),  # 1.5 x (1 - 1/4)
        (2, "sku_breakout", "P1", "high", "escalated", 800.0, 300.0, 1.3125),
        (2, "sku_collapse", "P2", "high", "new", 20.0, 66.0, 1.35),  # 1.5 x (1 - 0.1)
        (6, "sku_collapse", "P2", "medium", "new", 60.0, 66.0, 1.05),
    ]
    detail = actual[0].where("business_date = DATE'2025-03-01'").first()["detail"]
    assert detail == "shoes: 400 units in the 28 days to the date vs 100.0 expected (x4.00; 120 order lines, z 8.0)"
