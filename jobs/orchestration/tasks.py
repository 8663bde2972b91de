"""Bodies of the DAGs' plain Python tasks (no JVM: delta-rs and pyarrow only). The @task functions in dags/
import this module inside their bodies, so parsing a DAG file loads none of it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from jobs.common.config import Config, load_config
from jobs.common.log import event, setup_logging


def _config() -> Config:
    """The config, with omnilake's own log lines (`[omnilake ..] event key=value`) in the task log."""
    cfg = load_config()
    setup_logging(cfg.logging.level, cfg.logging.json)
    return cfg


def resolve_dates(
    params: Mapping[str, Any], data_interval_start: datetime, data_interval_end: datetime
) -> dict[str, str]:
    """{"start", "end"} (ISO dates, inclusive) that the run processes and "since", the first date its snapshot
    tables are written for: see jobs.orchestration.dates."""
    from jobs.orchestration.dates import business_range, snapshot_since

    start, end = business_range(params, data_interval_start, data_interval_end, tz=_config().orchestration.timezone)
    since = snapshot_since(params, start, end)
    event(
        "run.dates",
        start=start,
        end=end,
        since=since,
        interval_start=data_interval_start,
        interval_end=data_interval_end,
    )
    return {"start": start.isoformat(), "end": end.isoformat(), "since": since.isoformat()}


def quality_gate(start: str, end: str) -> dict[str, Any]:
    """Fail the task, without retries, when the run's dates breach the quality rules; returns the measures."""
    from airflow.sdk.exceptions import AirflowFailException

    from jobs.orchestration.quality import check_quality

    cfg = _config()
    report = check_quality(
        cfg, start=date.fromisoformat(start), end=date.fromisoformat(end), rules=cfg.orchestration.quality
    )
    if report.breaches:
        # a breach is a property of the data: retrying cannot help, so fail now (the callback records it)
        raise AirflowFailException("quality gate: " + "; ".join(report.breaches))
    return report.as_dict()


def export_serving(end: str) -> dict[str, int]:
    """Write the serving tables' snapshots for the run's last date."""
    from jobs.orchestration.exports import export_serving as export

    cfg = _config()
    return export(cfg, as_of=date.fromisoformat(end), formats=cfg.orchestration.export.formats)


def publish_postgres(end: str) -> dict[str, Any]:
    """Publish as of the run's last date into PostgreSQL (jobs/orchestration/publish.py); skipped, not failed, when
    conf serving.postgres.dsn is not set (the embedded local default)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from jobs.orchestration.publish import not_configured_message, publish

    cfg = _config()
    if not cfg.serving.postgres.dsn:
        raise AirflowSkipException(not_configured_message(cfg))
    return publish(cfg, as_of=date.fromisoformat(end)).as_dict()


def retrain_request(end: str) -> dict[str, str]:
    """{"as_of": end, "reason": ...} when gold.model_monitoring has an alert of a conf ml.monitoring.retrain_on check
    as of `end` and conf trigger_retrain is on; else {} (delta-rs: no JVM)."""
    from deltalake import DeltaTable

    from jobs.io.lake import lake_path
    from jobs.io.paths import is_table
    from ml.monitoring.reason import retrain_reason

    cfg = _config()
    settings = cfg.ml.monitoring
    path = lake_path(cfg, "gold.model_monitoring")
    if not settings.trigger_retrain or not is_table(path):
        return {}
    day = date.fromisoformat(end)
    rows = DeltaTable(str(path)).to_pyarrow_table(filters=[("as_of", "=", day)]).to_pylist()
    reason = retrain_reason(rows, settings.retrain_on)
    event("monitor.retrain_check", as_of=end, reason=reason or "none")
    return {"as_of": end, "reason": reason} if reason else {}


def dashboard(end: str) -> str:
    """Write the dashboard as of the run's last date to <exports>/<date>/<conf orchestration.dashboard.file_name>;
    returns its path."""
    from jobs.orchestration.dashboard.build import write_dashboard
    from jobs.orchestration.exports import snapshot_dir

    cfg = _config()
    day = date.fromisoformat(end)
    result = write_dashboard(cfg, out=snapshot_dir(cfg, day) / cfg.orchestration.dashboard.file_name, as_of=day)
    return str(result.path)


def table_health() -> dict[str, Any]:
    """The warehouse's totals after maintenance (logged, and the task's XCom): tables, data files, bytes of the
    current versions, files and bytes on disk, and the tables never maintained."""
    from jobs.orchestration.maintain import health

    rows = health(_config())
    totals = {
        "tables": len(rows),
        "files": sum(r["files"] for r in rows),
        "data_mb": round(sum(r["data_bytes"] for r in rows) / 2**20, 1),
        "disk_files": sum(r["disk_files"] for r in rows),
        "disk_mb": round(sum(r["disk_bytes"] for r in rows) / 2**20, 1),
        "never_maintained": sorted(r["table"] for r in rows if r["last_maintained"] is None),
    }
    event("maintain.health", **totals)
    return totals
