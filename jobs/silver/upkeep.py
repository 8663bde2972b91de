"""Derived silver upkeep after each ingest: order headers, customer_id moves, customers, unknown references.

The I/O half of jobs/silver/derived.py: read the silver tables, call its pure transforms, merge the results.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.common.log import event
from jobs.io.tables import Catalog
from jobs.silver.derived import (
    CUSTOMER_COLUMNS,
    account_id_type,
    customers,
    order_headers,
    reassign_condition,
    unknown_products,
    unknown_stores,
)
from jobs.silver.location import LOCATION_COLUMNS, with_location

MAP_VERSION = "omnilake.identityMapVersion"  # table property: the identity_map version its customer_ids reflect
REKEYED = ("silver.order_lines", "silver.events", "silver.orders")  # tables whose rows carry a customer_id
# tables whose rows may name an identifier before any identity source maps it (an account browses before its first
# order: events are no identity source), with their partition column: those rows gain the customer_id once it is
# mapped. The other REKEYED tables are identity sources: their identifiers are mapped before their rows are written.
ATTACHED = {"silver.events": "event_date"}


def moved_ids(feed: DataFrame, *, id_map: DataFrame) -> DataFrame:
    """(id_type, id_value, customer_id) now, of every identifier whose customer_id a merge moved in `feed` (the
    identity_map change feed): its update_postimage rows. An insert is a new identifier: the rows of identity
    sources were given their customer_id after it was mapped, earlier events gain it in `unattached` / _attach; the
    map never deletes."""
    moved = feed.where(F.col("_change_type") == "update_postimage").select("id_type", "id_value").distinct()
    return id_map.join(moved, on=["id_type", "id_value"], how="left_semi").select("id_type", "id_value", "customer_id")


def unattached(rows: DataFrame, feed: DataFrame, *, id_map: DataFrame, partition: str) -> DataFrame:
    """(id_type, id_value, customer_id, `partition`) of the `rows` (channel, account_id, customer_id, `partition`)
    still without a customer_id whose identifier `feed` (the identity_map change feed) inserted: rows written before
    their identifier was mapped. customer_id is the identifier's now (`id_map`)."""
    new = feed.where(F.col("_change_type") == "insert").select("id_type", "id_value").distinct()
    ids = id_map.join(new, on=["id_type", "id_value"], how="left_semi").select("id_type", "id_value", "customer_id")
    orphans = rows.where(F.col("customer_id").isNull() & F.col("account_id").isNotNull())
    orphans = orphans.select(
        account_id_type(F.col("channel")).alias("id_type"), F.col("account_id").alias("id_value"), partition
    )
    return (
        orphans.join(ids, on=["id_type", "id_value"]).select("id_type", "id_value", "customer_id", partition).distinct()
    )


def follow_identity_merges(catalog: Catalog, *, map_before: int, max_lag: int, tables: Sequence[str] = REKEYED) -> None:
    """Move the rows of customers merged by a new link to the surviving customer_id, in each of `tables`.

    Each table records (property MAP_VERSION) the identity_map version its customer_ids reflect, and follows the
    map's change feed from there; it is not this run's own resolution that drives it, so a run that died between
    its identity_map merge and this step is caught up by the next run, which finds no new edge (issue 11,
    defect 4). A table without the property (a lake from before it, or a table created by this run) starts from
    `map_before`, the map's version before this run's identity merge (-1: the map is new in this run, whose rows
    were all given their customer_ids after it was written: nothing to move).

    Cost: the MERGE runs only when the feed moved some identifier (the update condition makes rows already under
    their customer a no-op, so a repeat is harmless); in ATTACHED tables a second MERGE gives rows written before
    their identifier was mapped its customer_id, only when there are such rows. The property is advanced when a
    MERGE ran, when the table had none, or when it lags the map by `max_lag` versions or more: an ingest that moves
    nobody (most) commits nothing here, and the feed read stays bounded by `max_lag` small commits (one per ingest
    that adds identifiers). Re-reading versions that moved nobody is correct: they move nobody again."""
    if not catalog.exists("silver.identity_map"):
        return
    map_now = catalog.version("silver.identity_map")
    id_map: DataFrame | None = None  # the map now, read when some table lags it
    feeds: dict[int, tuple[DataFrame, DataFrame | None]] = {}  # starting version -> (feed, moved ids): shared
    for name in tables:
        if not catalog.exists(name):
            continue
        recorded = catalog.properties(name).get(MAP_VERSION)
        since = map_before if recorded is None else int(recorded)
        moved, attached = None, False
        if 0 <= since < map_now:
            if id_map is None:
                id_map = catalog.read("silver.identity_map", version=map_now)
            if since not in feeds:
                feed = catalog.change_feed("silver.identity_map", since + 1, map_now)
                found = moved_ids(feed, id_map=id_map).localCheckpoint()
                feeds[since] = (feed, found if found.limit(1).count() else None)
            feed, moved = feeds[since]
            if moved is not None:
                catalog.merge(
                    moved,
                    name,
                    [],
                    on=reassign_condition(),
                    update_condition="NOT (t.customer_id <=> s.customer_id)",
                    update_set={"customer_id": "s.customer_id"},
                    insert=False,
                )
            attached = name in ATTACHED and _attach(catalog, name, feed, id_map=id_map)
        if recorded is None or moved is not None or attached or map_now - since >= max_lag:
            catalog.set_properties(name, {MAP_VERSION: str(map_now)})


def _attach(catalog: Catalog, name: str, feed: DataFrame, *, id_map: DataFrame) -> bool:
    """Give the rows of `name` written before their identifier was mapped (`feed`, the identity_map change feed,
    inserted it) its customer_id, in the partitions that hold such rows only; False when there were none (nothing
    committed)."""
    partition = ATTACHED[name]
    found = unattached(catalog.read(name), feed, id_map=id_map, partition=partition)
    # one job when there is nothing to attach (most runs); the dates are bounded by the history's length
    days = sorted(r[partition] for r in found.select(partition).distinct().collect())
    if not days:
        return False
    in_days = ", ".join(f"DATE'{d.isoformat()}'" for d in days)
    catalog.merge(
        found.select("id_type", "id_value", "customer_id").distinct(),
        name,
        [],
        on=f"t.{partition} IN ({in_days}) AND t.customer_id IS NULL AND {reassign_condition()}",
        update_set={"customer_id": "s.customer_id"},
        insert=False,
    )
    event("ingest.identity_attached", table=name, partitions=len(days))
    return True


def build_orders(catalog: Catalog, *, batch_ids: Sequence[str], map_before: int, max_lag: int) -> None:
    """Recompute the headers of orders touched by this run's batches, then follow identity merges in lines, events
    and headers (follow_identity_merges; after the headers, so a silver.orders this run creates records its map
    version too). A header recomputed from lines not moved yet is moved with them."""
    if catalog.exists("silver.order_lines"):
        lines = catalog.read("silver.order_lines")
        touched = lines.where(F.col("_batch_id").isin(list(batch_ids))).select("channel", "order_id").distinct()
        affected = lines.join(touched, on=["channel", "order_id"], how="left_semi")
        catalog.merge(order_headers(affected), "silver.orders", ["channel", "order_id"], partition_by=["order_date"])
    follow_identity_merges(catalog, map_before=map_before, max_lag=max_lag)


def build_customers(catalog: Catalog, *, batch_ids: Sequence[str] = ()) -> None:
    """silver.customers after a run. Once built, only the customers the run touched are recomputed and merged:
    identifiers new or re-linked since the identity_map version the table reflects (its MAP_VERSION property,
    set after each build: a run that died before setting it is redone from the older version), CRM rows and
    order lines of the run's batches; customer ids a merge retired are deleted. The first build is whole. Either
    way the table equals customers() over all of silver."""
    if not catalog.exists("silver.identity_map"):
        return
    map_now = catalog.version("silver.identity_map")
    id_map = catalog.read("silver.identity_map")
    members = catalog.read_or_empty("silver.members")
    lines = catalog.read_or_empty("silver.order_lines").where(F.col("customer_id").isNotNull())
    # a table written before the location columns is rebuilt whole, as on the first build (upgrade_location)
    current = catalog.exists("silver.customers") and _located(catalog, "silver.customers")
    since = catalog.properties("silver.customers").get(MAP_VERSION) if current else None
    if since is None:
        catalog.overwrite(customers(id_map, members, first_seen(lines)), "silver.customers")
    else:
        _merge_touched(catalog, id_map, members, lines, batch_ids=batch_ids, map_since=int(since))
    if since is None or int(since) != map_now:
        catalog.set_properties("silver.customers", {MAP_VERSION: str(map_now)})


def _located(catalog: Catalog, name: str) -> bool:
    return set(LOCATION_COLUMNS) <= set(catalog.read(name).columns)


def upgrade_location(catalog: Catalog, *, default_country: str) -> None:
    """A lake from before the coarse location columns (issue 16) gains them, once: silver.members from each member's
    address in the vault (restricted.pii, the normalised raw value; no address: nulls), in one MERGE commit, then
    silver.customers rebuilt whole from it. A run that dies in between rebuilds the customers next time."""
    if catalog.exists("silver.members") and not _located(catalog, "silver.members"):
        addresses = catalog.read_or_empty("restricted.pii").where(F.col("pii_type") == "address")
        located = with_location(
            addresses.select(F.col("token").alias("address_token"), "value"),
            column="value",
            default_country=default_country,
        ).drop("value")
        rows = catalog.read("silver.members").join(located, on="address_token", how="left")
        catalog.merge(rows, "silver.members", ["member_id"], schema_evolution=True)
        catalog.add_columns("silver.members", dict.fromkeys(LOCATION_COLUMNS, "string"))  # no row to evolve with
    if catalog.exists("silver.customers") and not _located(catalog, "silver.customers"):
        build_customers(catalog)


def _merge_touched(
    catalog: Catalog,
    id_map: DataFrame,
    members: DataFrame,
    lines: DataFrame,
    *,
    batch_ids: Sequence[str],
    map_since: int,
) -> None:
    touched = _touched_customers(catalog, id_map, batch_ids=batch_ids, map_since=map_since).localCheckpoint()
    if not touched.limit(1).count():
        return
    fresh = customers(
        id_map.join(touched, on="customer_id", how="left_semi"),
        members,
        first_seen(lines.join(F.broadcast(touched), on="customer_id", how="left_semi")),
    )
    retired = touched.join(fresh.select("customer_id"), on="customer_id", how="left_anti")
    rows = fresh.withColumn("_retired", F.lit(False)).unionByName(
        retired.withColumn("_retired", F.lit(True)), allowMissingColumns=True
    )
    catalog.merge(
        rows,
        "silver.customers",
        ["customer_id"],
        delete_when="s._retired",
        update_set={c: f"s.`{c}`" for c in CUSTOMER_COLUMNS},
        insert_values={c: f"s.`{c}`" for c in CUSTOMER_COLUMNS},
        insert_when="NOT s._retired",
    )


def first_seen(lines: DataFrame) -> DataFrame:
    """(customer_id, first_seen_ts): each customer's first order line."""
    return lines.groupBy("customer_id").agg(F.min("order_ts").alias("first_seen_ts"))


def _touched_customers(catalog: Catalog, id_map: DataFrame, *, batch_ids: Sequence[str], map_since: int) -> DataFrame:
    """customer_id of every customer whose silver.customers row may differ after this run: ids in the identity
    map's change feed since `map_since` (new identifiers, and both sides of a merge), customers of the run's CRM
    rows and of its order lines."""
    parts = []
    now = catalog.version("silver.identity_map")
    if now > map_since:
        feed = catalog.change_feed("silver.identity_map", map_since + 1, now)
        parts.append(feed.select("customer_id"))
    batches = list(batch_ids)
    if batches and catalog.exists("silver.members"):
        crm = catalog.read("silver.members").where(F.col("_batch_id").isin(batches)).select("member_id")
        member_ids = id_map.where(F.col("id_type") == "member").select(
            F.col("id_value").alias("member_id"), "customer_id"
        )
        parts.append(crm.join(member_ids, on="member_id", how="inner").select("customer_id"))
    if batches and catalog.exists("silver.order_lines"):
        parts.append(catalog.read("silver.order_lines").where(F.col("_batch_id").isin(batches)).select("customer_id"))
    if not parts:
        return catalog.spark.createDataFrame([], "customer_id string")
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.where(F.col("customer_id").isNotNull()).distinct()


def add_unknown_references(catalog: Catalog, *, batch_ids: Sequence[str]) -> None:
    """SKUs and stores seen in this run's sales/orders but missing from the catalog are added with unknown
    attributes (is_known = false), so no row is dropped by a later join."""
    used_skus, used_stores = [], []
    for name in ("silver.order_lines", "silver.daily_sales_imported"):
        if catalog.exists(name):
            rows = catalog.read(name).where(F.col("_batch_id").isin(list(batch_ids)))
            used_skus.append(rows.select("sku"))
            used_stores.append(rows.select("store_id"))
    if not used_skus:
        return
    skus, stores = used_skus[0], used_stores[0]
    for more_skus, more_stores in zip(used_skus[1:], used_stores[1:], strict=True):
        skus, stores = skus.unionByName(more_skus), stores.unionByName(more_stores)
    products = catalog.read_or_empty("silver.products")
    new_skus = unknown_products(skus, products)
    new_stores = unknown_stores(stores, catalog.read_or_empty("silver.stores"))
    # a later real catalog row (any version > -1) replaces the placeholder
    for rows, name, key in ((new_skus, "silver.products", "sku"), (new_stores, "silver.stores", "store_id")):
        rows = rows.localCheckpoint()
        if rows.limit(1).count():
            catalog.merge(rows, name, [key], update_condition="s._version > t._version")
