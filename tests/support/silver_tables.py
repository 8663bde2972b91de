"""Small silver Delta tables written inline (change data feed on, as silver creates them), the BASE and LATER data
the gold/features integration tests share, and a config helper that points gold/features at another warehouse or
changes their rules."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jobs.common.config import Config
from jobs.io.inputs import input_schema
from jobs.io.tables import Catalog

KEYS = {
    "silver.order_lines": ["channel", "order_id", "line_no"],
    "silver.events": ["channel", "event_id"],
    "silver.inventory": ["snapshot_date", "store_id", "sku"],
    "silver.marketing_spend": ["spend_date", "channel", "campaign_id"],
    "silver.returns": ["return_id"],
    "silver.products": ["sku"],
    "silver.customers": ["customer_id"],
    "silver.daily_sales_imported": ["store_id", "sku", "sales_date"],
    "ops.batch_audit": ["source", "batch_id"],
}
D = date.fromisoformat


def with_rules(cfg: Config, *, warehouse: Path | None = None, **gold: Any) -> Config:
    """`cfg` with top-level `gold:` keys overridden (snapshot_retention_days for features too)."""
    retention = gold.get("snapshot_retention_days", cfg.features.snapshot_retention_days)
    paths = cfg.paths if warehouse is None else dataclasses.replace(cfg.paths, warehouse=str(warehouse))
    return dataclasses.replace(
        cfg,
        paths=paths,
        gold=dataclasses.replace(cfg.gold, **gold),
        features=dataclasses.replace(cfg.features, snapshot_retention_days=retention),
    )


def write_silver(catalog: Catalog, name: str, rows: list[tuple]) -> None:
    """Create `name` (the change data feed on, as for every silver/ops table) or upsert `rows` on its business key."""
    catalog.merge(catalog.spark.createDataFrame(rows, input_schema(name)), name, KEYS[name])


def line(
    channel: str,
    order_id: str,
    day: str,
    customer: str | None,
    account: str,
    sku: str,
    qty: int,
    price: str,
    discount: str = "0.00",
    *,
    store: str | None = None,
    status: str = "paid",
    campaign: str | None = None,
    hour: int = 12,
    phone: str | None = None,
) -> tuple:
    net = Decimal(price) * qty - Decimal(discount)
    ts = datetime.fromisoformat(f"{day}T{hour:02d}:00:00")
    return (
        channel,
        order_id,
        1,
        customer,
        account,
        store,
        ts,
        D(day),
        status,
        sku,
        qty,
        Decimal(price),
        Decimal(discount),
        net,
        campaign,
        f"dev-{account}",
        phone,
        None,
        1,
        f"{channel}-1",
    )


def event(
    channel: str,
    event_id: str,
    day: str,
    session: str,
    customer: str | None,
    event_type: str,
    campaign: str | None = None,
    hour: int = 10,
) -> tuple:
    ts = datetime.fromisoformat(f"{day}T{hour:02d}:00:00")
    return (
        channel,
        event_id,
        ts,
        D(day),
        session,
        f"acct-{customer}",
        customer,
        event_type,
        "P1",
        campaign,
        None,
        "desktop",
    )


BASE: dict[str, list[tuple]] = {
    "silver.products": [
        ("P1", "Mug", "A", "brand", Decimal("10.00"), Decimal("6.00"), D("2024-01-01"), True, None),
        ("P2", "Cup", "A", "brand", Decimal("20.00"), Decimal("8.00"), D("2024-01-01"), True, None),
        ("P3", "Pot", "B", "brand", Decimal("50.00"), Decimal("40.00"), D("2024-01-01"), True, None),
    ],
    "silver.customers": [
        (c, None, None, None, "gold", True, False, 1980, None, ["web"], datetime(2025, 2, 1), "generated", *where)
        for c, where in (("C1", ("Chicago", "IL", "US")), ("C2", ("Chicago", "IL", "US")), ("C3", (None,) * 3))
    ],
    "silver.order_lines": [
        line("web", "W1", "2025-03-01", "C1", "a1", "P1", 2, "10.00", campaign="CAMP1"),
        line("web", "W2", "2025-03-02", "C2", "a2", "P2", 1, "20.00"),
        line("pos", "T1", "2025-03-02", "C1", "m1", "P1", 1, "9.00", store="S1"),
        line("pos", "T2", "2025-03-03", "C3", "m3", "P3", 1, "50.00", store="S1"),
        line("app", "A1", "2025-03-03", "C2", "u2", "P3", 2, "50.00", "10.00"),
        line("web", "W3", "2025-03-04", "C1", "a1", "P2", 1, "20.00", status="cancelled"),
        line("pos", "T3", "2025-03-04", None, "walkin", "P2", 3, "20.00", store="S2"),
    ],
    "silver.returns": [
        ("R1", "web", "W2", 1, "P2", 1, Decimal("20.00"), "other", datetime(2025, 3, 3, 9), D("2025-03-03"))
    ],
    "silver.events": [
        event("web", "e1", "2025-03-01", "s1", "C1", "view", "CAMP1"),
        event("web", "e2", "2025-03-01", "s1", "C1", "cart"),
        event("web", "e3", "2025-03-01", "s1", "C1", "order"),
        event("web", "e4", "2025-03-01", "s1", "C1", "paid"),
        event("web", "e5", "2025-03-02", "s2", "C2", "view", "CAMP1"),
        event("web", "e6", "2025-03-02", "s3", None, "view"),
    ],
    "silver.inventory": [
        (D("2025-03-01"), "S1", "P1", 5, 0),
        (D("2025-03-01"), "S1", "P3", 0, 4),
        (D("2025-03-02"), "S2", "P2", 10, 0),
        (D("2025-03-01"), "S2", "P3", 3, 0),
    ],
    "silver.marketing_spend": [
        (D("2025-03-01"), "web", "CAMP1", Decimal("100.00"), 1000, 50),
        (D("2025-03-02"), "web", "CAMP1", Decimal("50.00"), 500, 20),
    ],
    "silver.daily_sales_imported": [("S3", "P1", D("2025-03-03"), 4.0, Decimal("9.50"), True)],
    "ops.batch_audit": [
        ("web_orders", "web_orders-1", 100, 99, 0, 0, 1, datetime(2025, 3, 2, 6), D("2025-03-01")),
        ("web_orders", "web_orders-2", 100, 90, 0, 0, 10, datetime(2025, 3, 3, 6), D("2025-03-02")),
    ],
}
# the next day's data, plus a late order line for a past day (03-02)
LATER: dict[str, list[tuple]] = {
    "silver.order_lines": [
        line("web", "W4", "2025-03-05", "C3", "a3", "P1", 1, "10.00"),
        line("pos", "T4", "2025-03-02", "C2", "m2", "P3", 1, "50.00", store="S2"),
    ],
    "silver.events": [event("web", "e7", "2025-03-05", "s4", "C3", "view")],
    "silver.inventory": [(D("2025-03-05"), "S1", "P1", 2, 0)],
}


def write_all(catalog: Catalog, data: dict[str, list[tuple]]) -> None:
    """Write every table of `data` (name -> rows) with write_silver."""
    for name, rows in data.items():
        write_silver(catalog, name, rows)


def copy_warehouse(source: Path, target: str | Path, tables: tuple[str, ...] = ("silver", "ops/batch_audit")) -> None:
    """Copy silver (and ops.batch_audit) Delta folders, history included, into another warehouse."""
    for table in tables:
        if (Path(source) / table).exists():
            shutil.copytree(Path(source) / table, Path(target) / table)
