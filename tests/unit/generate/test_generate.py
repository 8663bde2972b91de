"""Tests of the synthetic landing-zone generator on a tiny run."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from jobs.generate import GenerateParams, generate
from jobs.generate.rawread import find, read_rows
from jobs.generate.specs import PII_KIND, SPECS

from ._landing import TINY, source_rows, tiny_landing

KINDS = {
    "exact_duplicate",
    "near_duplicate",
    "record_update",
    "late_file",
    "bad_type",
    "out_of_range",
    "missing_key",
    "bad_enum",
    "mixed_timezone",
    "new_column",
    "file_dropped_twice",
}
REASONS = {"bad_type": "BAD_TYPE", "out_of_range": "OUT_OF_RANGE", "missing_key": "MISSING_KEY", "bad_enum": "BAD_ENUM"}
ORDER_SOURCES = (
    ("web_orders", "order_id", "quantity", "order_ts"),
    ("app_orders", "order_id", "qty", "order_ts"),
    ("marketplace_orders", "order_id", "quantity", "order_time"),
    ("pos_transactions", "txn_id", "quantity", "txn_ts"),
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The shared tiny landing zone and its manifest."""
    return tiny_landing(tmp_path_factory)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _clean_units(root: Path) -> pd.DataFrame:
    """Order-line units per sku/date from all channels, deduplicated by key, invalid rows dropped."""
    parts = []
    for source, key, qty, ts in ORDER_SOURCES:
        df = source_rows(root, source)
        df = df[df[key].fillna("").astype(str).ne("") & df["sku"].fillna("").astype(str).ne("")]
        df = df.drop_duplicates([key, "line_no"])
        units = pd.to_numeric(df[qty], errors="coerce")
        if source == "app_orders":
            day = pd.to_datetime(pd.to_numeric(df[ts], errors="coerce"), unit="ms").dt.strftime("%Y-%m-%d")
        else:
            day = df[ts].astype(str).str[:10]
        ok = units.between(1, 100)
        parts.append(
            pd.DataFrame(
                {
                    "sku": df["sku"][ok],
                    "qty": units[ok],
                    "date": day[ok],
                    "store": df["store_id"][ok] if "store_id" in df else None,
                    "source": source,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_deterministic_and_seed_sensitive(run: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = run
    generate(tmp_path / "again", TINY)
    assert _files(tmp_path / "again") == _files(root)
    other = GenerateParams(customers=200, days=40, stores=4, skus=60, seed=8)
    generate(tmp_path / "other", other)
    assert _files(tmp_path / "other") != _files(root)


def test_layout_and_columns(run: tuple[Path, dict]) -> None:
    root, manifest = run
    start, end = manifest["start_date"], manifest["end_date"]
    new_col = next(e for e in manifest["dirt"] if e["kind"] == "new_column")
    since = new_col["file"].split("/")[1]
    day = r"(\d{4}-\d{2}-\d{2})"
    pattern = re.compile(rf"^([a-z_]+)/{day}/\1_{day}(_late(_S\d{{3}})?)?\.(csv|jsonl|parquet)$")
    paths = [p for p in _files(root) if p != "_manifest.json"]
    assert {p.split("/")[0] for p in paths} == set(SPECS)
    for path in paths:
        hit = pattern.match(path)
        assert hit, path
        spec = SPECS[hit.group(1)]
        assert hit.group(6) == spec.fmt and start <= hit.group(2) <= end and hit.group(3) <= hit.group(2)
        expected = list(spec.columns) + (["gift_wrap"] if spec.name == "web_orders" and hit.group(2) >= since else [])
        if spec.fmt == "csv":
            header = (root / path).read_text(encoding="utf-8").split("\n", 1)[0]
            assert header.split(",") == expected, path
        elif spec.fmt == "jsonl":
            rows = read_rows(root / path)
            assert all(list(r) == expected for r in rows), path
            ints = ("line_no", "qty", "version", "order_ts", "event_ts")
            assert not any(isinstance(r.get(c), float) for r in rows for c in ints), path
        else:
            assert pq.read_schema(root / path).names == expected, path
    schema = pq.read_schema(next((root / "marketplace_orders").rglob("*.parquet")))
    assert str(schema.field("order_time").type) == "timestamp[ms, tz=UTC]"


def test_every_dirt_kind_planted_and_matchable(run: tuple[Path, dict]) -> None:
    root, manifest = run
    assert {e["kind"] for e in manifest["dirt"]} == KINDS
    assert "dirt_skipped" not in manifest  # written only when some dirt had nothing to land on
    cache: dict[str, list[dict]] = {}
    for e in manifest["dirt"]:
        assert e["expected_reason"] == REASONS.get(e["kind"]), e
        assert not set(e["match"]) & set(SPECS[e["source"]].pii), e
        rows = cache.setdefault(e["file"], read_rows(root / e["file"]))
        found = find(rows, e["match"])
        assert len(found) == 1 or (e["kind"] == "exact_duplicate" and len(found) == 2), (len(found), e)
        spec = SPECS[e["source"]]
        assert all(v not in (None, "") for v in e["match"].values()), e
        assert all(spec.kind(k) != "ts" for k in e["match"]) or spec.fmt != "parquet", e
        if spec.fmt == "jsonl":  # str(value) is the literal text in the file (what a string reader sees)
            text = (root / e["file"]).read_text(encoding="utf-8")
            line = next(ln for ln in text.splitlines() if json.loads(ln) == found[0])
            assert all(f'"{k}":{json.dumps(v, ensure_ascii=False)}' in line for k, v in e["match"].items()), e
    twice = [e for e in manifest["dirt"] if e["kind"] == "file_dropped_twice"]
    for e in twice:
        original = e["note"].rsplit(" ", 1)[1]
        assert (root / original).read_bytes() == (root / e["file"]).read_bytes()
        assert original.rsplit("/", 1)[1] == e["file"].rsplit("/", 1)[1] and original != e["file"]


def test_pii_only_in_pii_columns(run: tuple[Path, dict]) -> None:
    root, manifest = run
    pii = {v for values in manifest["truth"]["pii"].values() for v in values}
    needles = [v.strip().lower() for k in ("phones", "emails") for v in manifest["truth"]["pii"][k]]
    seen_pii: set[str] = set()
    for source, spec in SPECS.items():
        df = source_rows(root, source)
        for col in df.columns:
            values = {str(v) for v in df[col].dropna().tolist()}
            if col in PII_KIND:
                seen_pii |= values - {""}
            elif col not in spec.pii and col != "_file":
                assert not values & pii, (source, col)
                blob = "\n".join(values).lower()
                assert not any(n in blob for n in needles), (source, col)
    assert seen_pii == pii


def test_promotion_uplift(run: tuple[Path, dict]) -> None:
    root, manifest = run
    units = _clean_units(root)
    for promo in manifest["truth"]["promotions"]:
        mine = units[units["sku"].isin(promo["skus"])]
        inside = mine["date"].between(promo["start"], promo["end"])
        n_in = (date.fromisoformat(promo["end"]) - date.fromisoformat(promo["start"])).days + 1
        ratio = (mine["qty"][inside].sum() / n_in) / (mine["qty"][~inside].sum() / (manifest["days"] - n_in))
        assert 5.0 < ratio < 20.0, ratio


def test_slow_movers_sell_little(run: tuple[Path, dict]) -> None:
    root, manifest = run
    per_sku = _clean_units(root).groupby("sku")["qty"].sum()
    slow = manifest["truth"]["slow_movers"]
    assert len(slow) >= 3
    assert per_sku.reindex(slow).fillna(0).mean() < 0.2 * per_sku.drop(slow, errors="ignore").median()


def test_stockouts_have_zero_stock_and_no_pos_sales(run: tuple[Path, dict]) -> None:
    root, manifest = run
    inv = source_rows(root, "inventory")
    pos = _clean_units(root)
    pos = pos[pos["source"] == "pos_transactions"]
    assert manifest["truth"]["stockouts"]
    for so in manifest["truth"]["stockouts"]:
        days = pd.date_range(so["start"], so["end"]).strftime("%Y-%m-%d")
        mine = inv[(inv["store_id"] == so["store_id"]) & (inv["sku"] == so["sku"])]
        assert (mine[mine["snapshot_date"].isin(days)]["on_hand"] == 0).all()
        assert len(mine[mine["snapshot_date"].isin(days)].drop_duplicates("snapshot_date")) == len(days)
        assert pos[(pos["store"] == so["store_id"]) & (pos["sku"] == so["sku"]) & pos["date"].isin(days)].empty
