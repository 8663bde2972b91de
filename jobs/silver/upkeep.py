"""Derived silver upkeep after each ingest: order headers, customer_id moves, customers, unknown references.

The I/O half of jobs/silver/derived.py: read the silver tables, call its pure transforms, merge the results.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.io.tables import Catalog
from jobs.silver.derived import customers, order_headers, reassign_condition, unknown_products, unknown_stores


def _reassign(catalog: Catalog, changed: DataFrame, tables: Sequence[str]) -> None:
    """Customers merged by a new link: move their rows to the surviving customer_id."""
    source = changed.select("id_type", "id_value", "customer_id")
    for name in tables:
        if not catalog.exists(name):
            continue
        catalog.merge(
            source,
            name,
            [],
            on=reassign_condition(),
            update_condition="NOT (t.customer_id <=> s.customer_id)",
            update_set={"customer_id": "s.customer_id"},
            insert=False,
        )


def build_orders(catalog: Catalog, *, batch_ids: Sequence[str], changed: DataFrame | None) -> None:
    """Recompute the headers of orders touched by this run's batches, and follow identity merges."""
    if changed is not None and changed.limit(1).count():
        _reassign(catalog, changed, ["silver.order_lines", "silver.events", "silver.orders"])
    if not catalog.exists("silver.order_lines"):
        return
    lines = catalog.read("silver.order_lines")
    touched = lines.where(F.col("_batch_id").isin(list(batch_ids))).select("channel", "order_id").distinct()
    affected = lines.join(touched, on=["channel", "order_id"], how="left_semi")
    catalog.merge(order_headers(affected), "silver.orders", ["channel", "order_id"], partition_by=["order_date"])


def build_customers(catalog: Catalog) -> None:
    if not catalog.exists("silver.identity_map"):
        return
    members = catalog.read_or_empty("silver.members")
    lines = catalog.read_or_empty("silver.order_lines")
    first = (
        lines.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(F.min("order_ts").alias("first_seen_ts"))
    )
    catalog.overwrite(customers(catalog.read("silver.identity_map"), members, first), "silver.customers")


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
