"""Which dates a run processes, and the orchestration config section."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from jobs.common.config import Config, ConfigError
from jobs.orchestration.dates import business_range, interval_dates, snapshot_since

NY = "America/New_York"
UTC = UTC


def test_daily_interval_is_one_business_date() -> None:
    # [2025-03-04 03:00, 2025-03-05 03:00) New York (EST, UTC-5)
    start, end = datetime(2025, 3, 4, 8, tzinfo=UTC), datetime(2025, 3, 5, 8, tzinfo=UTC)
    assert interval_dates(start, end, tz=NY) == (date(2025, 3, 4), date(2025, 3, 4))


def test_daily_interval_across_the_dst_switch() -> None:
    # 2025-03-09 is 23 hours long in New York: [03:00 EST, 03:00 EDT) is still one business date
    start, end = datetime(2025, 3, 9, 8, tzinfo=UTC), datetime(2025, 3, 10, 7, tzinfo=UTC)
    assert interval_dates(start, end, tz=NY) == (date(2025, 3, 9), date(2025, 3, 9))


def test_weekly_interval_ends_on_the_sunday() -> None:
    start, end = datetime(2025, 3, 3, 10, tzinfo=UTC), datetime(2025, 3, 10, 9, tzinfo=UTC)
    assert interval_dates(start, end, tz=NY) == (date(2025, 3, 3), date(2025, 3, 9))


@pytest.mark.parametrize(
    "params,expected",
    [
        ({}, (date(2025, 3, 4), date(2025, 3, 4))),
        ({"start": None, "end": None}, (date(2025, 3, 4), date(2025, 3, 4))),
        ({"start": "2025-01-01", "end": "2025-02-28"}, (date(2025, 1, 1), date(2025, 2, 28))),
        ({"end": "2025-02-01"}, (date(2025, 2, 1), date(2025, 2, 1))),
        ({"start": "2025-03-01"}, (date(2025, 3, 1), date(2025, 3, 4))),
    ],
)
def test_params_override_the_interval(params: dict, expected: tuple[date, date]) -> None:
    start, end = datetime(2025, 3, 4, 8, tzinfo=UTC), datetime(2025, 3, 5, 8, tzinfo=UTC)
    assert business_range(params, start, end, tz=NY) == expected


@pytest.mark.parametrize(
    "params,message",
    [
        ({"start": "2025-03-02", "end": "2025-03-01"}, "after end"),
        ({"end": "03/01/2025"}, "not a date"),
    ],
)
def test_bad_params_are_rejected(params: dict, message: str) -> None:
    start = datetime(2025, 3, 4, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match=message):
        business_range(params, start, start + timedelta(days=1), tz=NY)


@pytest.mark.parametrize(
    "params,expected",
    [
        ({}, date(2025, 3, 9)),
        ({"snapshots": None}, date(2025, 3, 9)),
        ({"snapshots": "end"}, date(2025, 3, 9)),
        ({"snapshots": "range"}, date(2025, 3, 1)),
    ],
)
def test_snapshots_as_of_the_end_unless_the_whole_range_is_asked_for(params: dict, expected: date) -> None:
    assert snapshot_since(params, date(2025, 3, 1), date(2025, 3, 9)) == expected


def test_an_unknown_snapshot_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="snapshots='daily' must be one of"):
        snapshot_since({"snapshots": "daily"}, date(2025, 3, 1), date(2025, 3, 9))


def test_the_dag_timetable_gives_the_documented_dates(cfg: Config) -> None:
    """A scheduled run starting 2025-03-05 03:00 New York processes 2025-03-04."""
    import pendulum
    from airflow.sdk import CronDataIntervalTimetable
    from airflow.timetables.base import DataInterval, TimeRestriction

    settings = cfg.orchestration
    from airflow.serialization.encoders import coerce_to_core_timetable

    # the scheduler runs the core twin of the SDK timetable the DAG declares
    core = coerce_to_core_timetable(CronDataIntervalTimetable(settings.daily_schedule, timezone=settings.timezone))
    last = DataInterval(pendulum.datetime(2025, 3, 3, 3, tz=NY), pendulum.datetime(2025, 3, 4, 3, tz=NY))
    info = core.next_dagrun_info(
        last_automated_data_interval=last, restriction=TimeRestriction(earliest=None, latest=None, catchup=True)
    )
    assert info.run_after == pendulum.datetime(2025, 3, 5, 3, tz=NY)
    iv = info.data_interval
    assert business_range({}, iv.start, iv.end, tz=settings.timezone) == (date(2025, 3, 4), date(2025, 3, 4))


def test_settings_of_the_test_env(cfg: Config) -> None:
    s = cfg.orchestration
    assert (s.retries, s.retry_delay, s.retry_backoff) == (2, timedelta(seconds=1), 2.0)
    assert (s.max_retry_delay, s.spark_timeout, s.dagrun_timeout) == (
        timedelta(seconds=4),
        timedelta(seconds=900),
        timedelta(seconds=1800),
    )
    assert s.start_date == date(2025, 1, 1) and s.timezone == NY
    assert s.spark_conn_id == "omnilake_spark" and s.export.formats == ("csv", "parquet")
    assert s.quality.max_quarantine_rate == 0.05 and s.quality.max_freshness_lag_days == 1
    assert s.quality.max_rejected_files == 0
    assert s.demo.customers == 300 and s.demo.seed == 7  # conf/test.yaml over conf/base.yaml, key by key


def test_env_overrides_win_over_the_env_file(tmp_path: Path) -> None:
    from tests.support.config import make_config

    cfg = make_config(
        tmp_path,
        OMNILAKE__ORCHESTRATION__QUALITY__MAX_QUARANTINE_RATE="0.5",
        OMNILAKE__ORCHESTRATION__DEMO__CUSTOMERS="5",
    )
    assert cfg.orchestration.quality.max_quarantine_rate == 0.5
    assert cfg.orchestration.quality.max_freshness_lag_days == 1
    assert cfg.orchestration.demo.customers == 5  # over conf/test.yaml's 300


@pytest.mark.parametrize(
    "override,message",
    [
        ({"OMNILAKE__ORCHESTRATION__EXPORT__FORMATS": "[csv, xlsx]"}, r"'orchestration\.export\.formats\[1\]'"),
        ({"OMNILAKE__ORCHESTRATION__EXPORT__FORMATS": "[]"}, r"'orchestration\.export\.formats'"),
        ({"OMNILAKE__ORCHESTRATION__START_DATE": "someday"}, r"'orchestration\.start_date'"),
        ({"OMNILAKE__ORCHESTRATION__RETRIES": "2.5"}, r"'orchestration\.retries'"),
    ],
)
def test_bad_orchestration_values_are_named(tmp_path: Path, override: dict, message: str) -> None:
    from tests.support.config import make_config

    with pytest.raises(ConfigError, match=message):
        make_config(tmp_path, **override)
