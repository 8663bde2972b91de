"""The planted drift (GenerateParams.drift_*): prices and one channel's traffic change from a day on, nothing before."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.common.config import load_config
from jobs.common.errors import UserError
from jobs.generate import generate
from jobs.generate.command import generate_landing
from jobs.generate.render_misc import render_misc
from jobs.generate.render_orders import render_orders
from jobs.generate.util import CHANNELS
from jobs.generate.world import World, build_world

from ._landing import TINY, source_rows, tiny_landing

DAY = 20  # drift from the middle of TINY's 40 days
DRIFT = dataclasses.replace(TINY, drift_day=DAY)  # web traffic x 0.4, prices x 1.25 (the defaults)
CUT = (TINY.start_date + timedelta(days=DAY)).isoformat()
ORDERS = {  # source, order key, time column, unit price column per channel
    "web": ("web_orders", "order_id", "order_ts", "unit_price"),
    "app": ("app_orders", "order_id", "order_ts", "price"),
    "marketplace": ("marketplace_orders", "order_id", "order_time", "unit_price"),
    "pos": ("pos_transactions", "txn_id", "txn_ts", "unit_price"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path, dict]:
    """The shared no-drift tiny landing zone and the same world with the default drift from day 20."""
    plain, plain_manifest = tiny_landing(tmp_path_factory)
    drifted = tmp_path_factory.mktemp("drift")
    return plain, plain_manifest, drifted, generate(drifted, DRIFT)


def _lines(root: Path, channel: str) -> pd.DataFrame:
    """Valid order lines of a channel (key, sku, UTC date, unit price), one row per order line."""
    source, key, ts, price = ORDERS[channel]
    df = source_rows(root, source)
    if channel == "app":  # epoch ms
        day = pd.to_datetime(pd.to_numeric(df[ts], errors="coerce"), unit="ms").dt.strftime("%Y-%m-%d")
    elif channel == "web":  # ISO 'Z' (an offset as mixed_timezone dirt)
        day = pd.to_datetime(df[ts], errors="coerce", utc=True, format="mixed").dt.strftime("%Y-%m-%d")
    else:  # marketplace: ISO 'Z'; POS: store-local day
        day = df[ts].astype(str).str[:10]
    qty = pd.to_numeric(df["qty" if channel == "app" else "quantity"], errors="coerce")
    price_ = pd.to_numeric(df[price], errors="coerce")
    out = pd.DataFrame({"key": df[key], "sku": df["sku"], "date": day, "price": price_})
    ok = out["key"].fillna("").astype(str).ne("") & out["sku"].fillna("").astype(str).ne("") & out["date"].notna()
    ok &= qty.between(1, 100) & (out["price"] >= 0)
    return out[ok].assign(line_no=df["line_no"].astype(str)).drop_duplicates(["key", "line_no"])


def _orders_per_day(root: Path, channel: str) -> pd.Series:
    lines = _lines(root, channel)
    return lines.drop_duplicates("key").groupby("date").size()


def test_params_are_validated() -> None:
    for bad in ({"drift_day": TINY.days}, {"drift_day": -1}, {"drift_channel": "mkt"}, {"drift_traffic": 0.0}):
        with pytest.raises(ValueError, match="drift"):
            dataclasses.replace(TINY, **bad)
    with pytest.raises(ValueError, match="drift_price"):
        dataclasses.replace(TINY, drift_price=-1.0)
    assert set(CHANNELS) == {"web", "app", "marketplace", "pos"}


def test_manifest_records_the_drift(runs: tuple[Path, dict, Path, dict]) -> None:
    _, plain, _, drifted = runs
    assert drifted["truth"]["drift"] == {"date": CUT, "channel": "web", "traffic_factor": 0.4, "price_factor": 1.25}
    assert drifted["params"]["drift_day"] == DAY
    assert "drift" not in plain["truth"] and not any(k.startswith("drift") for k in plain["params"])


def test_drift_channel_traffic_drops_and_the_others_stay(runs: tuple[Path, dict, Path, dict]) -> None:
    plain, _, drifted, _ = runs
    for channel in ORDERS:
        before, after = _orders_per_day(plain, channel), _orders_per_day(drifted, channel)
        pre = after[after.index < CUT].sum() / before[before.index < CUT].sum()
        post = after[after.index >= CUT].sum() / before[before.index >= CUT].sum()
        # the same orders (test_days_before_the_drift_are_the_no_drift_worlds); only the planted dirt lands elsewhere
        assert abs(pre - 1.0) < 0.06, (channel, pre)
        expected = 0.4 if channel == "web" else 1.0  # web: the fraud orders stay
        assert abs(post - expected) < (0.15 if channel == "web" else 0.06), (channel, post)


def test_prices_change_by_the_factor_from_the_drift_day(runs: tuple[Path, dict, Path, dict]) -> None:
    plain, _, drifted, _ = runs
    for channel in ORDERS:
        a = _lines(plain, channel).groupby(["sku", "date"])["price"].median()
        b = _lines(drifted, channel).groupby(["sku", "date"])["price"].median()
        ratio = (b / a).dropna()
        late = ratio.index.get_level_values("date") >= CUT
        assert late.sum() >= 10 and (~late).sum() >= 10, channel
        assert (np.abs(ratio[~late] - 1.0) < 1e-9).mean() > 0.95, channel
        assert (np.abs(ratio[late] - 1.25) < 0.01).mean() > 0.95, channel
    products = source_rows(drifted, "products")
    update = products[products["updated_at"].str[:10] == CUT].drop_duplicates("sku")
    assert len(update) >= 0.9 * TINY.skus  # a price update row for (nearly) every SKU on the drift day
    first = source_rows(plain, "products").drop_duplicates("sku").set_index("sku")["list_price"]
    change = pd.to_numeric(update.set_index("sku")["list_price"], errors="coerce") / pd.to_numeric(first[update["sku"]])
    assert abs(change.median() - 1.25) < 0.01


def _pre(frame: pd.DataFrame, day: np.ndarray) -> pd.DataFrame:
    return frame[day < DAY].reset_index(drop=True)


def _before(w: World) -> dict[str, pd.DataFrame]:
    """Everything simulated or rendered for the days before the drift day."""
    o_day = w.orders["day"].to_numpy()
    lines = w.lines.assign(order_id=w.orders["order_id"].to_numpy()[w.lines["order"].to_numpy()]).drop(columns="order")
    out = {
        "orders": _pre(w.orders, o_day),
        "lines": _pre(lines, o_day[w.lines["order"].to_numpy()]),
        "inventory": _pre(w.inventory, w.inventory["day"].to_numpy()),
    }
    for ch, ev in w.events.items():
        out[f"events{ch}"] = _pre(ev.drop(columns="session"), (ev["ts_ms"].to_numpy() // 1000 - w.cal.epoch0) // 86_400)
    for name, frame in {**render_misc(w), **render_orders(w)}.items():
        out[name] = _pre(frame, frame["_day"].to_numpy())
    return out


@pytest.mark.parametrize(("channel", "factor"), [("web", 0.4), ("pos", 1.8)])
def test_days_before_the_drift_are_the_no_drift_worlds(channel: str, factor: float) -> None:
    plain, w = build_world(TINY), build_world(dataclasses.replace(DRIFT, drift_channel=channel, drift_traffic=factor))
    before, after = _before(plain), _before(w)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)
    ch = CHANNELS.index(channel)
    counts = [
        np.bincount(x.orders["day"][(x.orders["channel"] == ch) & x.orders["fraud"].isna()], minlength=40)
        for x in (plain, w)
    ]
    assert abs(counts[1][DAY:].sum() / counts[0][DAY:].sum() - factor) < 0.15
    assert (w.cat.price[DAY:] == np.maximum(np.round(plain.cat.price[DAY:] * 1.25, 2), 0.01)).all()


def test_generate_landing_plants_the_drift_from_a_date(tmp_path: Path) -> None:
    cfg = load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(tmp_path)})
    assert cfg.generate.drift.date is None and cfg.generate.drift.channel == "web"
    start = date.fromisoformat(cfg.generate.start_date)
    summary = generate_landing(cfg, customers=60, days=12, out=str(tmp_path / "a"), drift_from=start + timedelta(5))
    manifest = json.loads((tmp_path / "a" / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["truth"]["drift"]["date"] == (start + timedelta(5)).isoformat() and "drift from" in summary
    with pytest.raises(UserError, match="outside the generated period"):
        generate_landing(cfg, customers=60, days=12, out=str(tmp_path / "b"), drift_from=start + timedelta(12))
    generate_landing(cfg, customers=60, days=12, out=str(tmp_path / "c"))
    assert "drift" not in json.loads((tmp_path / "c" / "_manifest.json").read_text(encoding="utf-8"))["truth"]


def test_cli_flag() -> None:
    from jobs.cli import build_parser

    args = build_parser().parse_args(["generate", "--drift-from", "2025-01-21", "--days", "40"])
    assert args.drift_from == date(2025, 1, 21) and args.days == 40
    assert build_parser().parse_args(["generate"]).drift_from is None
