"""ops.task_failures: one row per failed Airflow task, appended with delta-rs by the on-failure callback.

The callback runs in the Airflow task process after the task has failed for good (retries used up, or a
quality breach, which is not retried). It must never raise, start a JVM or import Spark.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jobs.common.log import event

if TYPE_CHECKING:
    from jobs.common.config import Config

FAILURES = "ops.task_failures"
MAX_ERROR_CHARS = 4000
_SUBMIT_FAILED = re.compile(r"Cannot execute: spark-submit .*?\. Error code is: (\d+)\.", re.DOTALL)


def short_error(text: str) -> str:
    """The error without the spark-submit command line the Spark hook repeats in it (the driver's output tail,
    when the hook adds one, stays)."""
    return _SUBMIT_FAILED.sub(r"spark-submit exited with code \1.", text)


def _utc(value: Any) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def failure_row(context: Mapping[str, Any], *, failed_at: datetime) -> dict[str, Any]:
    """The row for one failed task instance, from the Airflow callback context."""
    ti = context["ti"]
    error = context.get("exception")
    params = {
        k: v
        for k, v in dict(context.get("params") or {}).items()
        if isinstance(v, (str, int, float, bool)) or v is None
    }
    return {
        "failed_at": failed_at,
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": ti.run_id,
        "map_index": int(getattr(ti, "map_index", -1)),
        "try_number": int(ti.try_number or 0),
        "data_interval_start": _utc(context.get("data_interval_start")),
        "data_interval_end": _utc(context.get("data_interval_end")),
        "params": json.dumps(params, sort_keys=True, default=str),
        "error_type": type(error).__name__ if error is not None else None,
        "error": short_error(str(error))[:MAX_ERROR_CHARS] if error is not None else None,
    }


def append_failures(cfg: Config, rows: list[dict[str, Any]]) -> None:
    """Append rows to ops.task_failures (created on the first failure)."""
    import pyarrow as pa

    from jobs.io.lake import append_arrow
    from jobs.io.schemas import arrow_schema

    append_arrow(cfg, FAILURES, pa.Table.from_pylist(rows, schema=arrow_schema(FAILURES)))


def record_failure(context: Mapping[str, Any]) -> None:
    """Airflow `on_failure_callback`: append the failure to ops.task_failures; log (never raise) on error."""
    try:
        from jobs.common.config import load_config

        row = failure_row(context, failed_at=datetime.now(UTC))
        append_failures(load_config(), [row])
        event(
            "ops.task_failure",
            dag_id=row["dag_id"],
            task_id=row["task_id"],
            run_id=row["run_id"],
            error_type=row["error_type"],
        )
    except Exception as exc:  # a broken callback must not hide the task's own failure
        event("ops.task_failure.not_recorded", level=40, error=f"{type(exc).__name__}: {exc}")
