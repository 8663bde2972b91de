"""`omnilake maintain [--table T]` (and the omnilake_maintenance DAG): per table, in this order,

1. bronze retention: the rows of batches silver holds (ops.batch_audit) delivered more than conf
   maintenance.bronze_retention_days before the lake's latest delivery are deleted (DELETE by _batch_id);
2. OPTIMIZE: a table with Z-ORDER columns in conf maintenance.zorder has the partitions written since its last
   maintenance Z-ordered (all of them the first time); every other table gets bin-packing compaction of its files
   under min_file_mb (Delta leaves a partition of one file alone);
3. VACUUM with conf vacuum_retention_hours (never under Delta's 168 h unless allow_below_safety), when the table's
   folder holds data files besides the current version's (older versions', change data, a killed write's);
4. commit-log cleanup: delta.logRetentionDuration from conf, expired commits before the last checkpoint deleted.

Each table's facts before and after go to ops.maintenance_log (one commit per run, also when a table fails:
the run then exits non-zero after the others are done). `omnilake tables --health` reads it.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from jobs.common.errors import UserError
from jobs.common.log import event
from jobs.common.parallel import map_parallel
from jobs.io.maintenance import (
    expire_log,
    maintenance_conf,
    may_hold,
    needs_compaction,
    now,
    optimize,
    partitions_written_since,
    session_conf,
    table_files,
    vacuum,
)

if TYPE_CHECKING:
    from jobs.common.config import Config
    from jobs.common.config.maintenance import Maintenance
    from jobs.io.tables import Catalog

LOG = "ops.maintenance_log"
AUDIT = "ops.batch_audit"


class MaintenanceFailed(RuntimeError):
    """One or more tables could not be maintained (the others were; ops.maintenance_log names each error)."""


@dataclass(frozen=True)
class RetentionPlan:
    """Bronze batches past retention: batch ids per source, and the delivery date they are older than."""

    cutoff: date | None
    batches: dict[str, list[str]]


def retention_plan(audit: list[dict[str, Any]], *, days: int | None) -> RetentionPlan:
    """Which audited batches bronze may drop: those delivered before (latest delivery in the audit - `days`).
    The lake's own latest delivery is the clock, not the wall clock: a lake loaded late or replayed keeps its
    window. Batches silver has not processed are not in the audit and are never dropped."""
    dated = [r for r in audit if r["delivery_date"] is not None]
    if days is None or not dated:
        return RetentionPlan(None, {})
    cutoff = max(r["delivery_date"] for r in dated) - timedelta(days=days)
    batches: dict[str, list[str]] = {}
    for row in dated:
        if row["delivery_date"] < cutoff:
            batches.setdefault(row["source"], []).append(row["batch_id"])
    return RetentionPlan(cutoff, {s: sorted(set(b)) for s, b in batches.items()})


def last_maintained(cfg: Config) -> dict[str, datetime]:
    """Per table, when its last successful maintenance finished (ops.maintenance_log)."""
    from jobs.io.lake import read_arrow

    history = read_arrow(cfg, LOG, columns=["table", "status", "finished_at"])
    return latest_ok(history.to_pylist() if history is not None else [])


def latest_ok(rows: list[dict[str, Any]]) -> dict[str, datetime]:
    """Per table, the latest `finished_at` of its rows with status ok."""
    out: dict[str, datetime] = {}
    for row in rows:
        if row["status"] == "ok" and (row["table"] not in out or row["finished_at"] > out[row["table"]]):
            out[row["table"]] = row["finished_at"]
    return out


def run_maintenance(cfg: Config, tables: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Maintain `tables` (default: every table of the warehouse); returns the rows written to ops.maintenance_log.
    Raises MaintenanceFailed after logging when any table failed."""
    from jobs.common.spark import build_spark
    from jobs.io.lake import append_arrow, read_arrow
    from jobs.io.schemas import arrow_schema
    from jobs.io.tables import Catalog

    catalog = Catalog.from_config(build_spark(cfg), cfg)
    names = list(tables) or [t for t in catalog.list_tables() if t != LOG]
    for name in names:
        if not catalog.exists(name):
            raise UserError(f"no table {name} at {catalog.path(name)} (see `omnilake tables`)")
    rules = cfg.maintenance
    audit = read_arrow(cfg, AUDIT, columns=["source", "batch_id", "delivery_date"])
    plan = retention_plan(audit.to_pylist() if audit is not None else [], days=rules.bronze_retention_days)
    since = last_maintained(cfg)
    run_id = uuid.uuid4().hex
    done = itertools.count(1)

    def one(name: str) -> dict[str, Any]:
        started = time.monotonic()
        row = maintain_table(catalog, name, rules=rules, plan=plan, since=since.get(name), run_id=run_id)
        event(
            "maintain.table",
            table=name,
            done=f"{next(done)}/{len(names)}",
            status=row["status"],
            files=f"{row['files_before']}->{row['files_after']}",
            disk_mb=f"{row['disk_bytes_before'] / 2**20:.1f}->{row['disk_bytes_after'] / 2**20:.1f}",
            secs=round(time.monotonic() - started, 1),
        )
        return row

    settings = maintenance_conf(
        target_file_mb=rules.target_file_mb,
        min_file_mb=rules.min_file_mb,
    )
    bronze = [n for n in names if n.startswith("bronze.")]
    with session_conf(catalog.spark, settings):  # maintain_table records its own errors: every table is tried
        rows = map_parallel(one, bronze, workers=cfg.ingest.parallel_tables)
        # the audit counts what retention dropped before its own upkeep (so its VACUUM sees that write too)
        record_expired(catalog, plan, {r["table"].split(".", 1)[1] for r in rows if r["status"] == "ok"})
        rows += map_parallel(one, [n for n in names if n not in bronze], workers=cfg.ingest.parallel_tables)
    import pyarrow as pa

    append_arrow(cfg, LOG, pa.Table.from_pylist(rows, schema=arrow_schema(LOG)))
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        more = f" (and {len(failed) - 1} more table(s): see ops.maintenance_log)" if len(failed) > 1 else ""
        raise MaintenanceFailed(f"{failed[0]['table']}: {failed[0]['error']}{more}")
    return rows


def maintain_table(
    catalog: Catalog, name: str, *, rules: Maintenance, plan: RetentionPlan, since: datetime | None, run_id: str
) -> dict[str, Any]:
    """Retention, OPTIMIZE, VACUUM and log cleanup of one table; its ops.maintenance_log row (errors included)."""
    path = catalog.path(name)
    before = table_files(path)
    row: dict[str, Any] = {
        "run_id": run_id,
        "table": name,
        "started_at": now(),
        "status": "ok",
        "error": None,
        "bronze_rows_removed": 0,
        "zorder_by": None,
        "partitions_optimized": None,
        "files_added": 0,
        "files_removed": 0,
        **{f"{k}_before": v for k, v in before.as_dict().items() if k != "log_files"},
        "log_files_deleted": 0,
    }
    try:
        zone, table = name.split(".", 1)
        if zone == "bronze" and plan.batches.get(table):
            row["bronze_rows_removed"] = drop_batches(catalog, name, plan.batches[table])
        zorder = rules.zorder.get(name, ())
        partition = partitions_written_since(path, since) if zorder else None
        metrics: dict[str, int] = {}
        if zorder or needs_compaction(path, min_file_mb=rules.min_file_mb):  # else: no Spark job, no commit
            metrics = optimize(catalog, name, zorder=zorder, partition=partition)
        row["zorder_by"] = ",".join(zorder) or None
        row["partitions_optimized"] = None if partition is None else len(partition[1])
        row["files_added"] = metrics.get("numFilesAdded", 0)
        row["files_removed"] = metrics.get("numFilesRemoved", 0)
        stale = table_files(path)
        if stale.disk_files > stale.files:  # nothing on disk but the current files: no VACUUM (and no 2 commits)
            vacuum(catalog, name, retention_hours=rules.vacuum_retention_hours)
        row["log_files_deleted"] = expire_log(catalog, name, retention_days=rules.log_retention_days)
    except Exception as exc:  # one table's failure must not stop the others' upkeep; logged, then raised
        row["status"], row["error"] = "failed", f"{type(exc).__name__}: {str(exc).splitlines()[0][:500]}"
    after = table_files(path)
    row.update({f"{k}_after": v for k, v in after.as_dict().items() if k != "log_files"})
    row["finished_at"] = now()
    return row


def drop_batches(catalog: Catalog, name: str, batch_ids: list[str]) -> int:
    """Delete `name`'s rows of `batch_ids` (bronze); the number of rows deleted (0 without a commit when no file
    can hold one of them, by the files' _batch_id statistics, or when none matched)."""
    from pyspark.sql import functions as F

    if not may_hold(catalog.path(name), "_batch_id", batch_ids):
        return 0
    return catalog.delete_where(name, F.col("_batch_id").isin(batch_ids))


def record_expired(catalog: Catalog, plan: RetentionPlan, sources: set[str]) -> None:
    """ops.batch_audit.expired of the batches of `sources` retention dropped: their rows bronze held until then
    (bronze_rows - forgotten), so each batch's rows in bronze stay bronze_rows - forgotten - expired. One MERGE that
    changes only batches not yet counted (none: no commit)."""
    from pyspark.sql import functions as F

    pairs = [(source, batch) for source in sorted(sources) for batch in plan.batches.get(source, [])]
    if not pairs or not catalog.exists(AUDIT):
        return
    catalog.add_columns(AUDIT, {"forgotten": "long", "expired": "long"})  # audits from before the columns
    dropped = catalog.spark.createDataFrame(pairs, "source string, batch_id string")
    held = F.col("bronze_rows") - F.coalesce("forgotten", F.lit(0))
    changed = (
        catalog.read(AUDIT)
        .join(dropped, on=["source", "batch_id"], how="left_semi")
        .where(~F.col("expired").eqNullSafe(held))
        .select("source", "batch_id", held.alias("expired"))
    )
    if changed.limit(1).count():
        catalog.merge(changed, AUDIT, ["source", "batch_id"], update_set={"expired": "s.expired"}, insert=False)


def health(cfg: Config) -> list[dict[str, Any]]:
    """`omnilake tables --health`: per table, its files (count, average size, bytes), its folder on disk (older
    versions' files and the log included), its version, commits kept, and when its last maintenance finished."""
    from jobs.io.lake import lake_path
    from jobs.io.paths import zone_tables

    since = last_maintained(cfg)
    out = []
    for zone in cfg.zones.all:
        for table in zone_tables(cfg.paths.warehouse, zone):
            name = f"{zone}.{table}"
            facts = table_files(lake_path(cfg, name))
            out.append(
                {
                    "table": name,
                    **facts.as_dict(),
                    "average_file_bytes": facts.average_file_bytes,
                    "last_maintained": since.get(name),
                }
            )
    return out
