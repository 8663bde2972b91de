"""Web/app clickstream: a funnel session before every online order plus many browse-only sessions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .assortment import CATEGORIES, Assortment
from .baskets import draw_tasted, sku_table
from .marketing import Campaign, active_codes
from .params import GenerateParams
from .people import APP, WEB, Idents, People
from .taste import Taste, person_categories
from .util import DAY, Calendar, fmt_ids, rng_for, scramble

PREFIX = {WEB: "w", APP: "a"}  # of session and event ids
COLUMNS = ["channel", "session", "ts_ms", "seq", "account", "event_type", "sku", "campaign", "device", "platform"]


def build_events(
    params: GenerateParams,
    cal: Calendar,
    people: People,
    taste: Taste,
    idents: Idents,
    cat: Assortment,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    campaigns: list[Campaign],
    dropout: np.ndarray,
) -> dict[int, pd.DataFrame]:
    """Event tables for WEB and APP with event/session ids, sorted by time."""
    rng = rng_for(params.seed, "events")
    funnel = order_sessions(rng, orders, lines, idents)
    browse = _browse_sessions(rng, params, cal, people, taste, idents, cat, orders, campaigns, dropout)
    browse["session"] += int(funnel["session"].max()) + 1 if len(funnel) else 0
    events = pd.concat([funnel, browse], ignore_index=True)
    out = {}
    for ch in (WEB, APP):
        ev = events[events["channel"] == ch].sort_values(["ts_ms", "session", "seq"], kind="mergesort")
        ev = ev.reset_index(drop=True)
        sess_codes, sess_idx = np.unique(ev["session"].to_numpy(), return_inverse=True)
        ev["session_id"] = fmt_ids(f"{PREFIX[ch]}s-", scramble(sess_idx), "010x")
        ev["event_id"] = fmt_ids(f"{PREFIX[ch]}e-", scramble(np.arange(len(ev))), "010x")
        out[ch] = ev
    return out


def add_events(ev: pd.DataFrame, extra: pd.DataFrame, ch: int, sessions: int) -> pd.DataFrame:
    """One channel's events plus extra events (COLUMNS, their own session codes): the extra sessions get the session
    numbers after `sessions` (the number of sessions ever numbered), the events are renumbered in time order (events
    before the first extra one keep their ids)."""
    extra = extra.sort_values(["ts_ms", "session", "seq"], kind="mergesort").reset_index(drop=True)
    _, idx = np.unique(extra["session"].to_numpy(), return_inverse=True)
    extra["session"] = np.asarray(extra["session"].to_numpy(), dtype=np.int64) + (
        int(ev["session"].max()) + 1 if len(ev) else 0
    )
    extra["session_id"] = fmt_ids(f"{PREFIX[ch]}s-", scramble(sessions + idx), "010x")
    out = pd.concat([ev, extra], ignore_index=True).sort_values("ts_ms", kind="mergesort").reset_index(drop=True)
    out["event_id"] = fmt_ids(f"{PREFIX[ch]}e-", scramble(np.arange(len(out))), "010x")
    return out


def order_sessions(rng: np.random.Generator, orders: pd.DataFrame, lines: pd.DataFrame, idents: Idents) -> pd.DataFrame:
    """view(s) + cart per line, checkout, one order event per line at order_ts, paid if paid."""
    online = np.flatnonzero(orders["channel"].to_numpy() <= APP)
    o_line = lines[np.isin(lines["order"].to_numpy(), online)]
    order, sku = o_line["order"].to_numpy(), o_line["sku"].to_numpy()
    views = 1 + rng.binomial(2, 0.35, len(order))
    pre_line = np.repeat(np.arange(len(order)), views + 1)
    k = np.arange(len(pre_line)) - np.repeat(np.cumsum(views + 1) - (views + 1), views + 1)
    pre = pd.DataFrame(
        {
            "order": order[pre_line],
            "sku": sku[pre_line],
            "event_type": np.where(k < views[pre_line], "view", "cart"),
            "seq": np.arange(len(pre_line)),
        }
    )
    checkout = pd.DataFrame({"order": online, "sku": -1, "event_type": "checkout", "seq": len(pre_line)})
    pre = pd.concat([pre, checkout], ignore_index=True).sort_values(["order", "seq"], kind="mergesort")
    gap = rng.integers(8_000, 90_000, len(pre))
    total = np.bincount(pre["order"].to_numpy(), weights=gap, minlength=len(orders))
    before = np.cumsum(gap) - gap
    first = np.flatnonzero(np.diff(pre["order"].to_numpy(), prepend=-1))  # each order's first event (none: [])
    start = np.repeat(before[first], np.diff(np.r_[first, len(pre)]))
    t_order = orders["ts_ms"].to_numpy()
    o_pre = pre["order"].to_numpy()
    pre["ts_ms"] = t_order[o_pre] - (total[o_pre] - (before - start)).astype(np.int64)
    post = pd.DataFrame({"order": order, "sku": sku, "event_type": "order", "ts_ms": t_order[order]})
    paid_o = online[orders["status"].to_numpy()[online] == "paid"]
    paid = pd.DataFrame(
        {
            "order": paid_o,
            "sku": -1,
            "event_type": "paid",
            "ts_ms": t_order[paid_o] + rng.integers(3_000, 40_000, len(paid_o)),
        }
    )
    ev = pd.concat([pre, post, paid], ignore_index=True)
    ev["seq"] = np.arange(len(ev))
    o = ev["order"].to_numpy()
    ident = orders["ident"].to_numpy()[o]
    ev["channel"] = orders["channel"].to_numpy()[o]
    ev["session"] = o
    ev["account"] = idents.account[ident]
    anon = np.isin(o, online[rng.random(len(online)) < 0.2]) & (ev["event_type"].to_numpy() == "view")
    ev.loc[anon, "account"] = None
    ev["campaign"] = orders["campaign"].to_numpy()[o]
    ev["device"] = idents.device[ident]
    ev["platform"] = idents.platform[ident]
    return ev[COLUMNS]


def _browse_sessions(
    rng: np.random.Generator,
    params: GenerateParams,
    cal: Calendar,
    people: People,
    taste: Taste,
    idents: Idents,
    cat: Assortment,
    orders: pd.DataFrame,
    campaigns: list[Campaign],
    dropout: np.ndarray,
) -> pd.DataFrame:
    """Browse-only sessions (views >> carts >> checkouts), 40% anonymous, by alive persons otherwise."""
    parts = [
        browse_visits(rng, people, idents, orders, ch, params.browse_ratio * browse_base(cal, orders, ch), dropout)
        for ch in (WEB, APP)
    ]
    sessions = pd.concat(parts, ignore_index=True)
    return browse_events(rng, cal, people, taste, idents, cat, sessions, campaigns)


def browse_base(cal: Calendar, orders: pd.DataFrame, ch: int) -> np.ndarray:
    """Per day the channel's orders, at least the day's season factor (browse_ratio x this = expected sessions)."""
    per_day = np.bincount(orders["day"].to_numpy()[orders["channel"].to_numpy() == ch], minlength=cal.days)
    return np.maximum(per_day, cal.season())


def browse_visits(
    rng: np.random.Generator,
    people: People,
    idents: Idents,
    orders: pd.DataFrame,
    ch: int,
    expected: np.ndarray,
    dropout: np.ndarray,
) -> pd.DataFrame:
    """Browse-only sessions (channel, day, ident) of one channel: Poisson(expected[day]) per day, 60% by alive persons
    whose account orders in the channel (weighted by purchase rate), the rest anonymous (ident -1)."""
    buyers = orders["ident"].to_numpy()[orders["channel"].to_numpy() == ch]
    # logged-in browsing only by accounts that also order (so every identified account is resolvable)
    mine = np.flatnonzero((idents.channel == ch) & (idents.person < people.n) & np.isin(np.arange(len(idents)), buyers))
    person = idents.person[mine]
    parts = []
    for d in range(len(expected)):
        n_s = int(rng.poisson(expected[d]))
        ok = (people.join_day[person] <= d) & ((dropout[person] < 0) | (dropout[person] >= d))
        known = rng.random(n_s) < 0.6 if ok.any() else np.zeros(n_s, dtype=bool)
        w = people.lam[person[ok]]
        who = np.full(n_s, -1)
        who[known] = mine[ok][rng.choice(int(ok.sum()), int(known.sum()), p=w / w.sum())] if known.any() else []
        parts.append(pd.DataFrame({"channel": ch, "day": d, "ident": who}))
    return pd.concat(parts, ignore_index=True)


def browse_events(
    rng: np.random.Generator,
    cal: Calendar,
    people: People,
    taste: Taste,
    idents: Idents,
    cat: Assortment,
    sessions: pd.DataFrame,
    campaigns: list[Campaign],
) -> pd.DataFrame:
    """Expand browse sessions into view / cart / checkout events with increasing times.

    Logged-in persons look at what they like (category taste x item taste, as when they buy), anonymous
    visitors at what is popular.
    """
    n = len(sessions)
    day, ident, channel = (sessions[c].to_numpy() for c in ("day", "ident", "channel"))
    views = np.minimum(rng.geometric(0.45, n), 10)
    cart = rng.random(n) < 0.25
    checkout = cart & (rng.random(n) < 0.3)
    count = views + cart + checkout
    s = np.repeat(np.arange(n), count)
    k = np.arange(len(s)) - np.repeat(np.cumsum(count) - count, count)
    kind = np.where(k < views[s], "view", np.where(k == views[s], "cart", "checkout"))
    n_cat = len(CATEGORIES)
    share = np.bincount(cat.category, weights=cat.popularity, minlength=n_cat)
    person = np.where(ident >= 0, idents.person[np.maximum(ident, 0)], -1)[s]
    category = rng.choice(n_cat, len(s), p=share / share.sum())
    logged_in = person >= 0
    category[logged_in] = person_categories(rng, people.cat_pref, person[logged_in])
    sku = draw_tasted(rng, sku_table(cat), n_cat, taste, day[s], category, person)
    last_view = np.cumsum(views + cart + checkout) - count + views - 1
    sku = np.where(kind == "cart", sku[last_view[s]], np.where(kind == "checkout", -1, sku))
    start = cal.epoch0 * 1000 + day * DAY * 1000 + rng.integers(3_600_000, (DAY - 4_000) * 1000, n)
    ts = start[s] + _within_session_offsets(rng, s, count)
    known = ident >= 0
    anon_dev = fmt_ids("d-", rng.integers(0, 2**48, n), "012x")
    platform = np.where(rng.random(n) < 0.7, "app", "mini_program").astype(object)
    campaign = np.full(n, None, dtype=object)
    for i in np.flatnonzero(rng.random(n) < 0.15):
        codes = active_codes(campaigns, int(channel[i]), int(day[i]))
        campaign[i] = codes[int(rng.integers(0, len(codes)))] if codes else None
    ev = pd.DataFrame(
        {
            "channel": channel[s],
            "session": s,
            "ts_ms": ts,
            "seq": np.arange(len(s)),
            "account": np.where(known, idents.account[np.maximum(ident, 0)], None)[s],
            "event_type": kind,
            "sku": sku,
            "campaign": campaign[s],
            "device": np.where(known, idents.device[np.maximum(ident, 0)], anon_dev)[s],
            "platform": np.where(known, idents.platform[np.maximum(ident, 0)], platform)[s],
        }
    )
    ev.loc[ev["channel"] == WEB, "platform"] = None
    return ev[COLUMNS]


def _within_session_offsets(rng: np.random.Generator, s: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Cumulative 8-120 s gaps restarting at every session (first event at offset 0)."""
    gap = rng.integers(8_000, 120_000, len(s))
    cs = np.cumsum(gap)
    first = np.cumsum(count) - count
    return cs - np.repeat(cs[first], count)
