"""The date bounds of omnilake: what "today" is, and which dates are accepted relative to it (issue 11, defect 3).

Business dates come from the data or a run's data interval, never from the clock; the one use of the clock is as a
sanity bound: no record and no --as-of can lie beyond today + conf `ingest.max_future_days`, and no record before
conf `ingest.min_date`. "Today" is the UTC date of the wall clock when a command starts, or conf `ingest.today`
when set (tests, replays of a past day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from jobs.common.errors import UserError

if TYPE_CHECKING:
    from jobs.common.config import Config


@dataclass(frozen=True)
class DateRange:
    """Accepted dates: from `floor` to `ceiling`, both inclusive."""

    floor: date
    ceiling: date


def today(cfg: Config) -> date:
    """Conf `ingest.today` when set, else the UTC date of the wall clock."""
    return cfg.ingest.today or datetime.now(UTC).date()


def accepted_dates(cfg: Config) -> DateRange:
    """[ingest.min_date, today + ingest.max_future_days]: what contract dates must lie in."""
    return DateRange(cfg.ingest.min_date, today(cfg) + timedelta(days=cfg.ingest.max_future_days))


def check_as_of(cfg: Config, as_of: date, *, what: str = "--as-of") -> None:
    """Refuse (UserError: exit 3, nothing written) an as-of beyond today + ingest.max_future_days: its retention
    cutoff would lie after every real snapshot, and its watermarks after every real date."""
    ceiling = accepted_dates(cfg).ceiling
    if as_of > ceiling:
        raise UserError(
            f"{what} {as_of} is in the future: after today ({today(cfg)}) + {cfg.ingest.max_future_days} day(s) "
            "(conf ingest.max_future_days); nothing written"
        )
