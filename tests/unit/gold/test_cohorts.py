from __future__ import annotations

from datetime import date, datetime

from pyspark.testing import assertDataFrameEqual

from jobs.gold.cohorts import cohort_members, cohort_retention, cohort_retention_weekly_of
from jobs.io.schemas import ddl

AS_OF = date(2025, 3, 15)
D = date.fromisoformat


def _lines(silver, orders: list[tuple[str, str, str, str]]):
    """Order lines of (customer, channel, order_id, ISO timestamp) orders, one line each."""
    return silver(
        "silver.order_lines",
        [
            {
                "channel": ch,
                "order_id": o,
                "line_no": 1,
                "customer_id": c,
                "order_date": datetime.fromisoformat(ts).date(),
                "order_ts": datetime.fromisoformat(ts),
            }
            for c, ch, o, ts in orders
        ],
    )


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


def test_members_keep_the_first_channel_and_the_weeks_ordered_in(spark, silver) -> None:
    lines = _lines(
        silver,
        [
            ("C1", "web", "W1", "2025-02-24T09:00:00"),  # same instant as P1: web sorts after pos
            ("C1", "pos", "P1", "2025-02-24T09:00:00"),
            ("C1", "web", "W2", "2025-03-11T10:00:00"),
            ("C2", "app", "A1", "2025-03-02T23:00:00"),  # a Sunday: the week of 02-24
            ("C2", "app", "A2", "2025-03-03T08:00:00"),
            ("C3", "web", "W3", "2025-03-16T08:00:00"),  # after as_of
        ],
    )
    got = cohort_members(lines, as_of=AS_OF).select("customer_id", "first_date", "first_channel", "active_weeks")
    expected = spark.createDataFrame(
        [
            ("C1", D("2025-02-24"), "pos", [D("2025-02-24"), D("2025-03-10")]),
            ("C2", D("2025-03-02"), "app", [D("2025-02-24"), D("2025-03-03")]),
        ],
        "customer_id string, first_date date, first_channel string, active_weeks array<date>",
    )
    assertDataFrameEqual(got, expected)


def test_weekly_cohorts_count_repurchase_among_eligible_and_week_n_activity(spark, silver) -> None:
    lines = _lines(
        silver,
        [
            ("C1", "web", "W1", "2025-02-24T10:00:00"),  # cohort 02-24 (Monday)
            ("C1", "web", "W2", "2025-02-27T10:00:00"),  # again after 3 days, the same week
            ("C1", "web", "W3", "2025-03-11T10:00:00"),  # week 2
            ("C2", "app", "A1", "2025-03-02T10:00:00"),  # a Sunday: cohort 02-24
            ("C2", "app", "A2", "2025-03-03T10:00:00"),  # after 1 day, week 1
            ("C3", "pos", "P1", "2025-03-04T10:00:00"),  # cohort 03-03, once
            ("C4", "web", "W4", "2025-03-12T10:00:00"),  # cohort 03-10: window open at as_of (not eligible)
            ("C4", "web", "W5", "2025-03-14T10:00:00"),
        ],
    )
    w0, w1, w2 = D("2025-02-24"), D("2025-03-03"), D("2025-03-10")
    expected = spark.createDataFrame(
        [
            (AS_OF, w0, 2, 2, 2, 1.0, 0, 2, 1.0),
            (AS_OF, w0, 2, 2, 2, 1.0, 1, 1, 0.5),
            (AS_OF, w0, 2, 2, 2, 1.0, 2, 1, 0.5),
            (AS_OF, w1, 1, 1, 0, 0.0, 0, 1, 1.0),
            (AS_OF, w1, 1, 1, 0, 0.0, 1, 0, 0.0),
            (AS_OF, w2, 1, 0, 1, None, 0, 1, 1.0),
        ],
        ddl("gold.cohort_retention_weekly"),
    )
    members = cohort_members(lines, as_of=AS_OF)
    assertDataFrameEqual(cohort_retention_weekly_of(members, as_of=AS_OF, repurchase_days=7), expected)
