"""Table upkeep: file health (delta-rs, no JVM), OPTIMIZE / Z-ORDER, VACUUM, expired-log cleanup and the history
purge after an erasure (VACUUM + log cut) of one table.

What to run on which table and when is jobs/orchestration/maintain.py's; these are the operations and the facts
they are planned from.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs.common.log import event

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from jobs.io.tables import Catalog

MB = 1 << 20
LOG_RETENTION = "delta.logRetentionDuration"
# a log file of one version: 00..05.json, .crc, .checkpoint.parquet, and Hadoop's .00..05.json.crc
_VERSIONED = re.compile(r"^\.?(\d{20})\.")


@dataclass(frozen=True)
class TableFiles:
    """What a table's current version is made of, and what its folder holds besides (older versions, the log)."""

    files: int  # data files of the current version
    data_bytes: int
    disk_files: int  # data files on disk: the current version's, older versions' and change data not yet vacuumed
    disk_bytes: int  # everything under the table's folder, the log and checksums included
    version: int
    log_files: int  # commits kept in _delta_log (history and time travel reach back this far)
    partition_columns: tuple[str, ...]

    @property
    def average_file_bytes(self) -> float:
        return self.data_bytes / self.files if self.files else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "data_bytes": self.data_bytes,
            "disk_files": self.disk_files,
            "disk_bytes": self.disk_bytes,
            "version": self.version,
            "log_files": self.log_files,
        }


def table_files(path: str | Path) -> TableFiles:
    """The file facts of the Delta table at `path` (the log's add actions and one walk of the folder)."""
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    sizes = _adds(table).column("size_bytes").to_pylist()
    disk = [p for p in Path(path).rglob("*") if p.is_file()]
    data = [p for p in disk if p.suffix == ".parquet" and not p.name.startswith(".") and "_delta_log" not in p.parts]
    return TableFiles(
        files=len(sizes),
        data_bytes=sum(sizes),
        disk_files=len(data),
        disk_bytes=sum(p.stat().st_size for p in disk),
        version=table.version(),
        log_files=_commits(path),
        partition_columns=tuple(table.metadata().partition_columns),
    )


def needs_compaction(path: str | Path, *, min_file_mb: int) -> bool:
    """Whether some partition (the table, unpartitioned) holds two or more files under `min_file_mb`: what
    compaction would rewrite. Read from the log, so a table with nothing to compact costs no Spark job."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    adds = pa.table(_adds(table))
    small = adds.filter(pc.less(adds["size_bytes"], min_file_mb * MB))
    keys = [f"partition.{c}" for c in table.metadata().partition_columns]
    if not keys:
        return small.num_rows > 1
    counts = small.group_by(keys).aggregate([("size_bytes", "count")])
    return bool(counts.num_rows) and pc.max(counts["size_bytes_count"]).as_py() > 1


def partitions_written_since(path: str | Path, since: datetime | None) -> tuple[str, list[str]] | None:
    """(partition column, its values as text) of the current files written after `since` (every partition when
    None), sorted; None for a table not partitioned by exactly one column."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    columns = table.metadata().partition_columns
    if len(columns) != 1:
        return None
    adds = pa.table(_adds(table))
    if since is not None and adds.num_rows:
        adds = adds.filter(pc.greater(adds["modification_time"], int(since.timestamp() * 1000)))
    values = adds.column(f"partition.{columns[0]}").to_pylist() if adds.num_rows else []
    return columns[0], sorted({_text(v) for v in values if v is not None})


def may_hold(path: str | Path, column: str, values: Sequence[str]) -> bool:
    """Whether a current file's [min, max] statistics of `column` can hold one of `values` (a file without them:
    assume so). Read from the log: a delete that cannot match anything is skipped without a Spark job."""
    from deltalake import DeltaTable

    adds = _adds(DeltaTable(str(path)))
    if f"min.{column}" not in adds.column_names:
        return adds.num_rows > 0
    for low, high in zip(adds[f"min.{column}"].to_pylist(), adds[f"max.{column}"].to_pylist(), strict=True):
        if low is None or high is None or any(low <= v <= high for v in values):
            return True
    return False


def _commits(path: str | Path) -> int:
    """Commits kept in the table's _delta_log."""
    return sum(1 for _ in (Path(path) / "_delta_log").glob("*.json"))


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _adds(table: Any) -> Any:
    import pyarrow as pa

    return pa.table(table.get_add_actions(flatten=True))


@contextlib.contextmanager
def session_conf(spark: SparkSession, values: Mapping[str, str]) -> Iterator[None]:
    """Spark SQL settings for the block only (a warm runner's session serves later steps with its own)."""
    before = {k: spark.conf.get(k, None) for k in values}
    for key, value in values.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def maintenance_conf(*, target_file_mb: int, min_file_mb: int) -> dict[str, str]:
    """The session settings optimize runs under (session_conf; set once for a run of many tables): compaction's
    file sizes."""
    return {
        "spark.databricks.delta.optimize.maxFileSize": str(target_file_mb * MB),
        "spark.databricks.delta.optimize.minFileSize": str(min_file_mb * MB),
    }


def optimize(
    catalog: Catalog, name: str, *, zorder: Sequence[str] = (), partition: tuple[str, list[str]] | None = None
) -> dict[str, int]:
    """OPTIMIZE `name`: bin-packing of its small files (maintenance_conf), or Z-ORDER by `zorder` (within each
    partition), on the partitions `partition` (column, values) names, else everywhere. Returns Delta's metrics
    (numFilesAdded, numFilesRemoved, numBatches); a table with nothing to do gets no commit."""
    from delta.tables import DeltaTable

    where = None
    if partition is not None:
        column, values = partition
        if not values:
            return {}
        where = f"`{column}` IN ({', '.join(_sql_text(v) for v in values)})"

    def run() -> Any:
        builder = DeltaTable.forPath(catalog.spark, catalog.path(name)).optimize()
        if where:
            builder = builder.where(where)
        return builder.executeZOrderBy(*zorder) if zorder else builder.executeCompaction()

    result = catalog.retrying(run, name).first()
    metrics = result["metrics"].asDict() if result is not None else {}
    return {k: int(v) for k, v in metrics.items() if k in ("numFilesAdded", "numFilesRemoved", "numBatches")}


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def vacuum(catalog: Catalog, name: str, *, retention_hours: int) -> int:
    """VACUUM `name`: delete the data and change-data files no version of the last `retention_hours` reads, and
    files no version references at all (a killed write's); the number of files deleted. delta-rs (`full`), not
    Spark: the same deletes and log entries (VACUUM START / END) in well under a second instead of 2-30 s of Spark
    jobs a table. Delta's 168 h safety check is off for this call: whether a shorter retention is allowed is conf's
    decision (jobs.common.config.maintenance refuses one unless allow_below_safety; privacy's purge, after a forget).
    """
    from deltalake import DeltaTable

    deleted = DeltaTable(catalog.path(name)).vacuum(
        retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False, full=True
    )
    return len(deleted)


def cut_log(catalog: Catalog, name: str) -> int:
    """Checkpoint the current version of `name` and delete the log files (commits, checksums, checkpoints) of every
    older version; the number deleted. Time travel and the change feed of `name` start at this version afterwards.
    Through the JVM's Hadoop FileSystem (any store the session reads)."""
    spark = catalog.spark
    jvm = spark._jvm
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, catalog.path(name))
    snapshot = delta_log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty())
    version = int(snapshot.version())
    delta_log.checkpoint(snapshot, jvm.scala.Option.empty())
    log_dir = jvm.org.apache.hadoop.fs.Path(f"{catalog.path(name)}/_delta_log")
    fs = log_dir.getFileSystem(spark._jsc.hadoopConfiguration())
    deleted = 0
    for status in fs.listStatus(log_dir):
        match = _VERSIONED.match(status.getPath().getName())
        if status.isFile() and match and int(match.group(1)) < version:
            deleted += bool(fs.delete(status.getPath(), False))
    jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()  # cached snapshots still list the deleted commits
    return deleted


def purge_history(catalog: Catalog, name: str, *, retention_hours: int) -> int:
    """Make rows deleted from `name` unreadable in every earlier version: VACUUM with `retention_hours`, then cut
    the log at a checkpoint of the current version (older commits' file statistics, and the version checksums of a
    small table, can hold the deleted values); the number of log files deleted. A DELETE alone leaves the rows
    readable by time travel, in the change data feed (`_change_data` files) and in those statistics."""
    vacuum(catalog, name, retention_hours=retention_hours)
    deleted = cut_log(catalog, name)
    event("privacy.purged", table=name, retention_hours=retention_hours, log_files_deleted=deleted)
    return deleted


def expire_log(catalog: Catalog, name: str, *, retention_days: int) -> int:
    """Keep `name`'s commit log for `retention_days` (table property, set only when it differs) and delete the
    commits older than that which the last checkpoint covers. Returns the number of log files deleted."""
    from deltalake import DeltaTable

    wanted = f"interval {retention_days} days"
    if DeltaTable(catalog.path(name)).metadata().configuration.get(LOG_RETENTION) != wanted:
        catalog.set_properties(name, {LOG_RETENTION: wanted})
    before = _commits(catalog.path(name))
    DeltaTable(catalog.path(name)).cleanup_metadata()
    return before - _commits(catalog.path(name))


def now() -> datetime:
    return datetime.now(tz=UTC)
