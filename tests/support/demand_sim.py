"""A small simulated store x SKU daily panel with planted weekly seasonality, promotions and stock-outs.

Shaped like features.item_store_day (store_id, sku, category, date, units, stockout, promo, price, list_price),
plus `expected`: the planted mean demand of the day (what a perfect model would forecast).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

START = date(2024, 1, 1)  # a Monday
CATEGORIES = ("bakery", "dairy", "snacks")
# weekday multipliers Mon..Sun per category: weekend peaks of different strength
WEEKLY = np.array(
    [[0.7, 0.8, 0.8, 0.9, 1.2, 1.7, 1.9], [1.0, 0.9, 0.9, 1.0, 1.1, 1.3, 0.8], [0.6, 0.6, 0.7, 0.8, 1.3, 2.0, 2.0]]
)
PROMO_UPLIFT = 3.0


def simulate_panel(*, stores: int = 4, skus: int = 12, days: int = 238, seed: int = 3) -> pd.DataFrame:
    """One row per store x SKU x day; promotions are 7-day windows per SKU in every store."""
    rng = np.random.default_rng(seed)
    cat = np.arange(skus) % len(CATEGORIES)
    base = rng.lognormal(np.log(4.0), 0.7, size=(stores, skus))
    list_price = np.round(rng.uniform(2.0, 20.0, size=skus), 2)
    dow = (np.arange(days) + START.weekday()) % 7
    promo = np.zeros((skus, days), dtype=bool)
    for s in range(skus):
        for begin in rng.choice(np.arange(0, days - 7, 7), size=3, replace=False) + rng.integers(0, 7):
            promo[s, begin : begin + 7] = True
    expected = base[:, :, None] * WEEKLY[cat][None, :, dow] * np.where(promo, PROMO_UPLIFT, 1.0)[None]
    units = rng.poisson(expected).astype(float)
    stockout = np.zeros_like(units, dtype=bool)
    for st in range(stores):
        for s in range(skus):
            for begin in rng.integers(0, days - 5, size=rng.poisson(2.0)):
                stockout[st, s, begin : begin + rng.integers(2, 6)] = True
    units[stockout] = 0.0
    st_i, sku_i, day_i = np.meshgrid(np.arange(stores), np.arange(skus), np.arange(days), indexing="ij")
    st_i, sku_i, day_i = st_i.ravel(), sku_i.ravel(), day_i.ravel()
    is_promo = promo[sku_i, day_i]
    return pd.DataFrame(
        {
            "store_id": [f"S{i:02d}" for i in st_i],
            "sku": [f"SKU{i:03d}" for i in sku_i],
            "category": np.asarray(CATEGORIES)[cat[sku_i]],
            "date": [START + timedelta(days=int(d)) for d in day_i],
            "units": units.ravel(),
            "stockout": stockout.ravel(),
            "promo": is_promo,
            "price": np.round(list_price[sku_i] * np.where(is_promo, 0.8, 1.0), 2),
            "list_price": list_price[sku_i],
            "expected": expected.ravel(),
        }
    )
