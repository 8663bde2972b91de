"""gold.repurchase: the spec on a few customers, and a real-log-shaped history against a plain-Python count."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from pyspark.testing import assertDataFrameEqual

from jobs.gold.cohorts import cohort_members
from jobs.gold.repurchase import repurchase
from jobs.io.schemas import ddl

D = date.fromisoformat
WINDOWS = (7, 30, 90)


def _lines(silver, orders: list[tuple[str | None, str, str, datetime]]):
    """One sales line per (customer, channel, order_id, order_ts) order."""
    return silver(
        "silver.order_lines",
        [
            {"channel": ch, "order_id": o, "line_no": 1, "customer_id": c, "order_date": ts.date(), "order_ts": ts}
            for c, ch, o, ts in orders
        ],
    )


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour)


def test_a_window_counts_once_elapsed_by_week_and_month_cohort_and_first_channel(spark, silver) -> None:
    as_of = D("2025-04-30")
    lines = _lines(
        silver,
        [
            ("A", "web", "A1", _at("2025-01-06")),  # Monday
            ("A", "app", "A2", _at("2025-01-10")),  # again after 4 days: yes for every window
            ("B", "web", "B1", _at("2025-01-07")),
            ("B", "web", "B2", _at("2025-02-20")),  # after 44 days: only within 90
            ("C", "app", "C1", _at("2025-01-08")),  # never again
            ("D", "web", "D1", _at("2025-01-31")),  # a Friday (week of 01-27); 89 days to as_of: 90 not elapsed
            ("D", "web", "D2", _at("2025-04-20")),  # within 90, but the window is open: not counted yet
        ],
    )
    jan, w1, w2 = D("2025-01-01"), D("2025-01-06"), D("2025-01-27")
    third = 1 / 3
    rows = [
        # grain, cohort_start, first_channel, window_days, customers, eligible, repurchased, rate, complete
        ("month", jan, "web", 7, 3, 3, 1, third, True),
        ("month", jan, "web", 30, 3, 3, 1, third, True),
        ("month", jan, "web", 90, 3, 2, 2, 1.0, False),  # D is not a 'no': not counted
        ("month", jan, "app", 7, 1, 1, 0, 0.0, True),
        ("month", jan, "app", 30, 1, 1, 0, 0.0, True),
        ("month", jan, "app", 90, 1, 1, 0, 0.0, True),
        ("week", w1, "web", 7, 2, 2, 1, 0.5, True),
        ("week", w1, "web", 30, 2, 2, 1, 0.5, True),
        ("week", w1, "web", 90, 2, 2, 2, 1.0, True),
        ("week", w1, "app", 7, 1, 1, 0, 0.0, True),
        ("week", w1, "app", 30, 1, 1, 0, 0.0, True),
        ("week", w1, "app", 90, 1, 1, 0, 0.0, True),
        ("week", w2, "web", 7, 1, 1, 0, 0.0, True),
        ("week", w2, "web", 30, 1, 1, 0, 0.0, True),
        ("week", w2, "web", 90, 1, 0, 0, None, False),  # no eligible customer: no rate
    ]
    expected = spark.createDataFrame([(as_of, *r) for r in rows], ddl("gold.repurchase"))
    got = repurchase(cohort_members(lines, as_of=as_of), as_of=as_of, windows_days=WINDOWS)
    assertDataFrameEqual(got, expected)


def _log_like() -> list[tuple[str | None, str, str, datetime]]:
    """Four months as a store's log looks: mostly one-time buyers (one every other day, channels in turn), walk-ins
    without a customer, a few repeaters (one on the same day, one within a week, one after a month), and a
    customer (the only one of an imported channel) who first bought 72 days before as_of and came back once since."""
    channels = ("pos", "web", "marketplace", "app")
    orders = [
        (f"O{i}", channels[i % 4], f"o{i}", datetime(2025, 2, 1, 9 + i % 8) + timedelta(days=2 * i)) for i in range(50)
    ]
    orders += [(None, "pos", f"walkin{i}", datetime(2025, 2, 3, 12) + timedelta(days=5 * i)) for i in range(10)]
    orders += [
        ("R1", "pos", "r1a", _at("2025-02-02", 9)),
        ("R1", "web", "r1b", _at("2025-02-02", 18)),  # the same day: a repurchase within every window
        ("R2", "web", "r2a", _at("2025-02-15")),
        ("R2", "web", "r2b", _at("2025-02-20")),
        ("R2", "app", "r2c", _at("2025-04-01")),
        ("R3", "app", "r3a", _at("2025-03-03")),
        ("R3", "app", "r3b", _at("2025-04-09")),  # 37 days: within 90 only
        ("L", "imported:shop", "la", _at("2025-03-20")),  # as_of - 72 days
        ("L", "imported:shop", "lb", _at("2025-05-01")),  # 42 days: a 'no' within 30, within 90 not yet counted
    ]
    return orders


def _by_python(orders: list[tuple[str | None, str, str, datetime]], as_of: date) -> list[tuple]:
    """gold.repurchase counted in plain Python from the orders (an independent computation)."""
    mine: dict[str, list[tuple[datetime, str, str]]] = defaultdict(list)
    for customer, channel, order_id, ts in orders:
        if customer is not None and ts.date() <= as_of:
            mine[customer].append((ts, channel, order_id))
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for history in mine.values():
        history.sort()
        first, channel = history[0][0].date(), history[0][1]
        second = history[1][0].date() if len(history) > 1 else None
        for grain, start in (("week", first - timedelta(days=first.weekday())), ("month", first.replace(day=1))):
            for w in WINDOWS:
                cell = cells[(grain, start, channel, w)]
                elapsed = (as_of - first).days >= w
                cell[0] += 1
                cell[1] += elapsed
                cell[2] += elapsed and second is not None and (second - first).days <= w
    return [(as_of, *key, n, ok, yes, yes / ok if ok else None, ok == n) for key, (n, ok, yes) in sorted(cells.items())]


def test_a_log_of_mostly_one_time_buyers_matches_a_plain_count(spark, silver) -> None:
    as_of = D("2025-05-31")
    orders = _log_like()
    got = repurchase(cohort_members(_lines(silver, orders), as_of=as_of), as_of=as_of, windows_days=WINDOWS)
    assertDataFrameEqual(got, spark.createDataFrame(_by_python(orders, as_of), ddl("gold.repurchase")))
    # L's cohort: counted within 7 and 30 days (a no), not yet within 90 (its window ends 06-18)
    march = got.where("grain = 'month' AND cohort_start = DATE'2025-03-01' AND first_channel = 'imported:shop'")
    expected = [(7, 1, 1, 0, 0.0, True), (30, 1, 1, 0, 0.0, True), (90, 1, 0, 0, None, False)]
    cols = ["window_days", "customers", "eligible", "repurchased", "repurchase_rate", "window_complete"]
    assertDataFrameEqual(march.select(*cols), spark.createDataFrame(expected, ddl("gold.repurchase", cols)))
