"""The planted traffic drift: from `drift_day` on, the `drift_channel` has `drift_traffic` (f) x its purchase occasions.

Applied to the finished no-drift world with its own random stream, so the days before the drift day keep their orders,
lines, events, returns and ids (the price drift: assortment._drift_prices; rendering: World.slots). Of the channel's n
non-fraud orders on or after the drift day, each stays floor(f) times and round(frac(f) x n) of them, at random, once
more. An order that goes takes its lines, funnel session and returns along; an account left without orders takes its
browse sessions along, and an account that browsed before the drift day keeps one order (its first from that day on),
so every account that browses still orders. Every copy beyond the first is an extra occasion of the same shopper,
store and day with its own basket, time, funnel session and returns. The channel's browse-only sessions from the
drift day on follow: thinned to f, or Poisson((f - 1) x the no-drift rate) more. Order ids are renumbered (web / app /
POS sequences; new marketplace numbers), which changes none before the drift day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .assortment import Assortment
from .baskets import build_orders
from .demand import Occasions
from .events import PREFIX, add_events, browse_base, browse_events, browse_visits, order_sessions
from .marketing import Campaign
from .orders import fresh_marketplace_ids, sequence_ids, settle
from .params import GenerateParams
from .people import APP, MKT, Idents, People
from .returns import build_returns
from .stores import Stores
from .taste import Taste
from .util import CHANNELS, DAY, Calendar, fmt_ids, rng_for


def shift_traffic(
    params: GenerateParams,
    cal: Calendar,
    people: People,
    taste: Taste,
    idents: Idents,
    stores: Stores,
    cat: Assortment,
    campaigns: list[Campaign],
    dropout: np.ndarray,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    events: dict[int, pd.DataFrame],
    returns: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, pd.DataFrame], pd.DataFrame, tuple[np.ndarray, int]]:
    """Orders, lines, events and returns with the drift channel's traffic scaled from the drift day on, and the
    orders' render slots (World.slots)."""
    rng = rng_for(params.seed, "drift")
    ch, first, f = CHANNELS.index(params.drift_channel), int(params.drift_day), params.drift_traffic
    channel, ident = orders["channel"].to_numpy(), orders["ident"].to_numpy()
    target = np.flatnonzero((channel == ch) & (orders["day"].to_numpy() >= first) & orders["fraud"].isna().to_numpy())
    whole, n = int(np.floor(f)), len(target)
    keep = _keepers(cal, idents, orders, events, ch, target, first) if whole == 0 else np.zeros(n, dtype=bool)
    ranked = np.lexsort((rng.random(n), ~keep))  # keepers first, the rest at random
    copies = np.full(n, whole)
    copies[ranked[: max(round((f - whole) * n), int(keep.sum()))]] += 1
    gone = np.zeros(len(orders), dtype=bool)
    gone[target[copies == 0]] = True
    in_ch = (channel == ch) & (ident >= 0)
    ordered, ordering = np.zeros(len(idents), dtype=bool), np.zeros(len(idents), dtype=bool)
    ordered[ident[in_ch]] = True
    ordering[ident[in_ch & ~gone]] = True
    orphans = idents.account[ordered & ~ordering]  # no order left: their (later) browsing goes too
    tmpl = orders.iloc[np.repeat(target, np.maximum(copies - 1, 0))]
    occ = Occasions(
        person=tmpl["person"].to_numpy(),
        day=tmpl["day"].to_numpy(),
        channel=tmpl["channel"].to_numpy(),
        store=tmpl["store"].to_numpy(),
        dropout=dropout,
    )
    x_orders, x_lines = build_orders(params, cal, people, taste, stores, cat, occ, campaigns, rng=rng)
    settle(rng, x_orders)
    x_lines = x_lines.sort_values("order", kind="mergesort").reset_index(drop=True)
    x_lines["line_no"] = x_lines.groupby("order").cumcount().to_numpy() + 1
    x_returns = build_returns(params, cal, x_orders, x_lines, rng=rng)
    x_events = order_sessions(rng, x_orders, x_lines, idents) if ch in PREFIX else None

    merged, old_at, new_at = _merge_orders(cal, stores, rng, orders, gone, x_orders)
    lines = pd.concat([_moved(lines[~gone[lines["order"].to_numpy()]], old_at), _moved(x_lines, new_at)])
    lines = lines.sort_values("order", kind="mergesort").reset_index(drop=True)
    returns = pd.concat([_moved(returns[~gone[returns["order"].to_numpy()]], old_at), _moved(x_returns, new_at)])
    returns = returns.sort_values(["updated", "order", "line_no"], kind="mergesort").reset_index(drop=True)
    returns["return_id"] = fmt_ids("R", 100_000_001 + np.arange(len(returns)))
    if x_events is not None:
        if f > 1.0:
            more = params.browse_ratio * (f - 1.0) * browse_base(cal, orders, ch) * (np.arange(cal.days) >= first)
            visits = browse_visits(rng, people, idents, merged, ch, more, dropout)
            browse = browse_events(rng, cal, people, taste, idents, cat, visits, campaigns)
            offset = int(x_events["session"].max()) + 1 if len(x_events) else 0
            x_events = pd.concat([x_events, browse.assign(session=browse["session"] + offset)], ignore_index=True)
        events = {**events, ch: _shift_events(rng, cal, events[ch], gone, orphans, channel, first, f, x_events, ch)}
    slot = np.empty(len(merged), dtype=np.int64)
    slot[old_at[old_at >= 0]] = np.flatnonzero(old_at >= 0)
    slot[new_at] = -1 - np.arange(len(new_at))
    return merged, lines, events, returns, (slot, len(orders))


def _moved(frame: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """Rows of old or extra orders with `order` the index in the merged orders."""
    return frame.assign(order=at[frame["order"].to_numpy()])


def _keepers(
    cal: Calendar,
    idents: Idents,
    orders: pd.DataFrame,
    events: dict[int, pd.DataFrame],
    ch: int,
    target: np.ndarray,
    first: int,
) -> np.ndarray:
    """Per target order: True for the first one of each identity that browsed before the drift day and has no other
    order (dropping all its orders would leave a browsing account without orders in days that must not change)."""
    ident = orders["ident"].to_numpy()
    other = (orders["channel"].to_numpy() == ch) & (ident >= 0)
    other[target] = False
    stays = np.zeros(len(idents), dtype=bool)
    stays[ident[other]] = True
    seen = np.zeros(len(idents), dtype=bool)
    if ch in PREFIX:
        ev = events[ch]
        early = ev["account"].to_numpy()[ev["ts_ms"].to_numpy() < (cal.epoch0 + first * DAY) * 1000]
        mine = np.flatnonzero(idents.channel == ch)
        seen[mine[np.isin(idents.account[mine], early[early != None])]] = True  # noqa: E711 - elementwise
    who = ident[target]
    need = np.flatnonzero((who >= 0) & seen[np.maximum(who, 0)] & ~stays[np.maximum(who, 0)])
    out = np.zeros(len(target), dtype=bool)
    out[need[np.unique(who[need], return_index=True)[1]]] = True
    return out


def _merge_orders(
    cal: Calendar,
    stores: Stores,
    rng: np.random.Generator,
    orders: pd.DataFrame,
    gone: np.ndarray,
    extra: pd.DataFrame,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Kept and extra orders sorted by channel and time (kept ones first on ties), ids renumbered; the new index of
    every old order (-1: dropped) and of every extra order."""
    kept = orders[~gone].assign(_extra=0, _pos=np.flatnonzero(~gone))
    parts = [kept, extra.assign(order_id=None, _extra=1, _pos=np.arange(len(extra)))] if len(extra) else [kept]
    merged = pd.concat(parts, ignore_index=True)
    merged = merged.sort_values(["channel", "ts", "_extra", "_pos"], kind="mergesort").reset_index(drop=True)
    is_extra = merged["_extra"].to_numpy() == 1
    old_at = np.full(len(orders), -1)
    old_at[merged["_pos"].to_numpy()[~is_extra]] = np.flatnonzero(~is_extra)
    new_at = np.full(len(extra), -1)
    new_at[merged["_pos"].to_numpy()[is_extra]] = np.flatnonzero(is_extra)
    ids = sequence_ids(cal, stores, merged)
    mkt = merged["channel"].to_numpy() == MKT
    ids[mkt & ~is_extra] = merged["order_id"].to_numpy()[mkt & ~is_extra]
    ids[mkt & is_extra] = fresh_marketplace_ids(rng, ids[mkt & ~is_extra], int((mkt & is_extra).sum()))
    merged["order_id"] = ids
    return merged.drop(columns=["_extra", "_pos"]), old_at, new_at


def _shift_events(
    rng: np.random.Generator,
    cal: Calendar,
    ev: pd.DataFrame,
    gone: np.ndarray,
    orphans: np.ndarray,
    channel: np.ndarray,
    first: int,
    f: float,
    extra: pd.DataFrame,
    ch: int,
) -> pd.DataFrame:
    """One channel's events without the dropped orders' funnel sessions and the sessions of accounts left without
    orders, its browse sessions from the drift day on thinned to f (f < 1), plus the extra events."""
    sessions = ev["session_id"].nunique()
    code = ev["session"].to_numpy()
    online = np.flatnonzero(channel <= APP)  # funnel session code = order index
    funnel = np.isin(code, online)
    drop = funnel & np.isin(code, np.flatnonzero(gone))
    drop |= np.isin(code, code[np.isin(ev["account"].to_numpy(), orphans)])
    if f < 1.0:
        start = ev.groupby("session")["ts_ms"].transform("min").to_numpy()
        late = ~funnel & ((start // 1000 - cal.epoch0) // DAY >= first)
        late_codes = np.unique(code[late])
        thinned = late_codes[rng.random(len(late_codes)) >= f]
        drop |= np.isin(code, thinned)
    ev = ev[~drop].reset_index(drop=True)
    return add_events(ev, extra, ch, sessions) if len(extra) else ev
