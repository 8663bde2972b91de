"""The tables each Spark step updates (docs/tables.md, DESIGN.md), declared as Airflow Assets by the DAGs."""

from __future__ import annotations

from jobs.io.paths import table_path
from jobs.sources.specs import LANDING_SOURCES

# `omnilake ingest`: bronze (append-only, restricted), the PII vault, silver and the ingest's own ops tables
SILVER = (
    *(f"bronze.{source}" for source in LANDING_SOURCES),
    "restricted.pii",
    "silver.stores",
    "silver.products",
    "silver.members",
    "silver.customers",
    "silver.identity_edges",
    "silver.identity_map",
    "silver.order_lines",
    "silver.orders",
    "silver.events",
    "silver.inventory",
    "silver.marketing_spend",
    "silver.returns",
    "silver.quarantine",
    "ops.file_registry",
    "ops.batch_audit",
    "ops.schema_changes",
)
FEATURES = ("features.customer_asof", "features.item_store_day")
SERVING = (
    "gold.customer_ltv",
    "gold.churn_scores",
    "gold.demand_forecast",
    "gold.demand_forecast_levels",
    "gold.recommendations",
)
# gold runs after scoring, so inventory_health uses the fresh demand forecast and alerts see the new day
GOLD = (
    "gold.daily_sales",
    "gold.funnel",
    "gold.channel_roi",
    "gold.anomalies",
    "gold.alerts",
    "gold.alert_digest",
    "gold.customer_360",
    "gold.rfm_segments",
    "gold.sku_matrix",
    "gold.sell_through",
    "gold.cohort_retention",
    "gold.inventory_health",
    "gold.returns_analysis",
    "gold.returns_by_sku",
    "gold.brand_performance",
    "gold.gmv_decomposition",
    "gold.cohort_retention_weekly",
    "gold.repurchase",
    "gold.customer_geography",
    "gold.replenishment",
    "gold.stock_transfers",
    "gold.sku_trends",
    "gold.marketing_audiences",
    "gold.basket_rules",
    "gold.price_response",
    "gold.markdowns",
)
EXPORTS = "exports.serving"


def asset_uri(warehouse: str, name: str) -> str:
    """`file://<warehouse>/<zone>/<table>`: the Delta table's folder (the same path delta-rs and Spark read)."""
    return f"file://{table_path(warehouse, name)}"
