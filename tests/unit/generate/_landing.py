"""Shared fixture and raw-file helpers for the generator tests."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from jobs.generate import GenerateParams, generate
from jobs.generate.rawread import read_rows

TINY = GenerateParams(customers=200, days=40, stores=4, skus=60)
STATUSES = {"created", "paid", "shipped", "cancelled"}


def tiny_landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One tiny landing zone per test session (generated once, shared by the test modules)."""
    root = tmp_path_factory.getbasetemp() / "tiny_landing"
    if not (root / "_manifest.json").exists():
        messages: list[str] = []
        generate(root, TINY, progress=messages.append)
        assert any(m.startswith("web_orders: ") for m in messages)
    return root, json.loads((root / "_manifest.json").read_text(encoding="utf-8"))


def source_rows(root: Path, source: str) -> pd.DataFrame:
    """All raw rows of a source (every file) with the file they came from."""
    rows = []
    for path in sorted((root / source).rglob("*.*")):
        for row in read_rows(path):
            row["_file"] = str(path.relative_to(root))
            rows.append(row)
    return pd.DataFrame(rows)


def epoch(value: object) -> float | None:
    """ISO-8601 with offset / 'Z' or epoch ms -> epoch seconds; None when malformed."""
    try:
        if isinstance(value, (int, float)):
            return value / 1000.0
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def valid_orders(root: Path, source: str) -> pd.DataFrame:
    """Rows a pipeline would accept (keys present, typed, in range, enums ok), latest version per key."""
    df = source_rows(root, source)
    qty = "qty" if source == "app_orders" else "quantity"
    price = "price" if source == "app_orders" else "unit_price"
    units = pd.to_numeric(df[qty], errors="coerce")
    amount = pd.to_numeric(df[price], errors="coerce")
    ok = df["order_id"].fillna("").astype(str).ne("") & df["sku"].fillna("").astype(str).ne("")
    ok &= units.between(1, 100) & (amount >= 0) & df["status"].isin(STATUSES)
    ts_col = "order_time" if source == "marketplace_orders" else "order_ts"
    df["_epoch"] = [epoch(v) if source != "app_orders" or isinstance(v, int) else None for v in df[ts_col]]
    if source == "app_orders":
        ok &= df["platform"].isin({"app", "mini_program"})
    df = df[ok & df["_epoch"].notna()].assign(_units=units[ok], _amount=amount[ok])
    version = "version" if source == "app_orders" else "updated_at"
    return df.sort_values(version, kind="mergesort").drop_duplicates(["order_id", "line_no"], keep="last")
