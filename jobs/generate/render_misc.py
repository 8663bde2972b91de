"""Render master data, events, inventory, marketing spend and returns into wire frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .assortment import CATEGORIES
from .people import APP, WEB
from .render_orders import frame
from .stores import CITIES
from .util import CHANNELS, DAY, EPOCH, format_emails, format_phones, iso_utc, money, rng_for, text
from .world import World


def render_misc(w: World) -> dict[str, pd.DataFrame]:
    """All non-order sources."""
    rng = rng_for(w.params.seed, "render_misc")
    out = {"stores": _stores(w), "products": _products(w, rng), "crm_members": _crm(w, rng)}
    out.update(_events(w))
    out.update({"inventory": _inventory(w), "marketing_spend": _spend(w), "returns": _returns(w)})
    return out


def _stores(w: World) -> pd.DataFrame:
    """Full store list on day 0."""
    s = w.stores
    ts = w.cal.epoch0 + 300 + np.arange(s.n)
    cols = {
        "store_id": s.store_id,
        "store_name": s.name,
        "city": np.array([s.city(i)[0] for i in range(s.n)], dtype=object),
        "region": np.array([s.city(i)[2] for i in range(s.n)], dtype=object),
        "timezone": np.array([CITIES[c][3] for c in s.city_idx], dtype=object),
        "opened_at": s.opened,
        "updated_at": iso_utc(ts),
    }
    return frame(cols, np.zeros(s.n), ts)


def _products(w: World, rng: np.random.Generator) -> pd.DataFrame:
    """Full product file on day 0, then one row per price / cost change on its day (the price drift's rows last, their
    times from their own stream)."""
    cat = w.cat
    changes = cat.changes + cat.drift_changes
    day = np.concatenate([np.zeros(cat.n, dtype=np.int64), np.array([d for d, _ in changes], dtype=np.int64)])
    sku = np.concatenate([np.arange(cat.n), np.array([k for _, k in changes], dtype=np.int64)])
    later = rng.integers(14_400, 21_600, len(day) - len(cat.drift_changes))
    if cat.drift_changes:
        drifted = rng_for(w.params.seed, "drift_products").integers(14_400, 21_600, len(cat.drift_changes))
        later = np.concatenate([later, drifted])
    ts = w.cal.epoch0 + day * DAY + np.where(day == 0, 600 + np.arange(len(day)), later)
    cols = {
        "sku": cat.sku[sku],
        "product_name": cat.name[sku],
        "category": np.array(CATEGORIES, dtype=object)[cat.category[sku]],
        "brand": cat.brand[sku],
        "list_price": money(cat.price[day, sku]),
        "unit_cost": money(cat.cost[day, sku]),
        "launched_at": cat.launched[sku],
        "updated_at": iso_utc(ts),
    }
    return frame(cols, day, ts)


def _crm(w: World, rng: np.random.Generator) -> pd.DataFrame:
    """Existing members on day 0, new members on their join day."""
    p = w.people
    who = np.flatnonzero(p.member_id != None)  # noqa: E711 - elementwise on object array
    day = p.join_day[who]
    ts = np.where(
        day == 0, w.cal.epoch0 + 1_800 + np.arange(len(who)), p.joined_ts[who] + rng.integers(60, 600, len(who))
    )
    consent = rng.random((len(who), 2)) < np.array([0.7, 0.45])
    cols = {
        "member_id": p.member_id[who],
        "full_name": p.name[who],
        "phone": format_phones(p.phone[who], rng.choice(4, len(who), p=[0.9, 0.0, 0.1, 0.0])),
        "email": format_emails(p.email[who], rng.choice(5, len(who), p=[0.85, 0.1, 0.0, 0.05, 0.0])),
        "address": p.address[who],
        "birth_date": p.birth[who],
        "tier": p.tier[who],
        "consent_email": np.where(consent[:, 0], "true", "false").astype(object),
        "consent_sms": np.where(consent[:, 1], "true", "false").astype(object),
        "joined_at": iso_utc(p.joined_ts[who]),
        "updated_at": iso_utc(ts),
    }
    return frame(cols, day, ts)


def _events(w: World) -> dict[str, pd.DataFrame]:
    """web_events (ISO 'Z' times) and app_events (epoch ms)."""
    out = {}
    for ch, name, who in ((WEB, "web_events", "account_id"), (APP, "app_events", "user_id")):
        ev = w.events[ch]
        ts_ms = ev["ts_ms"].to_numpy()
        sku = ev["sku"].to_numpy()
        cols = {
            "event_id": ev["event_id"].to_numpy(),
            "event_ts": iso_utc(ts_ms // 1000) if ch == WEB else ts_ms,
            "session_id": ev["session_id"].to_numpy(),
            who: ev["account"].to_numpy(),
            "event_type": ev["event_type"].to_numpy().astype(object),
            "sku": np.where(sku >= 0, w.cat.sku[np.maximum(sku, 0)], None),
            "campaign_code": ev["campaign"].to_numpy(),
            "device_id": ev["device"].to_numpy(),
        }
        if ch == APP:
            cols["platform"] = ev["platform"].to_numpy()
        day = np.clip((ts_ms // 1000 - w.cal.epoch0) // DAY, 0, w.cal.days - 1)
        out[name] = frame(cols, day, ts_ms // 1000)
    return out


def _inventory(w: World) -> pd.DataFrame:
    """Typed values for Parquet; snapshot_date as days since 1970-01-01."""
    inv = w.inventory
    day = inv["day"].to_numpy()
    cols = {
        "snapshot_date": day + (w.cal.start - EPOCH).days,
        "store_id": w.stores.store_id[inv["store"].to_numpy()],
        "sku": w.cat.sku[inv["sku"].to_numpy()],
        "on_hand": inv["on_hand"].to_numpy(),
        "on_order": inv["on_order"].to_numpy(),
    }
    return frame(cols, day, w.cal.epoch0 + day * DAY + 23 * 3600)


def _spend(w: World) -> pd.DataFrame:
    """One CSV row per campaign and day."""
    s = w.spend.sort_values(["ts", "campaign_id"], kind="mergesort")
    day = s["day"].to_numpy()
    cols = {
        "date": np.array([w.cal.iso(d) for d in day], dtype=object),
        "channel": s["channel"].to_numpy(),
        "campaign_id": s["campaign_id"].to_numpy(),
        "spend": money(s["spend"].to_numpy()),
        "impressions": text(s["impressions"].to_numpy()),
        "clicks": text(s["clicks"].to_numpy()),
        "updated_at": iso_utc(s["ts"].to_numpy()),
    }
    return frame(cols, day, s["ts"].to_numpy())


def _returns(w: World) -> pd.DataFrame:
    """One CSV row per returned line, delivered on its updated_at day."""
    r = w.returns
    o = r["order"].to_numpy()
    cols = {
        "return_id": r["return_id"].to_numpy(),
        "order_id": w.orders["order_id"].to_numpy()[o],
        "line_no": text(r["line_no"].to_numpy()),
        "channel": np.array(CHANNELS, dtype=object)[w.orders["channel"].to_numpy()[o]],
        "sku": w.cat.sku[r["sku"].to_numpy()],
        "quantity": text(r["qty"].to_numpy()),
        "refund_amount": money(r["refund"].to_numpy()),
        "reason": r["reason"].to_numpy(),
        "return_ts": iso_utc(r["ts"].to_numpy()),
        "updated_at": iso_utc(r["updated"].to_numpy()),
    }
    return frame(cols, (r["updated"].to_numpy() - w.cal.epoch0) // DAY, r["updated"].to_numpy())
