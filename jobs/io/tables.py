"""Table I/O: name -> path resolution over the warehouse and every idempotent, atomic write we do.

Tables are path-based Delta tables `<warehouse>/<zone>/<table>` addressed as `zone.table`, so several Spark
processes can work on one warehouse without a shared metastore. Transforms never touch this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from jobs.common.log import event
from jobs.common.secrets import private_dir
from jobs.io.faults import after_commit
from jobs.io.paths import TableError, is_table, table_path, zone_tables
from jobs.io.schemas import ddl

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, DataFrameWriter, SparkSession

    from jobs.common.config import Config

T = TypeVar("T")
__all__ = ["Catalog", "TableError", "is_conflict"]


class Catalog:
    """Resolve `zone.table` names to Delta paths and read/write them."""

    def __init__(
        self,
        spark: SparkSession,
        warehouse: str,
        zones: Sequence[str],
        retries: int = 5,
        change_feed_zones: Sequence[str] = (),
    ) -> None:
        self.spark = spark
        self.warehouse = Path(warehouse)
        self.zones = tuple(zones)
        self.retries = retries
        self.change_feed_zones = tuple(change_feed_zones)
        import delta.exceptions  # noqa: F401  (installs the JVM -> Python mapping of Delta's conflict exceptions)

    @classmethod
    def from_config(cls, spark: SparkSession, cfg: Config) -> Catalog:
        """The catalog every job uses: the warehouse, zones, change-feed zones and retries of `cfg`. The folders of
        the restricted zones (raw PII) are made mode 0700 before any table is written into them."""
        for zone in cfg.zones.restricted:
            private_dir(Path(cfg.paths.warehouse) / zone)
        return cls(
            spark,
            cfg.paths.warehouse,
            cfg.zones.all,
            retries=cfg.ingest.conflict_retries,
            change_feed_zones=cfg.zones.change_feed,
        )

    # -- names and reads ---------------------------------------------------------------------------
    def path(self, name: str) -> str:
        return table_path(self.warehouse, name, self.zones)

    def exists(self, name: str) -> bool:
        return is_table(self.path(name))

    def read(self, name: str, *, version: int | None = None) -> DataFrame:
        """The table; its latest version at each action, or `version` (pinned: a later write to the table, even by
        the same job, does not change what the frame reads)."""
        if not self.exists(name):
            raise TableError(f"table {name} does not exist at {self.path(name)} (has its job run?)")
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(self.path(name))

    def read_or_empty(self, name: str) -> DataFrame:
        """The table, or an empty frame of its registered schema (jobs.io.schemas) before its first write."""
        return self.read(name) if self.exists(name) else self.spark.createDataFrame([], ddl(name))

    def version(self, name: str) -> int:
        """Current Delta version, -1 when the table does not exist."""
        return int(self._last_commit(name)["version"]) if self.exists(name) else -1

    def last_commit_metrics(self, name: str) -> dict[str, str]:
        """operationMetrics of the table's last commit (e.g. numOutputRows), read from the Delta log."""
        return dict(self._last_commit(name)["operationMetrics"] or {})

    def properties(self, name: str) -> dict[str, str]:
        """The table's properties (e.g. delta.enableChangeDataFeed), from the Delta log (delta-rs: no Spark job)."""
        from deltalake import DeltaTable

        return dict(DeltaTable(self.path(name)).metadata().configuration or {})

    def set_properties(self, name: str, properties: Mapping[str, str]) -> None:
        """Set table properties (one metadata commit), e.g. what version of another table this one reflects."""
        listed = ", ".join(f"'{k}' = '{v}'" for k, v in properties.items())
        self._with_retries(
            lambda: self.spark.sql(f"ALTER TABLE delta.`{self.path(name)}` SET TBLPROPERTIES ({listed})"), name
        )

    def add_columns(self, name: str, columns: Mapping[str, str]) -> None:
        """Add the columns (name -> SQL type) `name` has not yet (one schema commit; none when it has them all): a
        column later code updates by name in a table written before it existed."""
        missing = {c: t for c, t in columns.items() if c not in self.read(name).columns}
        if missing:
            listed = ", ".join(f"`{c}` {t}" for c, t in missing.items())
            self._with_retries(
                lambda: self.spark.sql(f"ALTER TABLE delta.`{self.path(name)}` ADD COLUMNS ({listed})"), name
            )

    def change_feed(self, name: str, start: int, end: int) -> DataFrame:
        """The change data feed of versions [start, end] (lazy: an unreadable range fails when collected)."""
        reader = (
            self.spark.read.format("delta")
            .option("readChangeFeed", "true")
            .option("startingVersion", start)
            .option("endingVersion", end)
        )
        return reader.load(self.path(name))

    def txn_version(self, name: str, app_id: str) -> int | None:
        """The last transaction version `append_once` committed for `app_id` (None: none, or no table)."""
        from deltalake import DeltaTable

        if not self.exists(name):
            return None
        return DeltaTable(self.path(name)).transaction_version(app_id)

    def _last_commit(self, name: str) -> dict[str, Any]:
        """The commit info of the table's last version, read from the Delta log by delta-rs: no Spark job (Spark's
        history() ran one per call, a few hundred milliseconds a table write)."""
        from deltalake import DeltaTable

        return DeltaTable(self.path(name)).history(1)[0]

    def list_tables(self) -> list[str]:
        names = []
        for zone in self.zones:
            names += [f"{zone}.{table}" for table in zone_tables(self.warehouse, zone)]
        return names

    # -- writes ------------------------------------------------------------------------------------
    def merge(
        self,
        df: DataFrame,
        name: str,
        keys: Sequence[str],
        *,
        partition_by: Sequence[str] = (),
        update_condition: str | None = None,
        delete_unmatched_where: str | None = None,
        schema_evolution: bool = False,
        on: str | None = None,
        update_set: Mapping[str, str] | None = None,
        insert: bool = True,
        delete_when: str | None = None,
        insert_when: str | None = None,
        insert_values: Mapping[str, str] | None = None,
    ) -> None:
        """Upsert `df` on `keys` (source must be unique on keys). Creates the table on first write.

        `update_condition` (over `t.` target and `s.` source) limits updates, e.g. to newer versions, so a
        rerun with the same rows writes nothing new. `schema_evolution` adds the source's new columns to the table.
        `on` replaces the null-safe key equality as the match condition, `update_set` (column -> SQL expression)
        updates only those columns, and `insert=False` never adds unmatched source rows. `delete_when` deletes the
        matched rows it holds for (before any update); `insert_when` / `insert_values` (column -> SQL expression)
        limit and shape the inserts (for a source that carries columns the table has not, e.g. a delete flag).
        """
        from delta.tables import DeltaTable

        if not self.exists(name):
            self._create(df, name, partition_by)
            return
        cond = on or " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)

        def attempt() -> None:
            target = DeltaTable.forPath(self.spark, self.path(name))
            builder = target.alias("t").merge(df.alias("s"), cond)
            if schema_evolution:
                builder = builder.withSchemaEvolution()
            if delete_when:
                builder = builder.whenMatchedDelete(condition=delete_when)
            if update_set is None:
                builder = builder.whenMatchedUpdateAll(condition=update_condition)
            else:
                builder = builder.whenMatchedUpdate(condition=update_condition, set=dict(update_set))
            if insert and insert_values is not None:
                builder = builder.whenNotMatchedInsert(condition=insert_when, values=dict(insert_values))
            elif insert:
                builder = builder.whenNotMatchedInsertAll(condition=insert_when)
            if delete_unmatched_where:
                builder = builder.whenNotMatchedBySourceDelete(condition=delete_unmatched_where)
            builder.execute()

        self._with_retries(attempt, name)

    def overwrite_where(
        self, df: DataFrame, name: str, where: str, *, partition_by: Sequence[str] = (), merge_schema: bool = False
    ) -> int:
        """Atomically replace the rows matching `where` (replaceWhere) with `df`; creates on first write.
        `merge_schema` adds `df`'s new columns to the table. Returns the rows written: numOutputRows of the commit,
        0 when the write committed nothing (an empty frame over no rows: Delta adds no version)."""
        writer = df.write.format("delta").mode("overwrite").option("replaceWhere", where)
        if merge_schema:
            writer = writer.option("mergeSchema", "true")
        if not self.exists(name):
            writer = self._creating(writer, name).partitionBy(*partition_by)
        before = self.version(name)
        self._with_retries(lambda: writer.save(self.path(name)), name)
        last = self._last_commit(name)  # one log read: the version the write made (if any) and its metrics
        return 0 if last["version"] == before else int((last["operationMetrics"] or {}).get("numOutputRows", 0))

    def overwrite(self, df: DataFrame, name: str, *, partition_by: Sequence[str] = ()) -> None:
        """Replace the whole table (small reference tables only); schema may change."""
        writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
        if not self.exists(name):
            writer = self._creating(writer, name)
        self._with_retries(lambda: writer.partitionBy(*partition_by).save(self.path(name)), name)

    def append_once(
        self,
        df: DataFrame,
        name: str,
        *,
        app_id: str,
        version: int,
        partition_by: Sequence[str] = (),
        merge_schema: bool = False,
    ) -> None:
        """Append exactly once per (app_id, version): Delta skips a repeated transaction id."""
        writer = (
            df.write.format("delta")
            .mode("append")
            .option("txnAppId", app_id)
            .option("txnVersion", version)
            .option("mergeSchema", str(merge_schema).lower())
        )
        if not self.exists(name):
            writer = self._creating(writer, name).partitionBy(*partition_by)
        self._with_retries(lambda: writer.save(self.path(name)), name)

    def delete_where(self, name: str, condition: Column | str, *, using: DataFrame | None = None) -> int:
        """Delete the rows matching `condition` (retried on conflicts); the rows deleted. With `using` (a small
        frame), the condition joins the table (alias t) to it (alias s) and the delete is a MERGE ... WHEN MATCHED
        DELETE: Delta writes a DELETE's condition into the commit log, a MERGE only its join condition, so values
        to delete by (an erased person's ids) are passed as rows, never as literals. A table with no matching row
        gets no commit, so a repeated delete writes nothing. With deletion vectors on, the files are rewritten too
        (REORG ... PURGE): a deletion vector only hides a row its file still holds."""
        from delta.tables import DeltaTable
        from pyspark.sql import functions as F

        if not self.exists(name):
            return 0
        table = self.read(name)
        if using is None:
            matched = table.where(condition)
        else:
            matched = table.alias("t").join(F.broadcast(using.alias("s")), on=condition, how="left_semi")
        if not matched.limit(1).count():
            return 0

        def attempt() -> None:
            target = DeltaTable.forPath(self.spark, self.path(name))
            if using is None:
                target.delete(condition)
            else:  # an unconditional delete may match a row from several source rows
                target.alias("t").merge(F.broadcast(using.alias("s")), condition).whenMatchedDelete().execute()

        self._with_retries(attempt, name)
        metrics = self.last_commit_metrics(name)
        deleted = int(metrics.get("numDeletedRows", metrics.get("numTargetRowsDeleted", 0)))
        if str(self.properties(name).get("delta.enableDeletionVectors", "false")).lower() == "true":
            self._with_retries(lambda: self.spark.sql(f"REORG TABLE delta.`{self.path(name)}` APPLY (PURGE)"), name)
        return deleted

    def _create(self, df: DataFrame, name: str, partition_by: Sequence[str]) -> None:
        writer = self._creating(df.write.format("delta").mode("append"), name).partitionBy(*partition_by)
        self._with_retries(lambda: writer.save(self.path(name)), name)

    def _creating(self, writer: DataFrameWriter, name: str) -> DataFrameWriter:
        """Table properties set once, by the write that creates the table (Delta stores `delta.*` options)."""
        if name.split(".", 1)[0] in self.change_feed_zones:
            writer = writer.option("delta.enableChangeDataFeed", "true")
        return writer

    def retrying(self, fn: Callable[[], T], name: str) -> T:
        """`fn` (one commit to `name`, e.g. an OPTIMIZE or a DELETE), retried on commit conflicts."""
        return self._with_retries(fn, name)

    def _with_retries(self, fn: Callable[[], T], name: str) -> T:
        """Retry optimistic-concurrency conflicts (another process committed first) with backoff."""
        for attempt in range(1, self.retries + 1):
            try:
                result = fn()
                after_commit(name)
                return result
            except Exception as exc:
                if attempt == self.retries or not is_conflict(exc):
                    raise
                event("table.conflict_retry", table=name, attempt=attempt, error=type(exc).__name__)
                time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")


def is_conflict(exc: BaseException) -> bool:
    """Whether `exc` is a Delta commit conflict, which a retry of the whole read-modify-write resolves.

    delta.exceptions maps the JVM's io.delta.exceptions.* to these Python classes (classic and Connect);
    each derives from PySparkException only, so they are listed one by one.
    """
    from delta.exceptions import base as dx

    conflicts = (
        dx.ConcurrentAppendException,
        dx.ConcurrentDeleteDeleteException,
        dx.ConcurrentDeleteReadException,
        dx.ConcurrentTransactionException,
        dx.ConcurrentWriteException,
        dx.DeltaConcurrentModificationException,
        dx.MetadataChangedException,
        dx.ProtocolChangedException,
    )
    return isinstance(exc, conflicts)
