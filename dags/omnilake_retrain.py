"""
### omnilake_retrain
Weekly: train every model as of the last business date of the run's data interval (`omnilake train all`, which
evaluates each candidate on a later window none of them was trained on, compares it with the champion and the
baselines in MLflow and promotes only a winner), then rescore with the champions and refresh the serving exports,
the PostgreSQL serving tables (`publish_postgres`, skipped without conf serving.postgres.dsn) and the dashboard of
the as-of date (its forecast and model sections come from the new champions).

**Which date.** `CronDataIntervalTimetable` (conf `orchestration.retrain_schedule`, `0 5 * * 1` in
`orchestration.timezone`): the run starting Monday 05:00 covers [previous Monday 05:00, this Monday 05:00) and
trains as of the Sunday before it. Param `as_of` (YYYY-MM-DD) overrides it for a manual run.

**Why.** Param `reason` (default: the schedule) is recorded on the MLflow runs and registered versions as the tag
`omnilake.reason`; omnilake_daily's `trigger_retrain` sets it to the monitoring alerts that started the run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import Param, dag, task

from jobs.orchestration.assets import SERVING
from jobs.orchestration.wiring import dag_factory, date_param

factory = dag_factory()
conf = factory.settings


@dag(
    dag_id="omnilake_retrain",
    schedule=factory.timetable(conf.retrain_schedule),
    start_date=factory.start_date,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=conf.dagrun_timeout,
    tags=["omnilake", "ml"],
    params={
        "as_of": date_param("train as of this business date (default: the data interval's last date)"),
        "reason": Param("schedule", type="string", description="why this training runs (an MLflow tag)"),
    },
    default_args=factory.default_args(),
    doc_md=__doc__,
)
def omnilake_retrain() -> None:
    @task
    def as_of_date(
        params: dict[str, Any] | None = None,
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
    ) -> str:
        from jobs.orchestration.tasks import resolve_dates

        as_of = (params or {}).get("as_of")
        return resolve_dates({"end": as_of}, data_interval_start, data_interval_end)["end"]

    @task(outlets=[factory.exports_asset()])
    def export_serving(end: str) -> dict[str, int]:
        from jobs.orchestration.tasks import export_serving as export

        return export(end)

    @task
    def publish_postgres(end: str) -> dict[str, Any]:
        """The serving tables into PostgreSQL (skipped without conf serving.postgres.dsn)."""
        from jobs.orchestration.tasks import publish_postgres as publish

        return publish(end)

    @task
    def dashboard(end: str) -> str:
        """The dashboard as of the as-of date again, with the new champions' forecast and metrics."""
        from jobs.orchestration.tasks import dashboard as write

        return write(end)

    as_of = as_of_date()
    train = factory.spark_step(
        "train", ["train", "all", "--as-of", as_of, "--reason", "{{ params.reason }}"], outlets=[]
    )
    score = factory.spark_step("score", ["score", "all", "--as-of", as_of], outlets=factory.assets(SERVING))
    train >> score >> export_serving(as_of)
    score >> publish_postgres(as_of)
    score >> dashboard(as_of)


omnilake_retrain()
