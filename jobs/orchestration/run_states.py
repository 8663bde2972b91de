"""The task instances of a DAG's latest run, read from Airflow's metadata DB with Airflow's own models.

Run as `python -m jobs.orchestration.run_states DAG_ID SINCE OUT.json` in the Airflow environment (AIRFLOW_HOME and the
database URL of the harness): Airflow configures itself from that environment when first imported, so this runs in
a child process rather than in the `omnilake` process. The JSON goes to a file because Airflow logs to stdout."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any


def latest_run(dag_id: str, since: datetime) -> dict[str, Any]:
    """{"run_id", "state", "tasks": [{"task_id", "map_index", "state", "start_date", "end_date", "try_number"}]}
    of the DAG's most recent run that started at or after `since` (ISO timestamps, null while unset); {} when
    there is none (an earlier run is not this one)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        latest = select(DagRun).where(DagRun.dag_id == dag_id, DagRun.start_date >= since)
        run = session.scalars(latest.order_by(DagRun.id.desc()).limit(1)).first()
        if run is None:
            return {}
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
        ).all()
        return {
            "run_id": run.run_id,
            "state": str(run.state) if run.state else None,
            "tasks": [
                {
                    "task_id": ti.task_id,
                    "map_index": ti.map_index,
                    "state": str(ti.state) if ti.state else None,
                    "start_date": ti.start_date.isoformat() if ti.start_date else None,
                    "end_date": ti.end_date.isoformat() if ti.end_date else None,
                    "try_number": ti.try_number,
                }
                for ti in tis
            ],
        }


def main(argv: list[str]) -> int:
    dag_id, since, out = argv
    Path(out).write_text(json.dumps(latest_run(dag_id, datetime.fromisoformat(since))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
