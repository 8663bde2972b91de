"""Writing facts (affected date partitions) and snapshots (one as_of partition), and snapshot retention.

All writes go through jobs.common.tables.Catalog (replaceWhere), so each is atomic and a rerun with the same
inputs leaves the same content.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from jobs.common.log import stage
from jobs.gold.incremental import fact_predicate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from jobs.common.tables import Catalog


def rows_written(catalog: Catalog, table: str) -> int:
    """numOutputRows of the table's last commit (read from the Delta log, no recount)."""
    from delta.tables import DeltaTable

    last = DeltaTable.forPath(catalog.spark, catalog.path(table)).history(1).first()
    return int((last["operationMetrics"] or {}).get("numOutputRows", 0))


def write_fact(
    catalog: Catalog, df: DataFrame, table: str, *, date_col: str, dates: tuple[date, ...] | None, until: date
) -> int:
    """Replace the `dates` partitions of `table` (None: every date up to `until`); one file per date."""
    where = fact_predicate(date_col, dates, until)
    if where is None:
        return 0
    with stage("gold.write_fact", table=table, partitions="all" if dates is None else len(dates)) as info:
        catalog.overwrite_where(df.where(where).repartition(date_col), table, where, partition_by=[date_col])
        info["rows"] = rows_written(catalog, table)
    return info["rows"]


def write_snapshot(catalog: Catalog, df: DataFrame, table: str, *, as_of: date) -> int:
    """Replace the `as_of` partition of `table` with `df` (whose rows all carry that as_of)."""
    where = f"as_of = DATE'{as_of.isoformat()}'"
    with stage("gold.write_snapshot", table=table, as_of=as_of) as info:
        catalog.overwrite_where(df.repartition(1), table, where, partition_by=["as_of"])
        info["rows"] = rows_written(catalog, table)
    return info["rows"]


def expire_snapshots(catalog: Catalog, tables: tuple[str, ...], *, as_of: date, keep_days: int) -> None:
    """Drop as_of partitions older than `keep_days` before `as_of` (relative to the data, not the clock).

    One query finds the tables holding such partitions, so a run with nothing to expire commits nothing.
    """
    cutoff = as_of - timedelta(days=keep_days)
    where = f"as_of < DATE'{cutoff.isoformat()}'"
    present = [t for t in tables if catalog.exists(t)]
    if not present:
        return
    probes = [catalog.read(t).where(where).select(F.lit(t).alias("t")).limit(1) for t in present]
    union = probes[0]
    for probe in probes[1:]:
        union = union.unionByName(probe)
    for row in union.collect():
        with stage("gold.expire_snapshots", table=row["t"], before=cutoff):
            catalog.overwrite_where(catalog.read(row["t"]).limit(0), row["t"], where)


def as_of_dates(as_of: date, since: date | None) -> list[date]:
    """The snapshot dates of a run: `as_of`, or every date from `since` to `as_of` for a backfill."""
    start = since or as_of
    if start > as_of:
        raise ValueError(f"--since {start} is after --as-of {as_of}")
    return [start + timedelta(days=i) for i in range((as_of - start).days + 1)]
