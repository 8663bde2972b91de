"""The `orchestration:` section: Airflow schedules, retries and time-outs, the quality gate, exports, the demo."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import Field

from jobs.common.config.base import section


@section
class QualitySettings:
    max_quarantine_rate: float
    max_freshness_lag_days: int
    max_rejected_files: Annotated[int, Field(ge=0)]


@section
class ExportSettings:
    formats: Annotated[tuple[Literal["csv", "parquet"], ...], Field(min_length=1)]


@section
class DemoSettings:
    customers: int
    days: int
    seed: int
    daily_days: int
    airflow_parallelism: int


@section
class DashboardSettings:
    """`omnilake dashboard` and the daily DAG's dashboard task (jobs/orchestration/dashboard)."""

    window_days: Annotated[int, Field(ge=1)]
    kpi_period_days: Annotated[int, Field(ge=1)]
    top_skus: Annotated[int, Field(ge=1)]
    forecast_lookback_days: Annotated[int, Field(ge=0)]
    max_rows: Annotated[int, Field(ge=1)]
    file_name: str


@section
class SparkStepSettings:
    mode: Literal["runner", "submit"]
    idle_seconds: float
    start_timeout_seconds: float
    max_commands: int


@section
class Orchestration:
    timezone: str
    start_date: date
    daily_schedule: str
    retrain_schedule: str
    spark_conn_id: str
    ui_host: str
    spark_steps: SparkStepSettings
    lock_wait_seconds: float
    retries: int
    retry_delay_seconds: float
    retry_backoff: float
    max_retry_delay_seconds: float
    python_timeout_seconds: float
    spark_timeout_seconds: float
    dagrun_timeout_seconds: float
    quality: QualitySettings
    export: ExportSettings
    demo: DemoSettings
    dashboard: DashboardSettings

    # Airflow takes timedeltas; the yaml keeps plain seconds.
    @property
    def retry_delay(self) -> timedelta:
        return timedelta(seconds=self.retry_delay_seconds)

    @property
    def max_retry_delay(self) -> timedelta:
        return timedelta(seconds=self.max_retry_delay_seconds)

    @property
    def python_timeout(self) -> timedelta:
        return timedelta(seconds=self.python_timeout_seconds)

    @property
    def spark_timeout(self) -> timedelta:
        return timedelta(seconds=self.spark_timeout_seconds)

    @property
    def dagrun_timeout(self) -> timedelta:
        return timedelta(seconds=self.dagrun_timeout_seconds)
