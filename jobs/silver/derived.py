"""Silver tables derived from other silver tables: order headers, customers, and customer_id upkeep."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.io.tables import Catalog
from jobs.silver.identity import IMPORTED_PREFIX
from jobs.sources.specs import account_id_types

ORDER_COLUMNS = (
    "channel",
    "order_id",
    "customer_id",
    "account_id",
    "store_id",
    "order_ts",
    "order_date",
    "status",
    "lines",
    "units",
    "gross_amount",
    "discount",
    "net_amount",
    "campaign_code",
    "_version",
)
CUSTOMER_COLUMNS = (
    "customer_id",
    "member_id",
    "phone_token",
    "email_token",
    "tier",
    "consent_email",
    "consent_sms",
    "birth_year",
    "joined_ts",
    "channels",
    "first_seen_ts",
    "source",
)


def account_id_type(channel: Column) -> Column:
    """The identity_map id_type of a channel's account_id (imported channels: 'imported:<channel>')."""
    expr = F.when(channel.startswith(IMPORTED_PREFIX), channel)
    for ch, id_type in account_id_types().items():
        expr = expr.when(channel == ch, F.lit(id_type))
    return expr.otherwise(F.concat(F.lit(IMPORTED_PREFIX), channel))


def customer_id_for(rows: DataFrame, *, id_map: DataFrame) -> DataFrame:
    """Attach customer_id through (channel's id type, account_id); anonymous rows keep null."""
    ids = id_map.select(F.col("id_type").alias("_t"), F.col("id_value").alias("account_id"), "customer_id")
    keyed = rows.drop("customer_id").withColumn("_t", account_id_type(F.col("channel")))
    return keyed.join(ids, on=["_t", "account_id"], how="left").drop("_t")


def order_headers(lines: DataFrame) -> DataFrame:
    """One row per (channel, order_id) from its lines; status and customer from the latest version."""
    latest = F.struct(F.col("_version"), F.col("status"), F.col("customer_id"))
    agg = lines.groupBy("channel", "order_id").agg(
        F.max_by("account_id", "_version").alias("account_id"),
        F.max("store_id").alias("store_id"),
        F.min("order_ts").alias("order_ts"),
        F.min("order_date").alias("order_date"),
        F.max(latest).alias("_l"),
        F.count(F.lit(1)).alias("lines"),
        F.sum("quantity").cast("long").alias("units"),
        F.sum(F.col("quantity") * F.col("unit_price")).cast("decimal(14,2)").alias("gross_amount"),
        F.sum("discount").cast("decimal(14,2)").alias("discount"),
        F.sum("net_amount").cast("decimal(14,2)").alias("net_amount"),
        F.max("campaign_code").alias("campaign_code"),
        F.max("_version").alias("_version"),
    )
    return agg.select(
        *[F.col(f"_l.{c}").alias(c) if c in ("status", "customer_id") else F.col(c) for c in ORDER_COLUMNS]
    )


def _reassign(catalog: Catalog, changed: DataFrame, tables: Sequence[str]) -> None:
    """Customers merged by a new link: move their rows to the surviving customer_id."""
    from delta.tables import DeltaTable

    for name in tables:
        if not catalog.exists(name):
            continue
        target = DeltaTable.forPath(catalog.spark, catalog.path(name))
        cond = "t.account_id = s.id_value AND s.id_type = t._id_type"
        source = changed.select("id_type", "id_value", "customer_id")
        (
            target.alias("t")
            .merge(source.alias("s"), cond.replace("t._id_type", _id_type_sql("t.channel")))
            .whenMatchedUpdate(condition="NOT (t.customer_id <=> s.customer_id)", set={"customer_id": "s.customer_id"})
            .execute()
        )


def _id_type_sql(channel: str) -> str:
    cases = " ".join(f"WHEN {channel} = '{ch}' THEN '{t}'" for ch, t in account_id_types().items())
    return (
        f"(CASE {cases} WHEN {channel} LIKE '{IMPORTED_PREFIX}%' THEN {channel} "
        f"ELSE concat('{IMPORTED_PREFIX}', {channel}) END)"
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


def customers(id_map: DataFrame, members: DataFrame, first_orders: DataFrame) -> DataFrame:
    """One row per customer_id: its identifiers, channels, CRM attributes (when it is a member) and when it
    was first seen (its first order; `first_orders`: customer_id, first_seen_ts)."""
    ident = id_map.groupBy("customer_id").agg(
        F.min(F.when(F.col("id_type") == "member", F.col("id_value"))).alias("member_id"),
        F.min(F.when(F.col("id_type") == "phone", F.col("id_value"))).alias("phone_token"),
        F.min(F.when(F.col("id_type") == "email", F.col("id_value"))).alias("email_token"),
        F.array_sort(F.collect_set(F.when(~F.col("id_type").isin("phone", "email", "member"), F.col("id_type")))).alias(
            "channels"
        ),
        F.max(F.col("id_type").startswith(IMPORTED_PREFIX)).alias("_imported"),
        F.min(F.when(F.col("id_type").startswith(IMPORTED_PREFIX), F.col("id_type"))).alias("_imported_type"),
    )
    attrs = members.select("member_id", "tier", "consent_email", "consent_sms", "birth_year", "joined_ts")
    joined = ident.join(attrs, on="member_id", how="left").join(first_orders, on="customer_id", how="left")
    source = F.when(F.col("_imported"), F.col("_imported_type")).otherwise(F.lit("landing"))
    return joined.withColumn("source", source).select(*CUSTOMER_COLUMNS)


def build_customers(catalog: Catalog) -> None:
    if not catalog.exists("silver.identity_map"):
        return
    members = catalog.read_or_empty(
        "silver.members",
        "member_id string, tier string, consent_email boolean, consent_sms boolean, "
        "birth_year int, joined_ts timestamp",
    )
    lines = catalog.read_or_empty("silver.order_lines", "customer_id string, order_ts timestamp")
    first = (
        lines.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(F.min("order_ts").alias("first_seen_ts"))
    )
    catalog.overwrite(customers(catalog.read("silver.identity_map"), members, first), "silver.customers")


def _unknown(keys: DataFrame, known: DataFrame, key: str) -> DataFrame:
    return keys.where(F.col(key).isNotNull()).distinct().join(known.select(key), on=key, how="left_anti")


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
    products = catalog.read_or_empty("silver.products", "sku string")
    new_skus = _unknown(skus, products, "sku").select(
        "sku",
        F.lit(None).cast("string").alias("product_name"),
        F.lit("unknown").alias("category"),
        F.lit(None).cast("string").alias("brand"),
        F.lit(None).cast("decimal(12,2)").alias("list_price"),
        F.lit(None).cast("decimal(12,2)").alias("unit_cost"),
        F.lit(None).cast("date").alias("launched_date"),
        F.lit(False).alias("is_known"),
        F.lit(None).cast("timestamp").alias("updated_ts"),
        F.lit(-1).cast("long").alias("_version"),
        F.lit("unknown-reference").alias("_batch_id"),
    )
    known_stores = catalog.read_or_empty("silver.stores", "store_id string")
    new_stores = _unknown(stores, known_stores, "store_id").select(
        "store_id",
        *[F.lit(None).cast("string").alias(c) for c in ("store_name", "city", "region", "timezone")],
        F.lit(None).cast("date").alias("opened_date"),
        F.lit(False).alias("is_known"),
        F.lit(-1).cast("long").alias("_version"),
        F.lit("unknown-reference").alias("_batch_id"),
    )
    # a later real catalog row (any version > -1) replaces the placeholder
    for rows, name, key in ((new_skus, "silver.products", "sku"), (new_stores, "silver.stores", "store_id")):
        rows = rows.localCheckpoint()
        if rows.limit(1).count():
            catalog.merge(rows, name, [key], update_condition="s._version > t._version")
