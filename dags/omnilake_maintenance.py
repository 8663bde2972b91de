"""
### omnilake_maintenance
Weekly upkeep of every table of the warehouse (`omnilake maintain`, jobs/orchestration/maintain.py), per table:
bronze rows past conf `maintenance.bronze_retention_days` deleted (batches silver holds), OPTIMIZE (Z-ORDER by conf
`maintenance.zorder` of the partitions written since the table's last maintenance, else compaction of small files),
VACUUM with `maintenance.vacuum_retention_hours` (never under Delta's 168 h unless `allow_below_safety`), and
commit-log cleanup after `maintenance.log_retention_days`. Every table's files, bytes and versions before and after
go to `ops.maintenance_log`; `table_health` logs the totals (`omnilake tables --health` shows them per table).
First, `privacy_vacuum` (`omnilake privacy vacuum`) purges the history of the tables erasure requests touched once
conf `privacy.vacuum_retention_hours` have passed since the request (README "Privacy").

**When.** conf `maintenance.schedule` (`0 5 * * 0`: Sundays 05:00 in `orchestration.timezone`, after the night's
omnilake_daily run and before Monday's omnilake_retrain). A table another job writes meanwhile is retried on a
commit conflict; VACUUM's retention keeps every file a running job's version reads.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from jobs.orchestration.wiring import dag_factory

factory = dag_factory()
conf = factory.settings


@dag(
    dag_id="omnilake_maintenance",
    schedule=factory.timetable(factory.cfg.maintenance.schedule),
    start_date=factory.start_date,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=conf.dagrun_timeout,
    tags=["omnilake", "maintenance"],
    default_args=factory.default_args(),
    doc_md=__doc__,
)
def omnilake_maintenance() -> None:
    @task
    def table_health() -> dict[str, Any]:
        """Files, bytes on disk and versions of the warehouse after maintenance (delta-rs, no JVM)."""
        from jobs.orchestration.tasks import table_health as health

        return health()

    privacy_vacuum = factory.spark_step("privacy_vacuum", ["privacy", "vacuum"], outlets=[])
    maintain = factory.spark_step("maintain", ["maintain"], outlets=[])
    privacy_vacuum >> maintain >> table_health()


omnilake_maintenance()
