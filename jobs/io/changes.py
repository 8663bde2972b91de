"""Which fact partitions a run must rewrite, from silver's change data feed since the last processed version.

Each fact table declares its inputs and how far a change reaches: a change dated d rewrites d .. d + lookback
(None: d and every later date, for facts built on running state such as carried-forward stock). Products
changes reach every date on which a changed SKU sold or was stocked; CUSTOMERS (first purchase ever) reaches
the old first-purchase date of a customer whose first purchase moved; RETURNED reaches the return dates of
returns of changed lines (they take the line's store). Dates newly covered since the last run's `facts_until`
are always rewritten. A first run, a missing fact table, or a change feed that cannot be read means a full
rebuild. A fact keyed by week (`FactSpec.period`) rewrites the weeks (Mondays) those dates fall in.

Each fact also declares what it reads back (`FactSpec.needs`): per input, how many days before its first rewritten
date its logic looks (a trailing window, a previous day, an attribution window). `read_from` turns a plan into the
earliest date to read of each input, so a run that rewrites a few dates reads a window, not all history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from jobs.common.frames import union_all
from jobs.common.log import event
from jobs.io.inputs import DATE_COLUMNS
from jobs.io.schemas import ddl

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from jobs.io.tables import Catalog

WATERMARKS = "ops.gold_watermarks"
PRODUCTS = "silver.products"
LINES = "silver.order_lines"
CUSTOMERS = "silver.order_lines#customers"  # pseudo input: old first-purchase dates of customers that changed
RETURNED = "silver.order_lines#returns"  # pseudo input: return dates of returns of changed lines
PSEUDO = {CUSTOMERS: LINES, RETURNED: LINES}
GRID = "grid"  # pseudo input of FactSpec.needs: the store x SKU x day grid (jobs/gold/demand.py), read from its inputs
# the grid's inputs; it carries stock and prices forward, so a change reaches every later date
GRID_SOURCES: dict[str, int | None] = {
    LINES: None,
    "silver.daily_sales_imported": None,
    "silver.inventory": None,
    PRODUCTS: None,
}
GRID_INPUTS = (LINES, "silver.daily_sales_imported", "silver.inventory")  # the dated ones: a grid window reads these


PERIODS = ("day", "week", "day+week")


@dataclass(frozen=True)
class FactSpec:
    table: str
    date_col: str
    sources: Mapping[str, int | None]  # input -> lookback days; None: every date from the change on
    # input -> days before the fact's first rewritten date that its logic reads (inputs not listed: read in full)
    needs: Mapping[str, int] = field(default_factory=dict)
    # what the date column holds: the day itself, the Monday of the day's ISO week, or both (a table with day and
    # week rows): an affected day rewrites the partitions of those values (period_starts)
    period: str = "day"

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"{self.table}: period must be one of {PERIODS}, not {self.period!r}")


def week_start(d: date) -> date:
    """The Monday of `d`'s ISO week (Spark: date_trunc('week', d))."""
    return d - timedelta(days=d.weekday())


def period_starts(days: set[date], period: str) -> set[date]:
    """The partition values of a fact with `period` (FactSpec.period) that the affected `days` fall in."""
    weeks = {week_start(d) for d in days}
    return set(days) if period == "day" else weeks if period == "week" else set(days) | weeks


@dataclass(frozen=True)
class Plan:
    consumer: str
    until: date
    versions: Mapping[str, int]
    affected: Mapping[str, tuple[date, ...] | None]  # fact table -> dates to rewrite; None: all up to `until`


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def read_changes(catalog: Catalog, table: str, start: int, end: int) -> DataFrame | None:
    """The change feed of `table` for versions [start, end]; None when the table does not record one, or when its
    log no longer reaches `start` (a privacy purge cut it at a checkpoint: README "Privacy"): rebuild in full."""
    if str(catalog.properties(table).get("delta.enableChangeDataFeed", "false")).lower() != "true":
        event("gold.change_feed_off", table=table, hint="set delta.enableChangeDataFeed=true for incremental runs")
        return None
    try:
        return catalog.change_feed(table, start, end)
    except Exception as exc:  # py4j-wrapped Delta errors (DELTA_LOG_FILE_NOT_FOUND) raised when the feed is resolved
        event("gold.change_feed_unreadable", source=table, error=type(exc).__name__)
        return None


def _first_purchase_dates(changes: DataFrame, lines: DataFrame) -> DataFrame:
    """The old first-purchase date of customers whose first purchase may have moved: the earliest of their
    unchanged sales lines, when a changed line (before or after the change) is dated on or before it."""
    key = ["channel", "order_id", "line_no"]
    touched = (
        changes.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(F.min("order_date").alias("_changed"))
    )
    unchanged = (
        lines.join(changes.select(*key), on=key, how="left_anti")
        .where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(F.min("order_date").alias("d"))
    )
    return unchanged.join(touched, on="customer_id", how="inner").where(F.col("_changed") <= F.col("d")).select("d")


def _changed_dates(changes: DataFrame, source: str, inputs: Mapping[str, DataFrame]) -> DataFrame:
    """The business dates (column d) a source's changed rows are about."""
    if source == PRODUCTS:
        skus = changes.select("sku").distinct()
        dated = [
            inputs[LINES].select("sku", F.col("order_date").alias("d")),
            inputs["silver.returns"].select("sku", F.col("return_date").alias("d")),
            inputs["silver.daily_sales_imported"].select("sku", F.col("sales_date").alias("d")),
            inputs["silver.inventory"].select("sku", F.col("snapshot_date").alias("d")),
        ]
        union = dated[0].unionByName(dated[1]).unionByName(dated[2]).unionByName(dated[3])
        return union.join(skus, on="sku", how="inner").select("d")
    if source == CUSTOMERS:
        return _first_purchase_dates(changes, inputs[LINES])
    if source == RETURNED:
        keys = changes.select("channel", "order_id", "line_no").distinct()
        return (
            inputs["silver.returns"]
            .join(keys, on=["channel", "order_id", "line_no"], how="inner")
            .select(F.col("return_date").alias("d"))
        )
    return changes.select(F.expr(DATE_COLUMNS[source]).alias("d"))


def _distinct_dates(df: DataFrame, source: str) -> DataFrame:
    return df.where(F.col("d").isNotNull()).select(F.lit(source).alias("source"), "d").distinct()


def _collect_dates(frames: dict[str, DataFrame]) -> dict[str, set[date] | None]:
    """Distinct dates per source, in one Spark job (bounded by the number of business dates, not by volume).

    A feed that fails to read (e.g. enabled after the last processed version) gives None: rebuild in full.
    """
    if not frames:
        return {}
    union = union_all([_distinct_dates(df, source) for source, df in frames.items()])
    try:
        rows = union.collect()
    except Exception:  # py4j-wrapped Delta errors: find which feed is unreadable
        return {source: _collect_one(df, source) for source, df in frames.items()}
    found: dict[str, set[date]] = {source: set() for source in frames}
    for row in rows:
        found[row["source"]].add(row["d"])
    return dict(found)


def _collect_one(df: DataFrame, source: str) -> set[date] | None:
    try:
        return {row["d"] for row in _distinct_dates(df, source).collect()}
    except Exception as exc:
        event("gold.change_feed_unreadable", source=source, error=type(exc).__name__)
        return None


def watermarks(catalog: Catalog, consumer: str) -> tuple[dict[str, int], date | None]:
    """The input versions `consumer` last recorded and the date that run covered up to (None: never ran)."""
    rows = catalog.read_or_empty(WATERMARKS).where(F.col("consumer") == consumer).collect()
    return {r["source"]: r["version"] for r in rows}, (max(r["facts_until"] for r in rows) if rows else None)


def plan_facts(
    catalog: Catalog,
    consumer: str,
    specs: tuple[FactSpec, ...],
    *,
    until: date,
    versions: Mapping[str, int],
    inputs: Mapping[str, DataFrame],
    full: bool = False,
) -> Plan:
    """The fact partitions to rewrite for `consumer`, given the input versions read by this run (`full`: every
    partition up to `until`, as on a first run, whatever the watermarks say)."""
    seen, prev_until = ({}, None) if full else watermarks(catalog, consumer)
    until = max(until, prev_until) if prev_until else until
    changed: dict[str, set[date] | None] = {}
    feeds: dict[str, DataFrame] = {}
    read: dict[str, DataFrame | None] = {}  # one change feed per table, shared by its pseudo inputs
    for source in sorted({s for spec in specs for s in spec.sources}):
        table = PSEUDO.get(source, source)
        last, now = seen.get(table), versions[table]
        if last is not None and now > last and table not in read:
            read[table] = read_changes(catalog, table, last + 1, now)
        feed = read.get(table)
        if last is None or now < last or (now > last and feed is None):
            changed[source] = None
        elif feed is not None:
            feeds[source] = _changed_dates(feed, source, inputs)
    changed.update(_collect_dates(feeds))
    changed.update({s: set() for spec in specs for s in spec.sources if s not in changed})
    fresh = set(_days(prev_until + timedelta(days=1), until)) if prev_until else set()
    affected: dict[str, tuple[date, ...] | None] = {}
    for spec in specs:
        if prev_until is None or not catalog.exists(spec.table) or any(changed[s] is None for s in spec.sources):
            affected[spec.table] = None
            continue
        dates = set(fresh)
        for source, lookback in spec.sources.items():
            for d in changed[source] or ():
                end = until if lookback is None else min(until, d + timedelta(days=lookback))
                dates.update(_days(d, end))
        affected[spec.table] = tuple(sorted(d for d in period_starts(dates, spec.period) if d <= until))
    return Plan(consumer=consumer, until=until, versions=dict(versions), affected=affected)


def fact_predicate(date_col: str, dates: tuple[date, ...] | None, until: date) -> str | None:
    """The replaceWhere predicate for the affected partitions; None when there is nothing to rewrite."""
    if dates is None:
        return f"{date_col} <= DATE'{until.isoformat()}'"
    if not dates:
        return None
    listed = ", ".join(f"DATE'{d.isoformat()}'" for d in dates)
    return f"{date_col} IN ({listed})"


def read_from(
    plan: Plan, specs: tuple[FactSpec, ...], *, also: Mapping[str, date] | None = None
) -> dict[str, date | None]:
    """The earliest date of each input in some spec's `needs` (or in `also`: input -> a start other readers need)
    that the planned rewrites read: the first rewritten date less the days the fact reads back, the earliest over
    the facts; None: all history (a fact rewritten in full). An input no rewrite needs starts after `until` (an
    empty window). The grid's inputs are read from the grid's start on."""
    starts: dict[str, date | None] = dict(also or {})
    for spec in specs:
        dates = plan.affected[spec.table]
        for source, days in spec.needs.items():
            if dates is not None and not dates:
                starts.setdefault(source, plan.until + timedelta(days=1))
                continue
            start = None if dates is None else dates[0] - timedelta(days=days)
            starts[source] = earliest(starts.get(source, start), start)
    if GRID in starts:
        for name in GRID_INPUTS:
            starts[name] = earliest(starts.get(name, starts[GRID]), starts[GRID])
    return starts


def earliest(*starts: date | None) -> date | None:
    """The earliest of window starts, None (all history) when any is None."""
    known = [s for s in starts if s is not None]
    return min(known) if known and len(known) == len(starts) else None


def save_watermarks(catalog: Catalog, plan: Plan) -> None:
    """Record the input versions this run consumed; written last, so a failed run is simply redone."""
    rows = [(plan.consumer, table, int(version), plan.until) for table, version in sorted(plan.versions.items())]
    catalog.merge(catalog.spark.createDataFrame(rows, ddl(WATERMARKS)), WATERMARKS, ["consumer", "source"])
