"""Every table's schema that code relies on, as its writer writes it (names, types and column order).

One registry, used by readers (an absent table reads as an empty frame of its schema), by the rows jobs build
for their own bookkeeping tables, by tests, and (as pyarrow) by the delta-rs writers. Pure: no Spark import.
Types are Spark DDL; `timestamp` is UTC (the session time zone), stored by Delta as microseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

MONEY = "decimal(12,2)"
TOTAL = "decimal(14,2)"  # order header sums
SUM18 = "decimal(18,2)"  # gold sums of money
GRID_STATE = "date date, store_id string, sku string, on_hand long, on_order long, price double"
LOCATION = "city string, state string, country string"  # a CRM address's coarse location (jobs/silver/location.py)
TRACKED = "_version long, _batch_id string"  # silver upserts: the source's version and the batch that wrote it

SCHEMAS: dict[str, str] = {
    # -- silver (jobs/silver) ---------------------------------------------------------------------------
    "silver.order_lines": (
        "account_id string, channel string, order_id string, line_no int, store_id string, order_ts timestamp, "
        f"order_date date, status string, sku string, quantity int, unit_price {MONEY}, discount {MONEY}, "
        f"net_amount {MONEY}, campaign_code string, device_id string, phone_token string, email_token string, "
        f"{TRACKED}, customer_id string"
    ),
    "silver.orders": (
        "channel string, order_id string, customer_id string, account_id string, store_id string, "
        "order_ts timestamp, order_date date, status string, lines long, units long, "
        f"gross_amount {TOTAL}, discount {TOTAL}, net_amount {TOTAL}, campaign_code string, _version long"
    ),
    "silver.events": (
        "account_id string, channel string, event_id string, event_ts timestamp, event_date date, "
        "session_id string, event_type string, sku string, campaign_code string, device_id string, "
        f"platform string, {TRACKED}, customer_id string"
    ),
    "silver.inventory": f"snapshot_date date, store_id string, sku string, on_hand int, on_order int, {TRACKED}",
    "silver.marketing_spend": (
        f"spend_date date, channel string, campaign_id string, spend {MONEY}, impressions long, clicks long, {TRACKED}"
    ),
    "silver.returns": (
        f"return_id string, channel string, order_id string, line_no int, sku string, quantity int, "
        f"refund_amount {MONEY}, reason string, return_ts timestamp, return_date date, {TRACKED}"
    ),
    "silver.products": (
        f"sku string, product_name string, category string, brand string, list_price {MONEY}, unit_cost {MONEY}, "
        f"launched_date date, is_known boolean, updated_ts timestamp, {TRACKED}"
    ),
    "silver.stores": (
        "store_id string, store_name string, city string, region string, timezone string, opened_date date, "
        f"is_known boolean, {TRACKED}"
    ),
    "silver.members": (
        "member_id string, phone_token string, email_token string, full_name_token string, address_token string, "
        "tier string, consent_email boolean, consent_sms boolean, birth_year int, joined_ts timestamp, "
        f"{LOCATION}, {TRACKED}"
    ),
    "silver.customers": (
        "customer_id string, member_id string, phone_token string, email_token string, tier string, "
        "consent_email boolean, consent_sms boolean, birth_year int, joined_ts timestamp, "
        f"channels array<string>, first_seen_ts timestamp, source string, {LOCATION}"
    ),
    "silver.identity_edges": "src_type string, src_value string, dst_type string, dst_value string",
    "silver.identity_map": "id_type string, id_value string, customer_id string",
    "silver.daily_sales_imported": (
        f"store_id string, sku string, sales_date date, units double, price {MONEY}, promo boolean, {TRACKED}"
    ),
    "silver.interactions_imported": (
        f"customer_id string, item_id string, interaction_ts timestamp, weight double, source_file string, {TRACKED}"
    ),
    "silver.quarantine": (
        "source string, batch_id string, source_file string, row_id long, reason_code string, column string, "
        "detail string, record string, quarantined_at timestamp, line_no long"
    ),
    "restricted.pii": "token string, pii_type string, value string",
    # -- ops: the pipeline's own bookkeeping --------------------------------------------------------------
    "ops.file_registry": (
        "source string, file string, sha256 string, bytes long, batch_id string, batch_no int, status string, "
        "reason string"
    ),
    "ops.batch_audit": (
        "source string, batch_id string, bronze_rows long, loaded long, superseded long, duplicate long, "
        "quarantined long, delivery_date date, processed_at timestamp, forgotten long, expired long"
    ),
    # one row per erasure request (`omnilake privacy forget`, jobs/orchestration/privacy.py): no PII, hashes only
    "ops.privacy_requests": (
        "request_id string, subject_hash string, customers long, tables_touched array<string>, "
        "rows_removed map<string,long>, exports_changed array<string>, artifacts_scrubbed array<string>, "
        "models_to_retrain array<string>, retired_ids array<string>, requested_at timestamp, vacuumed_at timestamp, "
        "batch_id string, batch_size int"
    ),
    "ops.schema_changes": "source string, column string, batch_id string, action string",
    # one row per table and `omnilake maintain` run (jobs/orchestration/maintain.py)
    "ops.maintenance_log": (
        "run_id string, table string, started_at timestamp, finished_at timestamp, status string, error string, "
        "bronze_rows_removed long, zorder_by string, partitions_optimized long, files_added long, "
        "files_removed long, files_before long, files_after long, data_bytes_before long, data_bytes_after long, "
        "disk_files_before long, disk_files_after long, disk_bytes_before long, disk_bytes_after long, "
        "version_before long, version_after long, log_files_deleted long"
    ),
    "ops.gold_watermarks": "consumer string, source string, version long, facts_until date",
    # one row per `omnilake export --allow-restricted` (jobs/orchestration/restricted_exports.py): who, why, where
    "ops.restricted_exports": (
        "exported_at timestamp, table string, as_of date, rows long, out string, exported_by string, reason string"
    ),
    "ops.task_failures": (
        "failed_at timestamp, dag_id string, task_id string, run_id string, map_index long, try_number long, "
        "data_interval_start timestamp, data_interval_end timestamp, params string, error_type string, "
        "error string"
    ),
    # -- the grid state gold and features each keep (jobs/gold/demand.py grid_state): the seed of a windowed grid
    "gold.grid_state": GRID_STATE,
    "features.grid_state": GRID_STATE,
    # -- gold analytics of issue 16 (jobs/gold/returns.py, performance.py; docs/tables.md) -----------------
    "gold.returns_analysis": (
        "week_start date, channel string, category string, brand string, reason string, returns long, "
        f"returned_units long, refund_amount {SUM18}, units_sold long, revenue {SUM18}, return_rate double, "
        "value_rate double"
    ),
    "gold.returns_by_sku": (
        "as_of date, sku string, category string, brand string, units_sold long, returned_units long, "
        "return_rate double, category_return_rate double, ratio double, flagged boolean, top_reasons array<string>"
    ),
    "gold.brand_performance": (
        "week_start date, brand string, channel string, days int, units long, orders long, "
        f"revenue {SUM18}, channel_revenue {SUM18}, share_of_channel double, prev_revenue {SUM18}, "
        "revenue_growth double"
    ),
    "gold.gmv_decomposition": (
        "channel string, period_type string, period_start date, days int, visitors long, orders long, "
        f"gmv {SUM18}, conversion double, aov double, prev_visitors long, prev_orders long, prev_gmv {SUM18}, "
        f"gmv_change {SUM18}, visitors_effect {SUM18}, conversion_effect {SUM18}, orders_effect {SUM18}, "
        f"aov_effect {SUM18}"
    ),
    # -- repurchase and retention by week and month (jobs/gold/cohorts.py, repurchase.py; docs/tables.md) ----
    "gold.cohort_retention_weekly": (
        "as_of date, cohort_week date, customers long, repurchase_eligible long, repurchased long, "
        "repurchase_rate double, week_n int, active_customers long, retention_rate double"
    ),
    "gold.repurchase": (
        "as_of date, grain string, cohort_start date, first_channel string, window_days int, customers long, "
        "eligible long, repurchased long, repurchase_rate double, window_complete boolean"
    ),
    # -- stock moves (jobs/gold/replenishment.py; docs/tables.md) --------------------------------------------
    "gold.replenishment": (
        "as_of date, store_id string, sku string, on_hand long, on_order long, lead_time_days int, review_days int, "
        "demand_source string, demand_mean double, demand_quantile double, reorder_point double, order_up_to long, "
        "transfer_in long, transfer_out long, purchase_qty long, reason string"
    ),
    "gold.stock_transfers": "as_of date, sku string, from_store string, to_store string, units long",
    "gold.sku_trends": (
        "as_of date, sku string, category string, brand string, recent_units long, baseline_units long, "
        f"expected_units double, recent_revenue {SUM18}, baseline_revenue {SUM18}, recent_lines long, "
        "baseline_lines long, expected_lines double, ratio double, z double, trend string"
    ),
    # -- what sells together (jobs/gold/baskets.py; docs/tables.md) ----------------------------------------------
    "gold.basket_rules": (
        "as_of date, rank int, antecedent array<string>, consequent string, consequent_category string, "
        "consequent_brand string, orders long, antecedent_orders long, consequent_orders long, window_orders long, "
        "support double, confidence double, lift double"
    ),
    # -- price response and markdowns (jobs/gold/pricing.py; docs/tables.md) --------------------------------------
    "gold.price_response": (
        "as_of date, category string, price_changes long, elasticity double, elasticity_se double, status string, "
        "promo_sku_days long, promo_discount double, promo_lift double"
    ),
    "gold.markdowns": (
        "as_of date, rank int, sku string, category string, stores long, on_hand long, demand_mean double, "
        "days_of_cover double, excess_value double, elasticity double, elasticity_source string, markdown double, "
        "expected_days_to_clear double, clears boolean"
    ),
    # -- customer geography and profile (jobs/gold/geography.py; docs/tables.md) ------------------------------
    "gold.customer_geography": (
        "as_of date, country string, state string, city string, age_band string, tier string, customers long, "
        f"buyers long, orders long, gmv {SUM18}, aov double"
    ),
    # -- who to act on (jobs/gold/audiences.py; docs/tables.md): customer ids only, contacts by restricted export
    "gold.marketing_audiences": (
        "as_of date, customer_id string, audience string, detail string, score double, reason string, "
        "action string, contact_hour int, contact_weekday string"
    ),
    # -- serving tables other jobs read -------------------------------------------------------------------
    "gold.churn_scores": (
        "customer_id string, as_of date, horizon_days int, churn_probability double, risk_band string, "
        "top_reasons array<string>, model_name string, model_version string, run_id string"
    ),
    "gold.customer_ltv": (
        "customer_id string, as_of date, horizon_days int, expected_purchases double, p_alive double, "
        "expected_revenue double, model_name string, model_version string, run_id string"
    ),
    "gold.demand_forecast": (
        "store_id string, sku string, date date, mean double, p10 double, p50 double, p90 double, as_of date, "
        "model_name string, model_version string, run_id string"
    ),
    # -- `omnilake evaluate` (ml/training/evaluate.py): model x origin x role x level x metric ---------------
    "gold.model_evaluations": (
        "model string, registered_model string, as_of date, horizon_days int, origin date, role string, kind string, "
        "level string, metric string, value double, run_id string"
    ),
    "gold.model_monitoring": (
        "as_of date, model string, registered_model string, horizon_days int, model_version string, check string, "
        "subject string, status string, value double, reference double, threshold double, detail string, "
        "reference_as_of date, run_id string"
    ),
}


def columns(name: str) -> list[tuple[str, str]]:
    """(column, type) pairs of `name` (KeyError for a table without a registered schema)."""
    out, depth, start, text = [], 0, 0, SCHEMAS[name]
    for i, char in enumerate(text + ","):
        depth += char in "(<"
        depth -= char in ")>"
        if char == "," and depth == 0:  # commas inside decimal(12,2) or struct<...> are not column breaks
            column, kind = text[start:i].strip().split(" ", 1)
            out.append((column, kind.strip()))
            start = i + 1
    return out


def ddl(name: str, only: tuple[str, ...] | list[str] | None = None) -> str:
    """The DDL of `name`, or of its `only` columns in that order (KeyError names a column it does not have)."""
    types = dict(columns(name))
    missing = [c for c in only or () if c not in types]
    if missing:
        raise KeyError(f"{name} has no column(s) {missing}")
    return ", ".join(f"{c} {types[c]}" for c in (only or types))


_ARROW_SCALARS = {
    "string": "string",
    "int": "int32",
    "long": "int64",
    "double": "float64",
    "boolean": "bool_",
    "date": "date32",
}


def arrow_schema(name: str) -> pa.Schema:
    """`name`'s schema for delta-rs writers (timestamps as UTC microseconds, as Spark writes them)."""
    import pyarrow as pa

    return pa.schema([pa.field(column, _arrow_type(kind, f"{name}.{column}")) for column, kind in columns(name)])


def _arrow_type(kind: str, where: str) -> pa.DataType:
    import pyarrow as pa

    if kind == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if kind in _ARROW_SCALARS:
        return getattr(pa, _ARROW_SCALARS[kind])()
    if kind.startswith("decimal(") and kind.endswith(")"):
        precision, scale = kind[len("decimal(") : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    if kind.startswith("array<") and kind.endswith(">"):
        return pa.list_(_arrow_type(kind[len("array<") : -1], where))
    if kind.startswith("map<") and kind.endswith(">"):
        key, value = kind[len("map<") : -1].split(",", 1)  # scalar keys: the first comma splits
        return pa.map_(_arrow_type(key.strip(), where), _arrow_type(value.strip(), where))
    raise TypeError(f"{where}: no pyarrow mapping for {kind}")
