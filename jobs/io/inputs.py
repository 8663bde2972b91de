"""The silver (and ops/serving) inputs of gold and features: the columns they read, and one reader.

A missing optional table (no returns yet, no imports, no forecast) reads as an empty frame of its schema, so
the transforms see the same columns on a first run as on later ones; a column the producer does not write yet
reads as null, with a warning naming it.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from jobs.common.log import event
from jobs.io.schemas import columns, ddl

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyspark.sql import DataFrame

    from jobs.io.tables import Catalog

# The columns gold and features read from each input, in the order the contract documents them (docs/tables.md);
# their types are the tables' own, from jobs.io.schemas.
_INPUTS: dict[str, str] = {
    "silver.order_lines": (
        "channel order_id line_no customer_id account_id store_id order_ts order_date status sku quantity "
        "unit_price discount net_amount campaign_code device_id phone_token email_token _version _batch_id"
    ),
    "silver.events": (
        "channel event_id event_ts event_date session_id account_id customer_id event_type sku campaign_code "
        "device_id platform"
    ),
    "silver.inventory": "snapshot_date store_id sku on_hand on_order",
    "silver.marketing_spend": "spend_date channel campaign_id spend impressions clicks",
    "silver.returns": "return_id channel order_id line_no sku quantity refund_amount reason return_ts return_date",
    "silver.products": "sku product_name category brand list_price unit_cost launched_date is_known updated_ts",
    "silver.customers": " ".join(c for c, _ in columns("silver.customers")),
    "silver.stores": "store_id store_name city region timezone opened_date is_known",
    "silver.daily_sales_imported": "store_id sku sales_date units price promo",
    "ops.batch_audit": (
        "source batch_id bronze_rows loaded superseded duplicate quarantined processed_at delivery_date"
    ),
    "gold.demand_forecast": "store_id sku date mean p10 p50 p90 as_of",
    "gold.churn_scores": "customer_id as_of horizon_days churn_probability risk_band",
    "gold.customer_ltv": "customer_id as_of horizon_days expected_revenue",
}
INPUT_COLUMNS: dict[str, tuple[str, ...]] = {name: tuple(names.split()) for name, names in _INPUTS.items()}


def input_schema(name: str) -> str:
    """DDL of the input contract of `name`: its INPUT_COLUMNS with the table's own types."""
    return ddl(name, INPUT_COLUMNS[name])


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
        df = catalog.read_or_empty(name)
        fields = catalog.spark.createDataFrame([], input_schema(name)).schema.fields
        missing = [f.name for f in fields if f.name not in df.columns]
        if missing:  # the producer lags the contract: build with nulls, but say so
            event("gold.input_columns_missing", level=logging.WARNING, table=name, columns=",".join(missing))
        frames[name] = df.select(
            *[(F.col(f.name) if f.name in df.columns else F.lit(None)).cast(f.dataType).alias(f.name) for f in fields]
        )
    return frames


def dated_from(frames: Mapping[str, DataFrame], starts: Mapping[str, date | None]) -> dict[str, DataFrame]:
    """Each frame restricted to its rows dated (DATE_COLUMNS) on or after its start, so Delta skips the older
    partitions; a frame without a start, or with None (all history), as it is."""
    out = dict(frames)
    for name, start in starts.items():
        if name in frames and start is not None:
            out[name] = frames[name].where(F.col(DATE_COLUMNS[name]) >= F.lit(start))
    return out


def grid_seed(catalog: Catalog, state: str, start: date | None) -> DataFrame | None:
    """The seed of a grid built from `start` on: the `state` table's rows (store_id, sku, on_hand, on_order,
    price) on start - 1, one date partition; None for a grid over all history (`start` None)."""
    if start is None:
        return None
    day = start - timedelta(days=1)
    return catalog.read_or_empty(state).where(F.col("date") == F.lit(day)).drop("date")


def default_as_of(order_lines: DataFrame) -> date:
    """The last business date present in silver.order_lines (from the data, never the wall clock)."""
    latest = order_lines.agg(F.max("order_date").alias("d")).first()
    if latest is None or latest["d"] is None:
        raise ValueError("silver.order_lines has no rows: nothing to build (run `omnilake ingest` first)")
    return latest["d"]


def first_order_date(order_lines: DataFrame) -> date | None:
    """The first business date of `order_lines` (None: no rows)."""
    return order_lines.agg(F.min("order_date").alias("d")).first()["d"]
