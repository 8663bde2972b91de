"""The silver (and ops/serving) inputs of gold and features: their schemas, as in docs/tables.md, and one reader.

A missing optional table (no returns yet, no imports, no forecast) reads as an empty frame of its schema, so
the transforms see the same columns on a first run as on later ones; a column the producer does not write yet
reads as null, with a warning naming it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from jobs.common.log import event

if TYPE_CHECKING:
    from datetime import date

    from pyspark.sql import DataFrame

    from jobs.io.tables import Catalog

MONEY = "decimal(12,2)"
SCHEMAS: dict[str, str] = {
    "silver.order_lines": (
        "channel string, order_id string, line_no int, customer_id string, account_id string, store_id string, "
        f"order_ts timestamp, order_date date, status string, sku string, quantity int, unit_price {MONEY}, "
        f"discount {MONEY}, net_amount {MONEY}, campaign_code string, device_id string, phone_token string, "
        "email_token string, _version long, _batch_id string"
    ),
    "silver.events": (
        "channel string, event_id string, event_ts timestamp, event_date date, session_id string, "
        "account_id string, customer_id string, event_type string, sku string, campaign_code string, "
        "device_id string, platform string"
    ),
    "silver.inventory": "snapshot_date date, store_id string, sku string, on_hand int, on_order int",
    "silver.marketing_spend": (
        f"spend_date date, channel string, campaign_id string, spend {MONEY}, impressions long, clicks long"
    ),
    "silver.returns": (
        f"return_id string, channel string, order_id string, line_no int, sku string, quantity int, "
        f"refund_amount {MONEY}, reason string, return_ts timestamp, return_date date"
    ),
    "silver.products": (
        f"sku string, product_name string, category string, brand string, list_price {MONEY}, unit_cost {MONEY}, "
        "launched_date date, is_known boolean, updated_ts timestamp"
    ),
    "silver.customers": (
        "customer_id string, member_id string, phone_token string, email_token string, tier string, "
        "consent_email boolean, consent_sms boolean, birth_year int, joined_ts timestamp, "
        "channels array<string>, first_seen_ts timestamp, source string"
    ),
    "silver.daily_sales_imported": f"store_id string, sku string, sales_date date, units double, price {MONEY}, "
    "promo boolean",
    "ops.batch_audit": (
        "source string, batch_id string, bronze_rows long, loaded long, superseded long, duplicate long, "
        "quarantined long, processed_at timestamp, delivery_date date"
    ),
    "gold.demand_forecast": "store_id string, sku string, date date, mean double, p10 double, p50 double, "
    "p90 double, as_of date",
}

# Business date of each row, per input table: what incremental runs use to find the fact partitions a change
# touches (jobs/io/changes.py). Tables keyed by something else (products) are handled there.
DATE_COLUMNS: dict[str, str] = {
    "silver.order_lines": "order_date",
    "silver.events": "event_date",
    "silver.inventory": "snapshot_date",
    "silver.marketing_spend": "spend_date",
    "silver.returns": "return_date",
    "silver.daily_sales_imported": "sales_date",
    "ops.batch_audit": "delivery_date",
}


def read_inputs(catalog: Catalog, names: tuple[str, ...]) -> dict[str, DataFrame]:
    """Each input projected on its contract columns; absent tables as empty frames of the same schema."""
    frames = {}
    for name in names:
        schema = SCHEMAS[name]
        df = catalog.read_or_empty(name, schema)
        fields = catalog.spark.createDataFrame([], schema).schema.fields
        missing = [f.name for f in fields if f.name not in df.columns]
        if missing:  # the producer lags the contract: build with nulls, but say so
            event("gold.input_columns_missing", level=logging.WARNING, table=name, columns=",".join(missing))
        frames[name] = df.select(
            *[(F.col(f.name) if f.name in df.columns else F.lit(None)).cast(f.dataType).alias(f.name) for f in fields]
        )
    return frames


def default_as_of(order_lines: DataFrame) -> date:
    """The last business date present in silver.order_lines (from the data, never the wall clock)."""
    latest = order_lines.agg(F.max("order_date").alias("d")).first()
    if latest is None or latest["d"] is None:
        raise ValueError("silver.order_lines has no rows: nothing to build (run `omnilake ingest` first)")
    return latest["d"]
