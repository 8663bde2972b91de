"""read_from: the window of each input a plan's rewrites read; period_starts: the partitions of weekly facts (pure:
no Spark)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from jobs.io.changes import GRID, LINES, FactSpec, Plan, period_starts, read_from

D = [date(2025, 3, 1) + timedelta(days=i) for i in range(10)]
IMPORTED, INVENTORY, EVENTS = "silver.daily_sales_imported", "silver.inventory", "silver.events"
SPECS = (
    FactSpec("gold.a", "business_date", {}, needs={LINES: 3, EVENTS: 0}),
    FactSpec("gold.b", "business_date", {}, needs={GRID: 2}),
    FactSpec("gold.c", "business_date", {}, needs={LINES: 0, "ops.batch_audit": 1}),
)


def _plan(a, b, c) -> Plan:
    return Plan("gold", D[9], {}, {"gold.a": a, "gold.b": b, "gold.c": c})


def test_each_input_is_read_from_the_earliest_first_rewritten_date_less_its_look_back() -> None:
    # a: from 03-06 (lines 3 days back: 03-03); b: from 03-07 (grid 2 back: 03-05, and the grid's inputs);
    # c rewrites nothing: its inputs add nothing, an input only it reads starts after `until`
    starts = read_from(_plan((D[5], D[8]), (D[6],), ()), SPECS)
    assert starts == {
        LINES: D[2],
        EVENTS: D[5],
        GRID: D[4],
        IMPORTED: D[4],
        INVENTORY: D[4],
        "ops.batch_audit": D[9] + timedelta(days=1),
    }
    # another reader of the grid (snapshots) moves its start, and its inputs', back
    also = read_from(_plan((D[5],), (D[6],), ()), SPECS, also={GRID: D[1]})
    assert (also[GRID], also[LINES], also[INVENTORY]) == (D[1], D[1], D[1])


def test_a_fact_rewritten_in_full_reads_its_inputs_whole() -> None:
    starts = read_from(_plan((D[5],), None, (D[9],)), SPECS)
    assert starts == {LINES: None, EVENTS: D[5], GRID: None, IMPORTED: None, INVENTORY: None, "ops.batch_audit": D[8]}


def test_weekly_facts_rewrite_the_mondays_of_the_affected_days() -> None:
    # 03-01 is a Saturday (its week starts 02-24), 03-03 .. 03-09 the next week
    days = {D[0], D[3], D[8]}
    assert period_starts(days, "day") == days
    assert period_starts(days, "week") == {date(2025, 2, 24), date(2025, 3, 3)}
    assert period_starts(days, "day+week") == days | {date(2025, 2, 24), date(2025, 3, 3)}
    with pytest.raises(ValueError, match="period must be one of"):
        FactSpec("gold.x", "week_start", {}, period="month")
