"""Simulated shoppers with planted taste clusters, shaped like silver.order_lines / silver.events.

Items 0..59 fall in 4 clusters of 15; every shopper belongs to one cluster and draws 85% of what they view, cart
and buy from it (by in-cluster popularity) and the rest from global popularity. A later window repeats the
process, so a recommender that finds the clusters beats one that only knows global popularity.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

AS_OF = date(2024, 5, 31)
N_ITEMS, N_CLUSTERS = 60, 4
ITEMS = [f"SKU-{i:03d}" for i in range(N_ITEMS)]


def _customer_id(i: int) -> str:
    return f"C-{i:05d}" if i % 7 else f"imp:ünïcode/{i:05d}"  # some ids look like imported ones


def _draw(rng: np.random.Generator, cluster: int, n: int, pop: np.ndarray) -> np.ndarray:
    members = np.arange(N_ITEMS)[np.arange(N_ITEMS) % N_CLUSTERS == cluster]
    in_cluster = rng.random(n) < 0.85
    own = rng.choice(members, size=n, p=pop[members] / pop[members].sum())
    anywhere = rng.choice(N_ITEMS, size=n, p=pop / pop.sum())
    return np.where(in_cluster, own, anywhere)


def simulate_shoppers(*, customers: int = 240, cold: int = 20, seed: int = 11) -> dict[str, pd.DataFrame]:
    """order_lines and events up to AS_OF, and `future` purchases (customer_id, item_id) in the next 30 days.

    The last `cold` customers have no history before AS_OF (cold start) but do buy afterwards.
    """
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, N_ITEMS + 1) ** 0.8
    pop = pop[rng.permutation(N_ITEMS)]
    lines, events, future = [], [], []
    for c in range(customers):
        cid, cluster = _customer_id(c), int(rng.integers(N_CLUSTERS))
        for item in _draw(rng, cluster, 6, pop) if c >= customers - cold else []:
            future.append((cid, ITEMS[item]))
        if c >= customers - cold:
            continue
        for k, item in enumerate(_draw(rng, cluster, int(rng.integers(3, 9)), pop)):
            day = AS_OF - timedelta(days=int(rng.integers(0, 90)))
            status = "cancelled" if rng.random() < 0.05 else "paid"
            lines.append(("web", f"O{c}-{k}", 1, cid, day, status, ITEMS[item], 1))
        for item in _draw(rng, cluster, int(rng.integers(5, 20)), pop):
            kind = "cart" if rng.random() < 0.3 else "view"
            events.append(("web", cid, AS_OF - timedelta(days=int(rng.integers(0, 90))), kind, ITEMS[item]))
        for item in _draw(rng, cluster, 6, pop):
            future.append((cid, ITEMS[item]))
    return {
        "order_lines": pd.DataFrame(
            lines, columns=["channel", "order_id", "line_no", "customer_id", "order_date", "status", "sku", "quantity"]
        ),
        "events": pd.DataFrame(events, columns=["channel", "customer_id", "event_date", "event_type", "sku"]),
        "future": pd.DataFrame(future, columns=["customer_id", "item_id"]).drop_duplicates(),
        "customers": pd.DataFrame({"customer_id": [_customer_id(c) for c in range(customers)]}),
        "cold": pd.DataFrame({"customer_id": [_customer_id(c) for c in range(customers - cold, customers)]}),
    }


def simulate_plays(*, users: int = 300, days: int = 120, seed: int = 5) -> pd.DataFrame:
    """A feedback log with no purchases, shaped like a streaming or rating service's: user, item, at (a timestamp),
    w (play count or rating; blank for about a tenth of rows). Users stay in one of the taste clusters over time;
    their activity is heavy-tailed (most users appear a few times, a few hundreds), and a tenth of users show up
    only in the last 20 days."""
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, N_ITEMS + 1) ** 0.8
    pop = pop[rng.permutation(N_ITEMS)]
    start = AS_OF - timedelta(days=days - 1)
    rows = []
    for u in range(users):
        cluster = int(rng.integers(N_CLUSTERS))
        n = int(min(400, 2 + rng.pareto(1.2) * 6))
        late = u % 10 == 0
        first_day = days - 20 if late else 0
        for item in _draw(rng, cluster, n, pop):
            day = start + timedelta(days=int(rng.integers(first_day, days)))
            at = f"{day.isoformat()} {int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}:00"
            weight = "" if rng.random() < 0.1 else str(int(rng.integers(1, 6)))
            rows.append((f"user-{u:04d}", f"track:{item:03d}", at, weight))
    return pd.DataFrame(rows, columns=["user", "item", "at", "w"])
