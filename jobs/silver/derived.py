"""Silver tables derived from other silver tables: order headers, customers, identity and reference upkeep.

Pure transforms; jobs/silver/upkeep.py reads and writes the tables.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.silver.identity import IMPORTED_PREFIX
from jobs.silver.location import LOCATION_COLUMNS
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
    *LOCATION_COLUMNS,
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


def _id_type_sql(channel: str) -> str:
    cases = " ".join(f"WHEN {channel} = '{ch}' THEN '{t}'" for ch, t in account_id_types().items())
    return (
        f"(CASE {cases} WHEN {channel} LIKE '{IMPORTED_PREFIX}%' THEN {channel} "
        f"ELSE concat('{IMPORTED_PREFIX}', {channel}) END)"
    )


def customers(id_map: DataFrame, members: DataFrame, first_orders: DataFrame) -> DataFrame:
    """One row per customer_id: its identifiers, channels, CRM attributes (when it is a member: tier, consents, birth
    year, coarse location) and when it was first seen (its first order; `first_orders`: customer_id, first_seen_ts)."""
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
    attrs = members.select(
        "member_id", "tier", "consent_email", "consent_sms", "birth_year", "joined_ts", *LOCATION_COLUMNS
    )
    joined = ident.join(attrs, on="member_id", how="left").join(first_orders, on="customer_id", how="left")
    source = F.when(F.col("_imported"), F.col("_imported_type")).otherwise(F.lit("landing"))
    return joined.withColumn("source", source).select(*CUSTOMER_COLUMNS)


def _unknown(keys: DataFrame, known: DataFrame, key: str) -> DataFrame:
    return keys.where(F.col(key).isNotNull()).distinct().join(known.select(key), on=key, how="left_anti")


def reassign_condition(target: str = "t", source: str = "s") -> str:
    """MERGE condition matching a table's rows (channel, account_id) to changed identity_map rows (id_type,
    id_value): the SQL twin of account_id_type."""
    return f"{target}.account_id = {source}.id_value AND {source}.id_type = {_id_type_sql(f'{target}.channel')}"


def unknown_products(skus: DataFrame, products: DataFrame) -> DataFrame:
    """Placeholder silver.products rows (is_known = false, _version -1) for SKUs (column sku) not in `products`."""
    return _unknown(skus, products, "sku").select(
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


def unknown_stores(stores: DataFrame, known: DataFrame) -> DataFrame:
    """Placeholder silver.stores rows (is_known = false, _version -1) for store ids not in `known`."""
    return _unknown(stores, known, "store_id").select(
        "store_id",
        *[F.lit(None).cast("string").alias(c) for c in ("store_name", "city", "region", "timezone")],
        F.lit(None).cast("date").alias("opened_date"),
        F.lit(False).alias("is_known"),
        F.lit(-1).cast("long").alias("_version"),
        F.lit("unknown-reference").alias("_batch_id"),
    )
