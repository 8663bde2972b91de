"""The landing sources, in load order: reference data first (POS needs the stores' time zones), then everything
that carries identities. Import-light: the DAG files read it at parse time."""

from __future__ import annotations

LANDING_SOURCES = (
    "stores",
    "products",
    "crm_members",
    "web_orders",
    "app_orders",
    "marketplace_orders",
    "pos_transactions",
    "web_events",
    "app_events",
    "inventory",
    "marketing_spend",
    "returns",
)
