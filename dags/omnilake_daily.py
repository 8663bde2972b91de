"""
### omnilake_daily
Business dates through the lakehouse: landing -> bronze -> silver (`ingest`), the quality gate, point-in-time
features, scoring with the champion models, gold analytics (inventory health from the fresh demand forecast,
alerts), then CSV/Parquet snapshots of the serving tables and the dashboard (`dashboard.html`, `omnilake dashboard`)
under `$OMNILAKE_HOME/exports/<date>/`. Beside gold,
`monitor_models` (`omnilake monitor all`) writes gold.model_monitoring: drift of the champions' features and scores,
and realized performance of past scores; on an alert of a conf `ml.monitoring.retrain_on` check (and
`trigger_retrain: true`) `retrain_check` passes and `trigger_retrain` starts omnilake_retrain as of the run's date,
with the alerts as its `reason`. A failed monitoring run fails only its own branch.
One Spark submission per layer (`jobs/__main__.py` -> `omnilake ...`), never one per table or day.

**Which date a run processes.** The schedule is a `CronDataIntervalTimetable` (conf `orchestration.daily_schedule`,
`0 3 * * *` in `orchestration.timezone`): the run that starts at D+1 03:00 local has the data interval
[D 03:00, D+1 03:00) and processes business date D. A manual run (and `airflow dags test omnilake_daily <date>`)
gets the last complete interval before its logical date.

**Date range.** Params `start` / `end` (YYYY-MM-DD, inclusive) override the interval, e.g. trigger with
`{"start": "2025-01-01", "end": "2025-05-31"}` to process five months in one run; `end` alone means that one day.
Ingest loads every delivery folder up to `end`; gold and features rewrite the fact partitions of every date from
`start` to `end` (and any earlier date that late data changed). Snapshot tables (customer_360, rfm_segments, ...,
features.customer_asof) are written as of `end` only, so a range run equals one full build as of `end`; add
`"snapshots": "range"` to also write them for every date of the range (within the retention in conf).

**Backfill.** One range run, or `airflow backfill create --dag-id omnilake_daily --from-date A --to-date B`
(one run per day, in date order: `max_active_runs=1`). Every step rewrites only its dates' partitions from the
same silver data, so either gives the same silver, gold and features tables as one full build.

**Failures.** Retries with exponential backoff and timeouts from conf; every task that fails for good appends a
row to `ops.task_failures` (delta-rs). The quality gate fails the run, without retries, when the quarantine rate
of the run's deliveries or the freshness of `silver.order_lines` breaches conf `orchestration.quality`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, task

from jobs.orchestration.assets import FEATURES, GOLD, SERVING, SILVER
from jobs.orchestration.dates import SNAPSHOT_MODES
from jobs.orchestration.wiring import dag_factory, date_param

factory = dag_factory()
conf = factory.settings


@dag(
    dag_id="omnilake_daily",
    schedule=factory.timetable(conf.daily_schedule),
    start_date=factory.start_date,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=conf.dagrun_timeout,
    tags=["omnilake", "daily"],
    params={
        "start": date_param("first business date to process (default: the data interval's)"),
        "end": date_param("last business date to process, inclusive (default: the data interval's)"),
        "snapshots": Param(
            "end",
            enum=list(SNAPSHOT_MODES),
            description="snapshot tables as of `end` only, or for every date of the range",
        ),
    },
    default_args=factory.default_args(),
    doc_md=__doc__,
)
def omnilake_daily() -> None:
    @task(multiple_outputs=True)
    def business_dates(
        params: dict[str, Any] | None = None,
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
    ) -> dict[str, str]:
        from jobs.orchestration.tasks import resolve_dates

        return resolve_dates(params or {}, data_interval_start, data_interval_end)

    @task
    def quality_gate(start: str, end: str) -> dict[str, Any]:
        from jobs.orchestration.tasks import quality_gate as check

        return check(start, end)

    @task(outlets=[factory.exports_asset()])
    def export_serving(end: str) -> dict[str, int]:
        from jobs.orchestration.tasks import export_serving as export

        return export(end)

    @task
    def publish_postgres(end: str) -> dict[str, Any]:
        """The serving and gold tables into PostgreSQL (skipped without conf serving.postgres.dsn)."""
        from jobs.orchestration.tasks import publish_postgres as publish

        return publish(end)

    @task
    def dashboard(end: str) -> str:
        """The business's dashboard as of the run's date: <exports>/<date>/dashboard.html (delta-rs, no JVM)."""
        from jobs.orchestration.tasks import dashboard as write

        return write(end)

    @task.short_circuit
    def retrain_check(end: str) -> dict[str, str]:
        """{as_of, reason} when the run's monitoring alerts call for a retrain, else {} (skips trigger_retrain)."""
        from jobs.orchestration.tasks import retrain_request

        return retrain_request(end)

    dates = business_dates()
    start, end, since = dates["start"], dates["end"], dates["since"]
    ingest = factory.spark_step("ingest", ["ingest", "--date", end], outlets=factory.assets(SILVER))
    features = factory.spark_step(
        "build_features", ["build", "features", "--as-of", end, "--since", since], outlets=factory.assets(FEATURES)
    )
    score = factory.spark_step("score", ["score", "all", "--as-of", end], outlets=factory.assets(SERVING))
    gold = factory.spark_step(
        "build_gold", ["build", "gold", "--as-of", end, "--since", since], outlets=factory.assets(GOLD)
    )
    monitor = factory.spark_step("monitor_models", ["monitor", "all", "--as-of", end], outlets=[])
    check = retrain_check(end)
    retrain = TriggerDagRunOperator(
        task_id="trigger_retrain", trigger_dag_id="omnilake_retrain", conf=check, wait_for_completion=False
    )
    ingest >> quality_gate(start, end) >> features >> score >> gold >> export_serving(end)
    gold >> publish_postgres(end)
    gold >> dashboard(end)  # after gold (which runs after score): every section as of the run's date
    score >> monitor >> check >> retrain


omnilake_daily()
