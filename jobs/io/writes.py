"""Writing facts (affected date partitions) and snapshots (one as_of partition, with snapshot retention).

All writes go through jobs.io.tables.Catalog (replaceWhere), so each is atomic and a rerun with the same
inputs leaves the same content.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from jobs.common.log import stage
from jobs.io.changes import fact_predicate

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyspark.sql import DataFrame

    from jobs.io.changes import FactSpec, Plan
    from jobs.io.tables import Catalog


def rows_written(catalog: Catalog, table: str) -> int:
    """numOutputRows of the table's last commit (read from the Delta log, no recount)."""
    return int(catalog.last_commit_metrics(table).get("numOutputRows", 0))


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


def write_facts(
    catalog: Catalog, frames: Mapping[str, DataFrame], specs: tuple[FactSpec, ...], plan: Plan
) -> dict[str, int]:
    """Write each spec's frame (`frames[spec.table]`) over the dates `plan` rewrites; table -> rows written."""
    return {
        spec.table: write_fact(
            catalog,
            frames[spec.table],
            spec.table,
            date_col=spec.date_col,
            dates=plan.affected[spec.table],
            until=plan.until,
        )
        for spec in specs
    }


def write_snapshot(catalog: Catalog, df: DataFrame, table: str, *, as_of: date, expire_before: date) -> int:
    """Replace the `as_of` partition of `table` with `df` (whose rows all carry that as_of) and, in the same
    commit, drop the partitions older than `expire_before` (snapshot retention, relative to the data)."""
    where = f"as_of = DATE'{as_of.isoformat()}' OR as_of < DATE'{expire_before.isoformat()}'"
    with stage("gold.write_snapshot", table=table, as_of=as_of) as info:
        catalog.overwrite_where(df.repartition(1), table, where, partition_by=["as_of"])
        info["rows"] = rows_written(catalog, table)
    return info["rows"]


def snapshot_dates(as_of: date, since: date | None, *, keep_days: int) -> tuple[list[date], date]:
    """The snapshot dates of a run (`as_of`, or every date from `since` to `as_of` for a backfill, less those
    retention would drop at once) and the retention cutoff: partitions before it are dropped."""
    start = since or as_of
    if start > as_of:
        raise ValueError(f"--since {start} is after --as-of {as_of}")
    cutoff = as_of - timedelta(days=keep_days)
    days = [start + timedelta(days=i) for i in range((as_of - start).days + 1)]
    return [d for d in days if d >= cutoff], cutoff
