"""Store inventory: daily end-of-day on_hand per stocked store x SKU with (s, S) replenishment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .assortment import Assortment
from .people import POS
from .stores import Stores
from .util import Calendar

LEAD_DAYS = 2


def build_inventory(
    cal: Calendar,
    stores: Stores,
    cat: Assortment,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    *,
    planned: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """One row per day x stocked pair: POS sales deplete, orders arrive after LEAD_DAYS, planted stock-outs; the
    (s, S) levels follow the daily sales rate of `planned` (orders, lines; default these: a planted traffic drift
    is one the stores did not plan for)."""
    store_of, sku_of = np.nonzero(stores.stocked)
    order = np.lexsort((cat.sku[sku_of].astype(str), store_of))
    store_of, sku_of = store_of[order], sku_of[order]
    n_pairs = len(store_of)
    pid = np.full(stores.stocked.shape, -1)
    pid[store_of, sku_of] = np.arange(n_pairs)
    sales = _pos_sales(cal, orders, lines, pid, n_pairs)
    outage = np.zeros((cal.days, n_pairs), dtype=bool)
    for so in stores.stockouts:
        outage[so.start : so.end + 1, pid[so.store, so.sku]] = True
    rate = (sales if planned is None else _pos_sales(cal, *planned, pid, n_pairs)).sum(axis=0) / cal.days
    top = np.ceil(np.maximum(6.0, rate * 14)).astype(np.int64) + 2
    low = np.ceil(rate * 5).astype(np.int64) + 2
    on_hand, on_order = _simulate(sales, outage, top, low)
    return pd.DataFrame(
        {
            "day": np.repeat(np.arange(cal.days), n_pairs),
            "store": np.tile(store_of, cal.days),
            "sku": np.tile(sku_of, cal.days),
            "on_hand": on_hand.ravel(),
            "on_order": on_order.ravel(),
        }
    )


def _pos_sales(cal: Calendar, orders: pd.DataFrame, lines: pd.DataFrame, pid: np.ndarray, n_pairs: int) -> np.ndarray:
    """Units sold per (local day, pair) over all POS lines."""
    o = lines["order"].to_numpy()
    pos = orders["channel"].to_numpy()[o] == POS
    day = orders["day"].to_numpy()[o][pos]
    pair = pid[orders["store"].to_numpy()[o][pos], lines["sku"].to_numpy()[pos]]
    if (pair < 0).any():
        raise AssertionError("POS sold an unstocked SKU")
    flat = np.bincount(day * n_pairs + pair, weights=lines["qty"].to_numpy()[pos], minlength=cal.days * n_pairs)
    return flat.reshape(cal.days, n_pairs).astype(np.int64)


def _simulate(sales: np.ndarray, outage: np.ndarray, top: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order up to `top` when position <= `low`; deliveries into an outage wait until it ends."""
    days, n = sales.shape
    pipe = np.zeros((days + LEAD_DAYS + 2, n), dtype=np.int64)
    oh = top.copy()
    on_order = np.zeros(n, dtype=np.int64)
    hist_oh = np.zeros((days, n), dtype=np.int64)
    hist_oo = np.zeros((days, n), dtype=np.int64)
    for d in range(days):
        win = outage[d]
        recv = pipe[d].copy()
        pipe[d + 1][win] += recv[win]
        recv[win] = 0
        on_order -= recv
        oh = oh + recv - sales[d]
        short = (oh < 1) & ~win
        oh[short] = np.maximum(oh[short], 0) + top[short]  # emergency same-day transfer from another store
        oh[win] = 0
        position = oh + on_order
        qty = np.where((position <= low) & ~win, top - position, 0)
        qty = np.where(win & (on_order == 0), top, qty)
        pipe[d + LEAD_DAYS] += qty
        on_order += qty
        hist_oh[d], hist_oo[d] = oh, on_order
    return hist_oh, hist_oo
