"""Snapshot retention (issue 11, defect 3): what a snapshot write drops, as a pure decision on partition dates."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

from jobs.io.writes import expired_snapshots, in_waves, snapshot_dates, write_in_waves

D = date(2025, 5, 1)


def _days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def test_steady_state_drops_what_falls_out_of_the_retention() -> None:
    existing = _days(D - timedelta(days=36), 36)  # [D - 36, D - 1]: yesterday's run kept 36 dates
    days, cutoff = snapshot_dates(D, None, keep_days=35)
    assert expired_snapshots(existing, cutoff=cutoff, run_days=days) == [D - timedelta(days=36)]


def test_a_jump_in_as_of_keeps_the_last_good_snapshot() -> None:
    existing = _days(D - timedelta(days=35), 36)  # [D - 35, D]
    days, cutoff = snapshot_dates(date(2026, 3, 1), None, keep_days=35)  # a typo: next year
    assert expired_snapshots(existing, cutoff=cutoff, run_days=days) == existing[:-1]  # D stays
    # a backfill up to the jump keeps it too (the run's own dates are not "the last good snapshot")
    days, cutoff = snapshot_dates(date(2026, 3, 1), date(2026, 2, 27), keep_days=35)
    assert expired_snapshots([*existing, *days[:2]], cutoff=cutoff, run_days=days) == existing[:-1]


def test_retention_zero_still_keeps_the_previous_snapshot_and_a_rerun_drops_nothing() -> None:
    days, cutoff = snapshot_dates(D, None, keep_days=0)
    assert expired_snapshots([D - timedelta(days=2), D - timedelta(days=1)], cutoff=cutoff, run_days=days) == [
        D - timedelta(days=2)
    ]
    assert expired_snapshots([D - timedelta(days=1), D], cutoff=cutoff, run_days=days) == []
    assert expired_snapshots([], cutoff=cutoff, run_days=days) == []
    assert expired_snapshots([D], cutoff=cutoff, run_days=days) == []


def test_waves_write_each_table_once_readers_after_what_they_read_and_keep_the_order() -> None:
    tables = ["a", "alerts", "b", "digest", "gmv"]
    assert in_waves(tables, (("alerts", "gmv"), ("digest",))) == [["a", "b"], ["alerts", "gmv"], ["digest"]]
    assert in_waves(tables) == [tables]
    assert in_waves(["a"], (("x",),)) == [["a"]]  # a wave of tables not written is left out


def test_write_in_waves_runs_a_wave_only_after_the_one_before_and_returns_rows_in_table_order() -> None:
    done: list[str] = []
    lock = threading.Lock()

    def write(table: str) -> int:
        time.sleep(0.05 if table == "slow" else 0)
        with lock:
            done.append(table)
        return len(table)

    rows = write_in_waves(write, ["slow", "b", "late"], after=(("late",),), workers=4)
    assert rows == {"slow": 4, "b": 1, "late": 4} and list(rows) == ["slow", "b", "late"]
    assert done[-1] == "late" and set(done[:2]) == {"slow", "b"}
