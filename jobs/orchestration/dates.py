"""Which business dates a DAG run processes: its params, or else its data interval in the business time zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


def interval_dates(interval_start: datetime, interval_end: datetime, *, tz: str) -> tuple[date, date]:
    """The local business dates a data interval covers: [start, end) -> first and last date, inclusive.

    With the daily schedule's interval [D 03:00, D+1 03:00) that is (D, D); with the weekly one
    [Mon 05:00, next Mon 05:00) it is (Mon, Sun)."""
    zone = ZoneInfo(tz)
    first = interval_start.astimezone(zone).date()
    last = (interval_end.astimezone(zone) - timedelta(days=1)).date()
    return first, max(first, last)


def _param_date(params: Mapping[str, Any], key: str) -> date | None:
    value = params.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"param {key}={value!r} is not a date (YYYY-MM-DD)") from exc


def business_range(
    params: Mapping[str, Any], interval_start: datetime, interval_end: datetime, *, tz: str
) -> tuple[date, date]:
    """(start, end), inclusive. `end` defaults to the interval's last date; `start` to the interval's first date
    when `end` is not given either, else to `end` (a given `end` alone means that one day)."""
    first, last = interval_dates(interval_start, interval_end, tz=tz)
    end = _param_date(params, "end")
    start = _param_date(params, "start") or (end or first)
    end = end or last
    if start > end:
        raise ValueError(f"param start={start} is after end={end}")
    return start, end


SNAPSHOT_MODES = ("end", "range")


def snapshot_since(params: Mapping[str, Any], start: date, end: date) -> date:
    """The first date whose snapshot tables (customer_360, rfm_segments, ..., customer_asof) a run writes.

    `snapshots: "end"` (the default): only `end`, so a range run equals one full build as of `end` (facts are
    rewritten for the whole range either way); `"range"`: every date from `start` (within the retention)."""
    mode = params.get("snapshots") or "end"
    if mode not in SNAPSHOT_MODES:
        raise ValueError(f"param snapshots={mode!r} must be one of {SNAPSHOT_MODES}")
    return start if mode == "range" else end
