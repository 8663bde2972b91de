"""Conform contract-typed source rows to the silver table schemas (docs/tables.md). Pure functions, one per source
(or family of sources), named by the sources' specs (jobs/sources/specs.py) with the arguments they get."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.silver.location import LOCATION_COLUMNS

ORDER_LINE_COLUMNS = (
    "channel",
    "order_id",
    "line_no",
    "account_id",
    "store_id",
    "order_ts",
    "order_date",
    "status",
    "sku",
    "quantity",
    "unit_price",
    "discount",
    "net_amount",
    "campaign_code",
    "device_id",
    "phone_token",
    "email_token",
    "_version",
    "_batch_id",
)
EVENT_COLUMNS = (
    "channel",
    "event_id",
    "event_ts",
    "event_date",
    "session_id",
    "account_id",
    "event_type",
    "sku",
    "campaign_code",
    "device_id",
    "platform",
    "_version",
    "_batch_id",
)
TRACK = ("_batch_id", "_batch_no", "_row_id")  # lineage columns carried until the write (only _batch_id is kept)


def _micros(ts: Column) -> Column:
    return F.unix_micros(ts)


def _local_date(ts: Column, tz: str | Column) -> Column:
    return F.to_date(F.from_utc_timestamp(ts, tz if isinstance(tz, Column) else F.lit(tz)))


def _lines(
    df: DataFrame,
    *,
    channel: str,
    tz: str | Column,
    account: str,
    order_id: str,
    qty: str,
    price: str,
    version: Column,
    extra: dict[str, Column],
    order_ts: Column | None = None,
) -> DataFrame:
    ts = order_ts if order_ts is not None else F.col("order_ts")
    discount = (
        F.coalesce(F.col("discount"), F.lit(0)).cast("decimal(12,2)")
        if "discount" in df.columns
        else F.lit(0).cast("decimal(12,2)")
    )
    cols: dict[str, Column] = {
        "channel": F.lit(channel),
        "order_id": F.col(order_id),
        "line_no": F.col("line_no"),
        "account_id": F.col(account),
        "store_id": F.lit(None).cast("string"),
        "order_ts": ts,
        "order_date": _local_date(ts, tz),
        "status": F.col("status") if "status" in df.columns else F.lit("paid"),
        "sku": F.col("sku"),
        "quantity": F.col(qty),
        "unit_price": F.col(price).cast("decimal(12,2)"),
        "discount": discount,
        "net_amount": (F.col(qty) * F.col(price) - discount).cast("decimal(12,2)"),
        "campaign_code": F.col("campaign_code") if "campaign_code" in df.columns else F.lit(None).cast("string"),
        "device_id": F.lit(None).cast("string"),
        "phone_token": F.col("phone_token") if "phone_token" in df.columns else F.lit(None).cast("string"),
        "email_token": F.col("email_token") if "email_token" in df.columns else F.lit(None).cast("string"),
        "_version": version,
        "_batch_id": F.col("_batch_id"),
    }
    cols.update(extra)
    return df.select(*[cols[c].alias(c) for c in ORDER_LINE_COLUMNS], "_batch_no", "_row_id")


def web_orders(df: DataFrame, *, tz: str) -> DataFrame:
    return _lines(
        df,
        channel="web",
        tz=tz,
        account="account_id",
        order_id="order_id",
        qty="quantity",
        price="unit_price",
        version=_micros(F.col("updated_at")),
        extra={},
    )


def app_orders(df: DataFrame, *, tz: str) -> DataFrame:
    return _lines(
        df,
        channel="app",
        tz=tz,
        account="user_id",
        order_id="order_id",
        qty="qty",
        price="price",
        version=F.col("version"),
        extra={},
    )


def marketplace_orders(df: DataFrame, *, tz: str) -> DataFrame:
    df = df.withColumnRenamed("buyer_phone_token", "phone_token")
    return _lines(
        df,
        channel="marketplace",
        tz=tz,
        account="buyer_id",
        order_id="order_id",
        qty="quantity",
        price="unit_price",
        version=_micros(F.col("updated_at")),
        extra={},
        order_ts=F.col("order_time"),
    )


def pos_transactions(df: DataFrame, *, stores: DataFrame, tz: str) -> DataFrame:
    """POS times are store-local wall times: convert with the store's zone (the channel's when unknown)."""
    zones = stores.select("store_id", F.col("timezone").alias("_tz"))
    joined = df.join(zones, on="store_id", how="left")
    store_tz = F.coalesce(F.col("_tz"), F.lit(tz))
    utc = F.to_utc_timestamp(F.col("txn_ts"), store_tz)
    return _lines(
        joined,
        channel="pos",
        tz=store_tz,
        account="member_id",
        order_id="txn_id",
        qty="quantity",
        price="unit_price",
        version=F.lit(0).cast("long"),
        order_ts=utc,
        extra={"store_id": F.col("store_id")},
    )


def events(df: DataFrame, *, channel: str, tz: str) -> DataFrame:
    account = "account_id" if "account_id" in df.columns else "user_id"
    cols: dict[str, Column] = {
        "channel": F.lit(channel),
        "event_id": F.col("event_id"),
        "event_ts": F.col("event_ts"),
        "event_date": _local_date(F.col("event_ts"), tz),
        "session_id": F.col("session_id"),
        "account_id": F.col(account),
        "event_type": F.col("event_type"),
        "sku": F.col("sku"),
        "campaign_code": F.col("campaign_code"),
        "device_id": F.col("device_id"),
        "platform": F.col("platform") if "platform" in df.columns else F.lit(channel),
        "_version": F.lit(0).cast("long"),
        "_batch_id": F.col("_batch_id"),
    }
    return df.select(*[cols[c].alias(c) for c in EVENT_COLUMNS], "_batch_no", "_row_id")


def members(df: DataFrame) -> DataFrame:
    """CRM members, tokenized; the birth date (PII) is kept only as its year and the address as its city, state and
    country, taken before tokenizing."""
    return df.select(
        "member_id",
        "phone_token",
        "email_token",
        "full_name_token",
        "address_token",
        "tier",
        "consent_email",
        "consent_sms",
        F.col("_birth_year").alias("birth_year"),
        F.col("joined_at").alias("joined_ts"),
        *[F.col(f"_{c}").alias(c) for c in LOCATION_COLUMNS],
        _micros(F.col("updated_at")).alias("_version"),
        *TRACK,
    )


def stores(df: DataFrame) -> DataFrame:
    return df.select(
        "store_id",
        "store_name",
        "city",
        "region",
        "timezone",
        F.col("opened_at").alias("opened_date"),
        F.lit(True).alias("is_known"),
        _micros(F.col("updated_at")).alias("_version"),
        *TRACK,
    )


def products(df: DataFrame) -> DataFrame:
    return df.select(
        "sku",
        "product_name",
        "category",
        "brand",
        "list_price",
        "unit_cost",
        F.col("launched_at").alias("launched_date"),
        F.lit(True).alias("is_known"),
        F.col("updated_at").alias("updated_ts"),
        _micros(F.col("updated_at")).alias("_version"),
        *TRACK,
    )


def inventory(df: DataFrame) -> DataFrame:
    return df.select(
        "snapshot_date",
        "store_id",
        "sku",
        "on_hand",
        F.coalesce(F.col("on_order"), F.lit(0)).alias("on_order"),
        F.lit(0).cast("long").alias("_version"),
        *TRACK,
    )


def marketing_spend(df: DataFrame) -> DataFrame:
    return df.select(
        F.col("date").alias("spend_date"),
        "channel",
        "campaign_id",
        "spend",
        F.coalesce(F.col("impressions"), F.lit(0)).alias("impressions"),
        F.coalesce(F.col("clicks"), F.lit(0)).alias("clicks"),
        _micros(F.col("updated_at")).alias("_version"),
        *TRACK,
    )


def returns(df: DataFrame, *, tz: str) -> DataFrame:
    return df.select(
        "return_id",
        "channel",
        "order_id",
        "line_no",
        "sku",
        "quantity",
        "refund_amount",
        "reason",
        "return_ts",
        _local_date(F.col("return_ts"), tz).alias("return_date"),
        _micros(F.col("updated_at")).alias("_version"),
        *TRACK,
    )


def imported_orders(df: DataFrame, *, tz: str) -> DataFrame:
    """User orders: ids kept; a file without order ids makes each row an order (id from its content);
    a later import of the same order replaces it (version = batch number)."""
    content = F.concat_ws(
        "|", "channel", "customer_id", F.col("order_ts").cast("string"), "sku", F.col("amount").cast("string")
    )
    order_id = F.coalesce(F.col("order_id"), F.concat(F.lit("IMP-"), F.substring(F.sha2(content, 256), 1, 16)))
    qty = F.coalesce(F.col("quantity"), F.lit(1))
    rows = (
        df.withColumn("order_id", order_id)
        .withColumn("_qty", qty)
        .withColumn(
            "line_no",
            F.row_number().over(Window.partitionBy("channel", "order_id").orderBy("sku", "amount", "_row_id")),
        )
    )
    rows = rows.withColumn("_price", (F.col("amount") / F.col("_qty")).cast("decimal(12,2)"))
    lines = _lines(
        rows,
        channel="",
        tz=tz,
        account="customer_id",
        order_id="order_id",
        qty="_qty",
        price="_price",
        version=F.col("_batch_no").cast("long"),
        order_ts=F.col("order_ts"),
        extra={
            "channel": F.col("channel"),
            "store_id": F.col("store_id"),
            "net_amount": F.col("amount").cast("decimal(12,2)"),
        },
    )
    return lines


def imported_interactions(df: DataFrame) -> DataFrame:
    return df.select(
        "customer_id",
        "item_id",
        F.col("ts").alias("interaction_ts"),
        F.coalesce(F.col("weight"), F.lit(1.0)).alias("weight"),
        F.col("_source_file").alias("source_file"),
        F.col("_batch_no").cast("long").alias("_version"),
        *TRACK,
    )


def imported_sales(df: DataFrame) -> DataFrame:
    return df.select(
        "store_id",
        "sku",
        F.col("date").alias("sales_date"),
        "units",
        "price",
        F.coalesce(F.col("promo"), F.lit(False)).alias("promo"),
        F.col("_batch_no").cast("long").alias("_version"),
        *TRACK,
    )
