"""Finalize orders: stable ordering, statuses, payment types, source order ids and line numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .people import APP, MKT, POS, WEB
from .stores import Stores
from .util import Calendar, fmt_ids, rng_for, unique_ints

STATUSES = ("created", "paid", "shipped", "cancelled")
PAYMENTS = ("cash", "card", "wallet")
MKT_IDS = (1_000_000_000, 8_900_000_000)  # range of the marketplace order numbers


def finalize(
    seed: int, cal: Calendar, stores: Stores, orders: pd.DataFrame, lines: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sort by channel and time, assign ids/statuses/payment, number the lines of each order."""
    rng = rng_for(seed, "orders")
    orders = orders.copy()
    orders["tiebreak"] = rng.random(len(orders))
    orders = orders.sort_values(["channel", "ts", "tiebreak"], kind="mergesort")
    remap = np.empty(len(orders), dtype=np.int64)
    remap[orders.index.to_numpy()] = np.arange(len(orders))
    orders = orders.reset_index(drop=True).drop(columns="tiebreak")
    lines = lines.copy()
    lines["order"] = remap[lines["order"].to_numpy()]
    lines = lines.sort_values("order", kind="mergesort").reset_index(drop=True)
    lines["line_no"] = lines.groupby("order").cumcount().to_numpy() + 1
    settle(rng, orders)
    orders["order_id"] = _order_ids(rng, cal, stores, orders)
    return orders, lines


def settle(rng: np.random.Generator, orders: pd.DataFrame) -> None:
    """Set status (fraud orders paid, POS none), payment type (POS) and the order time in ms."""
    n = len(orders)
    channel = orders["channel"].to_numpy()
    status = np.array(STATUSES, dtype=object)[rng.choice([0, 1, 3], n, p=[0.04, 0.94, 0.02])]
    status[orders["fraud"].notna().to_numpy()] = "paid"
    status[channel == POS] = None
    orders["status"] = status
    orders["payment"] = np.where(
        channel == POS, np.array(PAYMENTS, dtype=object)[rng.choice(3, n, p=[0.2, 0.65, 0.15])], None
    )
    orders["ts_ms"] = orders["ts"].to_numpy() * 1000 + rng.integers(0, 1000, n)


def _order_ids(rng: np.random.Generator, cal: Calendar, stores: Stores, orders: pd.DataFrame) -> np.ndarray:
    """Sequence ids (see sequence_ids); marketplace: MP-<10 digits>."""
    out = sequence_ids(cal, stores, orders)
    mkt = orders["channel"].to_numpy() == MKT
    out[mkt] = fmt_ids("MP-", unique_ints(rng, int(mkt.sum()), *MKT_IDS))
    return out


def fresh_marketplace_ids(rng: np.random.Generator, taken: np.ndarray, n: int) -> np.ndarray:
    """n new marketplace order ids, none of them in `taken`."""
    fresh = fmt_ids("MP-", unique_ints(rng, n + len(taken), *MKT_IDS))
    return fresh[~np.isin(fresh, taken)][:n]


def sequence_ids(cal: Calendar, stores: Stores, orders: pd.DataFrame) -> np.ndarray:
    """Ids that number the orders sorted by channel and time: web: 9-digit sequence; app: A<yyyymmdd><seq6>;
    POS: <store>-<yyyymmdd>-<seq5> (marketplace: None)."""
    channel = orders["channel"].to_numpy()
    out = np.full(len(orders), None, dtype=object)
    ymd = np.array([cal.date(d).strftime("%Y%m%d") for d in range(cal.days)], dtype=object)
    web = channel == WEB
    out[web] = fmt_ids("", 100_000_001 + np.arange(int(web.sum())))
    app = channel == APP
    seq = orders[app].groupby("day").cumcount().to_numpy() + 1
    out[app] = [f"A{d}{s:06d}" for d, s in zip(ymd[orders["day"].to_numpy()[app]], seq, strict=True)]
    pos = channel == POS
    seq = orders[pos].groupby(["store", "day"]).cumcount().to_numpy() + 1
    stores_id = stores.store_id[orders["store"].to_numpy()[pos]]
    out[pos] = [f"{s}-{d}-{q:05d}" for s, d, q in zip(stores_id, ymd[orders["day"].to_numpy()[pos]], seq, strict=True)]
    return out
