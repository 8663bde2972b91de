from __future__ import annotations

from datetime import date, datetime

from pyspark.testing import assertDataFrameEqual

from jobs.gold.cohorts import cohort_retention

AS_OF = date(2025, 3, 15)


def test_cohorts_count_repurchase_among_eligible_and_month_n_activity(spark, silver) -> None:
    orders = [
        ("C1", "2025-01-05"),
        ("C1", "2025-01-20"),
        ("C1", "2025-03-02"),  # repurchase after 15 days
        ("C2", "2025-01-10"),
        ("C2", "2025-02-25"),  # after 46 days: not within 30
        ("C3", "2025-02-03"),
        ("C4", "2025-03-01"),
        ("C4", "2025-03-10"),
    ]  # too young to be eligible
    lines = silver(
        "silver.order_lines",
        [
            {
                "channel": "web",
                "order_id": f"{c}{d}",
                "line_no": 1,
                "customer_id": c,
                "order_date": date.fromisoformat(d),
                "order_ts": datetime.fromisoformat(f"{d}T10:00:00"),
            }
            for c, d in orders
        ],
    )
    jan, feb, mar = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
    expected = spark.createDataFrame(
        [
            (AS_OF, jan, 2, 2, 1, 0.5, 0, 2, 1.0),
            (AS_OF, jan, 2, 2, 1, 0.5, 1, 1, 0.5),
            (AS_OF, jan, 2, 2, 1, 0.5, 2, 1, 0.5),
            (AS_OF, feb, 1, 1, 0, 0.0, 0, 1, 1.0),
            (AS_OF, feb, 1, 1, 0, 0.0, 1, 0, 0.0),
            (AS_OF, mar, 1, 0, 1, None, 0, 1, 1.0),
        ],
        "as_of date, cohort_month date, customers long, repurchase_eligible long, repurchased long, "
        "repurchase_rate double, month_n int, active_customers long, retention_rate double",
    )
    assertDataFrameEqual(cohort_retention(lines, as_of=AS_OF, repurchase_days=30), expected)
