"""Render order lines of every channel into wire frames (values exactly as they will be written)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .people import APP, MKT, POS, WEB
from .util import DAY, format_emails, format_phones, iso_utc, local_naive, money, rng_for, text
from .world import World


def frame(
    columns: dict[str, np.ndarray], day: np.ndarray, ts: np.ndarray, free: np.ndarray | None = None
) -> pd.DataFrame:
    """A wire frame plus helper columns: delivery day, version/event time, base order, dirt eligibility."""
    df = pd.DataFrame(columns)
    df["_day"] = np.asarray(day, dtype=np.int64)
    df["_ts"] = np.asarray(ts, dtype=np.int64)
    df["_seq"] = np.arange(len(df), dtype=float)
    df["_free"] = np.ones(len(df), dtype=bool) if free is None else free
    df["_dirt"] = -1
    df["_file"] = ""  # "" until a file is assigned
    return df


def _channel_lines(w: World, channel: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Lines of one channel and the order index of each."""
    o = w.lines["order"].to_numpy()
    mine = w.orders["channel"].to_numpy()[o] == channel
    return w.lines[mine], o[mine]


@dataclass
class _Draws:
    """Random values per order. With a planted traffic drift (World.slots) the draws cover the no-drift world's orders
    (dropped ones too), so every other order gets the values it gets without the drift; extra orders use their own
    stream."""

    rng: np.random.Generator
    w: World
    extra: np.random.Generator | None = None

    def per_order(self, draw: Callable[[np.random.Generator, int], np.ndarray]) -> np.ndarray:
        """draw(generator, n) -> n values; one value per order of the world."""
        if self.w.slots is None:
            return draw(self.rng, len(self.w.orders))
        slot, base = self.w.slots
        out = draw(self.rng, base)[np.maximum(slot, 0)]
        added = slot < 0
        if added.any():
            if self.extra is None:
                self.extra = rng_for(self.w.params.seed, "drift_render_orders")
            out[added] = draw(self.extra, int(added.sum()))[-1 - slot[added]]
        return out


def _order_pick(draws: _Draws, o: np.ndarray, choices: int, p: list[float]) -> np.ndarray:
    """One random format per order, broadcast to its lines."""
    return draws.per_order(lambda g, n: g.choice(choices, n, p=p))[o]


def render_orders(w: World) -> dict[str, pd.DataFrame]:
    """web_orders, app_orders, marketplace_orders and pos_transactions frames."""
    rng = _Draws(rng_for(w.params.seed, "render_orders"), w)
    return {
        "web_orders": _web(w, rng),
        "app_orders": _app(w, rng),
        "marketplace_orders": _marketplace(w, rng),
        "pos_transactions": _pos(w, rng),
    }


def _common(w: World, lines: pd.DataFrame, o: np.ndarray) -> dict[str, np.ndarray]:
    """Columns shared by all channels, still typed."""
    orders = w.orders
    return {
        "order_id": orders["order_id"].to_numpy()[o],
        "line_no": lines["line_no"].to_numpy(),
        "ident": orders["ident"].to_numpy()[o],
        "status": orders["status"].to_numpy()[o],
        "sku": w.cat.sku[lines["sku"].to_numpy()],
        "qty": lines["qty"].to_numpy(),
        "price": np.round(lines["price"].to_numpy(), 2),
        "discount": lines["discount"].to_numpy(),
        "campaign": orders["campaign"].to_numpy()[o],
        "ts": orders["ts"].to_numpy()[o],
        "ts_ms": orders["ts_ms"].to_numpy()[o],
        "free": orders["fraud"].isna().to_numpy()[o],
    }


def _web(w: World, rng: _Draws) -> pd.DataFrame:
    """CSV text; email/phone formats vary per order (20% without phone); ISO-8601 UTC 'Z' times."""
    lines, o = _channel_lines(w, WEB)
    c = _common(w, lines, o)
    ids = w.idents
    n_o = len(w.orders)
    phone = format_phones(ids.phone[c["ident"]], _order_pick(rng, o, 4, [0.4, 0.2, 0.2, 0.2]))
    first = np.zeros(n_o, dtype=bool)  # an account's first order always has a phone (links it to its person)
    web_orders = np.flatnonzero(w.orders["channel"].to_numpy() == WEB)
    first[web_orders[np.unique(w.orders["ident"].to_numpy()[web_orders], return_index=True)[1]]] = True
    phone[(_order_pick(rng, o, 2, [0.8, 0.2]) == 1) & ~first[o]] = None
    updated = c["ts"] + rng.per_order(lambda g, n: g.integers(1, 100, n))[o]
    cols = {
        "order_id": c["order_id"],
        "line_no": text(c["line_no"]),
        "account_id": ids.account[c["ident"]],
        "email": format_emails(ids.email[c["ident"]], _order_pick(rng, o, 5, [0.6, 0.15, 0.05, 0.12, 0.08])),
        "phone": phone,
        "full_name": ids.name[c["ident"]],
        "ship_address": ids.address[c["ident"]],
        "order_ts": iso_utc(c["ts"]),
        "status": c["status"],
        "sku": c["sku"],
        "quantity": text(c["qty"]),
        "unit_price": money(c["price"]),
        "discount": money(c["discount"]),
        "campaign_code": c["campaign"],
        "updated_at": iso_utc(updated),
    }
    return frame(cols, (updated - w.cal.epoch0) // DAY, updated, c["free"])


def _app(w: World, rng: _Draws) -> pd.DataFrame:
    """JSON numbers for numeric fields, epoch-millisecond UTC order_ts, version 1."""
    lines, o = _channel_lines(w, APP)
    c = _common(w, lines, o)
    ids = w.idents
    cols = {
        "order_id": c["order_id"],
        "line_no": c["line_no"],
        "user_id": ids.account[c["ident"]],
        "phone": format_phones(ids.phone[c["ident"]], _order_pick(rng, o, 4, [0.1, 0.7, 0.0, 0.2])),
        "member_id": ids.member_id[c["ident"]],
        "order_ts": c["ts_ms"],
        "status": c["status"],
        "sku": c["sku"],
        "qty": c["qty"],
        "price": c["price"],
        "discount": c["discount"],
        "campaign_code": c["campaign"],
        "version": np.ones(len(o), dtype=np.int64),
        "platform": ids.platform[c["ident"]],
    }
    return frame(cols, (c["ts"] - w.cal.epoch0) // DAY, c["ts"], c["free"])


def _marketplace(w: World, rng: _Draws) -> pd.DataFrame:
    """Typed values for Parquet: ms timestamps, 2-decimal amounts; 12% commission."""
    lines, o = _channel_lines(w, MKT)
    c = _common(w, lines, o)
    ids = w.idents
    updated = c["ts_ms"] + rng.per_order(lambda g, n: g.integers(1_000, 60_000, n))[o]
    cols = {
        "order_id": c["order_id"],
        "line_no": c["line_no"],
        "buyer_id": ids.account[c["ident"]],
        "buyer_phone": format_phones(ids.phone[c["ident"]], _order_pick(rng, o, 4, [0.3, 0.0, 0.0, 0.7])),
        "order_time": c["ts_ms"],
        "status": c["status"],
        "sku": c["sku"],
        "quantity": c["qty"],
        "unit_price": c["price"],
        "commission": np.round(c["price"] * c["qty"] * 0.12, 2),
        "updated_at": updated,
    }
    return frame(cols, (c["ts"] - w.cal.epoch0) // DAY, updated // 1000, c["free"])


def _pos(w: World, rng: _Draws) -> pd.DataFrame:
    """Store-local naive receipt times; member_id only when the card was scanned."""
    lines, o = _channel_lines(w, POS)
    c = _common(w, lines, o)
    store = w.orders["store"].to_numpy()[o]
    day = w.orders["day"].to_numpy()[o]
    offset = w.stores.offsets[w.stores.tz_idx[store], day]
    member = np.where(c["ident"] >= 0, w.idents.account[np.maximum(c["ident"], 0)], None)
    cols = {
        "txn_id": c["order_id"],
        "line_no": text(c["line_no"]),
        "store_id": w.stores.store_id[store],
        "member_id": member,
        "txn_ts": local_naive(c["ts"], offset),
        "sku": c["sku"],
        "quantity": text(c["qty"]),
        "unit_price": money(c["price"]),
        "discount": money(c["discount"]),
        "payment_type": w.orders["payment"].to_numpy()[o],
    }
    return frame(cols, day, c["ts"])
