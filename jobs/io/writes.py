"""Writing facts (affected date partitions) and snapshots (one as_of partition, with snapshot retention).

All writes go through jobs.io.tables.Catalog (replaceWhere), so each is atomic and a rerun with the same
inputs leaves the same content.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from jobs.common.log import stage
from jobs.common.parallel import map_parallel
from jobs.io.changes import fact_predicate

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

    from pyspark.sql import DataFrame

    from jobs.io.changes import FactSpec, Plan
    from jobs.io.tables import Catalog


def write_fact(
    catalog: Catalog, df: DataFrame, table: str, *, date_col: str, dates: tuple[date, ...] | None, until: date
) -> int:
    """Replace the `dates` partitions of `table` (None: every date up to `until`); one file per date."""
    where = fact_predicate(date_col, dates, until)
    if where is None:
        return 0
    with stage("gold.write_fact", table=table, partitions="all" if dates is None else len(dates)) as info:
        info["rows"] = catalog.overwrite_where(
            df.where(where).repartition(date_col), table, where, partition_by=[date_col]
        )
    return info["rows"]


def in_waves(tables: Sequence[str], after: Sequence[Collection[str]] = ()) -> list[list[str]]:
    """`tables` as write waves: those in none of `after` first, then each collection of `after` in turn (empty
    waves left out). A frame cached for other tables is written, so computed once, a wave before those that read
    it; the tables of one wave are independent."""
    later = {t for wave in after for t in wave}
    waves = [[t for t in tables if t not in later], *([t for t in tables if t in wave] for wave in after)]
    return [wave for wave in waves if wave]


def write_in_waves(
    write: Callable[[str], int], tables: Sequence[str], *, after: Sequence[Collection[str]] = (), workers: int = 1
) -> dict[str, int]:
    """`write(table)` -> rows for each of `tables`, wave by wave (in_waves), a wave's tables on up to `workers`
    driver threads (jobs/common/parallel.py: a small run's writes are mostly per-job and per-commit overhead, which
    concurrent writes overlap); table -> rows written, in the order of `tables`."""
    rows: dict[str, int] = {}
    for wave in in_waves(tables, after):
        rows.update(zip(wave, map_parallel(write, wave, workers=workers), strict=True))
    return {t: rows[t] for t in tables}


def write_facts(
    catalog: Catalog,
    frames: Mapping[str, DataFrame],
    specs: tuple[FactSpec, ...],
    plan: Plan,
    *,
    after: Sequence[Collection[str]] = (),
    workers: int = 1,
) -> dict[str, int]:
    """Write each spec's frame (`frames[spec.table]`) over the dates `plan` rewrites, in waves (write_in_waves);
    table -> rows written."""
    by_table = {spec.table: spec for spec in specs}

    def write(table: str) -> int:
        spec = by_table[table]
        return write_fact(
            catalog, frames[table], table, date_col=spec.date_col, dates=plan.affected[table], until=plan.until
        )

    return write_in_waves(write, list(by_table), after=after, workers=workers)


def expired_snapshots(existing: Iterable[date], *, cutoff: date, run_days: Collection[date]) -> list[date]:
    """The snapshot partitions retention drops (issue 11, defect 3): those older than `cutoff`, except the newest
    partition the run does not write itself. So a jump in as-of (a typo, one far-future row) keeps the last good
    snapshot instead of leaving the table with the run's dates only; in steady state that newest partition is the
    day before and lies within the retention anyway, so nothing more is kept."""
    others = sorted(set(existing) - set(run_days))
    return [d for d in others[:-1] if d < cutoff]


def _snapshot_partitions(catalog: Catalog, table: str) -> list[date]:
    """The as_of partitions of `table` (a few dozen, bounded by the retention); none before its first write."""
    if not catalog.exists(table):
        return []
    import pyarrow as pa
    from deltalake import DeltaTable

    # from the Delta log's add actions (delta-rs): no Spark job, no data file read
    values = pa.table(DeltaTable(catalog.path(table)).get_add_actions(flatten=True)).column("partition.as_of")
    return sorted({v if isinstance(v, date) else date.fromisoformat(v) for v in values.to_pylist() if v is not None})


def write_snapshot(
    catalog: Catalog,
    df: DataFrame,
    table: str,
    *,
    as_of: date,
    expire_before: date,
    run_days: Collection[date] = (),
    merge_schema: bool = False,
) -> int:
    """Replace the `as_of` partition of `table` with `df` (whose rows all carry that as_of) and, in the same
    commit, drop the partitions older than `expire_before` (snapshot retention, relative to the data) but the
    newest one outside `run_days` (the run's snapshot dates; `as_of` is always one): see expired_snapshots.
    `merge_schema`: `df`'s new columns are added to the table (older partitions read them as null)."""
    expired = expired_snapshots(_snapshot_partitions(catalog, table), cutoff=expire_before, run_days={as_of, *run_days})
    where = f"as_of = DATE'{as_of.isoformat()}'"
    if expired:
        where += f" OR {fact_predicate('as_of', tuple(expired), as_of)}"
    with stage("gold.write_snapshot", table=table, as_of=as_of, expired=len(expired)) as info:
        info["rows"] = catalog.overwrite_where(
            df.repartition(1), table, where, partition_by=["as_of"], merge_schema=merge_schema
        )
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
