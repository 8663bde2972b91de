"""Which customers a customer snapshot must recompute, and the snapshot it starts from.

A customer snapshot as of D (gold.customer_360, gold.rfm_segments, features.customer_asof) is one row per customer,
each computed from that customer's own history. A run that already wrote the snapshot as of B <= D, from known
input versions, recomputes only the customers whose rows can differ between B and D: those in the change feed of an
input since the versions B reflects (both images of an update: a customer merged away is touched too), those with
input rows dated in (B, D], and those with rows dated in (B - w, D - w] for each trailing window of w days a
snapshot counts over (a purchase that leaves a 30-day window). Every other customer keeps B's row; the columns that
only measure time since a date shift by D - B. The result equals a full recompute (tests/integration/gold/
test_incremental.py).

The base is recorded like the fact watermarks (ops.gold_watermarks, consumer `<consumer>#snapshots`, facts_until:
its as_of), written after the snapshots, so a run that dies in between starts from the older base. No base, a base
after D, a base partition that is gone, or a change feed that cannot be read means a full recompute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from jobs.common.frames import union_all
from jobs.common.log import event
from jobs.io.changes import LINES, PRODUCTS, Plan, read_changes, save_watermarks, watermarks
from jobs.io.inputs import DATE_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from jobs.io.tables import Catalog

SILVER_CUSTOMERS = "silver.customers"
RETURNS = "silver.returns"
LINE_KEY = ["channel", "order_id", "line_no"]
# the business date of an input's row, for the inputs a snapshot can read (a customer is known from this date)
_DATED = {**DATE_COLUMNS, SILVER_CUSTOMERS: "to_date(coalesce(first_seen_ts, joined_ts))"}


@dataclass(frozen=True)
class Base:
    consumer: str  # gold or features
    as_of: date  # the snapshot a run starts from
    versions: Mapping[str, int]  # the input versions it reflects


def _suffixed(consumer: str) -> str:
    return f"{consumer}#snapshots"


def snapshot_base(catalog: Catalog, consumer: str, tables: tuple[str, ...], *, as_of: date) -> Base | None:
    """The last snapshot `consumer` recorded, when it is on or before `as_of` and every table still holds it."""
    versions, day = watermarks(catalog, _suffixed(consumer))
    if day is None or day > as_of:
        return None
    for table in tables:
        if not catalog.exists(table) or catalog.read(table).where(F.col("as_of") == F.lit(day)).limit(1).count() == 0:
            event("gold.snapshot_base_missing", consumer=consumer, table=table, as_of=day)
            return None
    return Base(consumer, day, versions)


def save_snapshot_base(catalog: Catalog, base: Base) -> None:
    """Record the snapshot written last and the input versions it reflects; written after the snapshots."""
    plan = Plan(consumer=_suffixed(base.consumer), until=base.as_of, versions=base.versions, affected={})
    save_watermarks(catalog, plan)


def _between(expr: str, start: date, end: date) -> Column:
    """`expr` (a date) in (start, end]."""
    return (F.expr(expr) > F.lit(start)) & (F.expr(expr) <= F.lit(end))


def _customers_of(source: str, rows: DataFrame, lines: DataFrame) -> DataFrame:
    """The customer_id of rows of `source`: their own; a return's, the line's it returns; a product's, its buyers'."""
    if source == RETURNS:
        return lines.join(rows.select(*LINE_KEY), on=LINE_KEY, how="left_semi").select("customer_id")
    if source == PRODUCTS:
        return lines.join(rows.select("sku"), on="sku", how="left_semi").select("customer_id")
    return rows.select("customer_id")


def touched_customers(
    catalog: Catalog,
    base: Base,
    versions: Mapping[str, int],
    inputs: Mapping[str, DataFrame],
    *,
    as_of: date,
    windows: Mapping[str, tuple[int, ...]],
) -> DataFrame | None:
    """The customers (customer_id, distinct, cached) whose snapshot rows can differ between `base` and `as_of`.

    `windows`: input -> the trailing windows (days) snapshots count its rows over, besides the lifetime: rows dated
    in (base - w, as_of - w] are touched too. Products: their change feed only (a changed SKU touches its buyers).
    None when a feed cannot be read or an input went back to an older version: recompute everyone."""
    lines = inputs[LINES]
    parts: list[DataFrame] = []
    for source in sorted({*windows, PRODUCTS}):
        last, now = base.versions.get(source), versions[source]
        if last is None or now < last:
            event(f"{base.consumer}.snapshot_feed_unknown", source=source, base_version=last, version=now)
            return None
        if now > last:
            feed = read_changes(catalog, source, last + 1, now)
            if feed is None:
                return None
            parts.append(_customers_of(source, feed, lines))
        if source == PRODUCTS:
            continue
        for days in (0, *windows[source]):
            since, until = base.as_of - timedelta(days=days), as_of - timedelta(days=days)
            if until > since:
                parts.append(_customers_of(source, inputs[source].where(_between(_DATED[source], since, until)), lines))
    union = union_all(parts) if parts else lines.limit(0).select("customer_id")
    touched = union.where(F.col("customer_id").isNotNull()).distinct().cache()
    try:
        count = touched.count()
    except Exception as exc:  # py4j-wrapped Delta errors: a feed range that cannot be read
        event("gold.change_feed_unreadable", source="snapshots", error=type(exc).__name__)
        touched.unpersist()
        return None
    event(f"{base.consumer}.snapshot_touched", base=base.as_of, as_of=as_of, customers=count)
    return touched


def base_rows(catalog: Catalog, table: str, base: Base) -> DataFrame:
    """The rows of `table`'s base snapshot (its as_of partition), pinned to the table's current version: the run
    writes the same table (and retention may drop the base partition), and Spark recomputes a frame whose cache a
    write to a table it reads invalidates."""
    return catalog.read(table, version=catalog.version(table)).where(F.col("as_of") == F.lit(base.as_of))
