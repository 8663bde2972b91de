"""Date bounds (issue 11, defect 3): "today" from conf or the wall clock, and the refused future as-of."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from jobs.common.clock import DateRange, accepted_dates, check_as_of, today
from jobs.common.errors import UserError
from tests.support.config import make_config


def test_today_is_pinned_by_conf_or_the_utc_wall_clock(tmp_path: Path) -> None:
    pinned = make_config(tmp_path, OMNILAKE__INGEST__TODAY="2025-03-01")
    assert today(pinned) == date(2025, 3, 1)
    assert accepted_dates(pinned) == DateRange(date(2000, 1, 1), date(2025, 3, 3))  # base.yaml: 2 days, 2000-01-01
    assert today(make_config(tmp_path)) == datetime.now(UTC).date()


def test_an_as_of_after_today_plus_the_tolerance_is_refused(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, OMNILAKE__INGEST__TODAY="2025-03-01")
    check_as_of(cfg, date(2025, 3, 3))  # within the tolerance: accepted
    check_as_of(cfg, date(2024, 1, 1))
    with pytest.raises(UserError, match=r"^--as-of 2025-03-04 is in the future: after today \(2025-03-01\) \+ 2 "):
        check_as_of(cfg, date(2025, 3, 1) + timedelta(days=3))
