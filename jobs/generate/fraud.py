"""Planted fraud: a phone-sharing account ring, a high-velocity account, huge order amounts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import names
from .assortment import Assortment
from .params import GenerateParams
from .people import APP, WEB, Idents, People
from .stores import CITIES
from .util import DAY, Calendar, fmt_ids, rng_for, unique_ints


def add_fraud(
    params: GenerateParams,
    cal: Calendar,
    people: People,
    idents: Idents,
    cat: Assortment,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    dropout: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Append fraud identities to `idents`; return orders and lines with the fraud orders added.

    Short periods squeeze the patterns: the ring's two days and the velocity day are the period's first days when
    the usual ones do not fit, and large amounts need web buyers who joined 3+ days before the end (maybe none)."""
    rng = rng_for(params.seed, "fraud")
    expensive = _expensive(cat)
    taken = set(people.email.tolist())
    new_orders, new_lines = [], []
    ring = _new_idents(
        rng,
        idents,
        taken,
        count=int(np.clip(params.customers // 300, 6, 25)),
        channel=WEB,
        person=people.n,
        phone=people.spare_phones[0],
    )
    r0 = int(rng.integers(cal.days // 3, cal.days - 3)) if cal.days > 4 else 0
    per = rng.integers(2, 5, len(ring))
    who = np.repeat(ring, per)
    ts = cal.epoch0 + r0 * DAY + rng.integers(3600, min(2, cal.days) * DAY - 3600, len(who))
    new_orders.append(_frame(cal, who, idents, ts, "ring"))
    new_lines.append(_basket(rng, expensive, len(who), (1, 4), (1, 4)))
    velo = _new_idents(rng, idents, taken, count=1, channel=APP, person=people.n + 1, phone=people.spare_phones[1])
    v0 = int(rng.integers(1, cal.days - 1)) if cal.days > 2 else 0
    k = int(rng.integers(30, 61))
    ts = cal.epoch0 + v0 * DAY + np.sort(rng.integers(2 * 3600, 22 * 3600, k))
    new_orders.append(_frame(cal, np.repeat(velo, k), idents, ts, "velocity"))
    mid = np.argsort(-cat.popularity)[: max(10, cat.n // 10)]
    new_lines.append(_basket(rng, mid[~cat.slow[mid]], k, (1, 2), (1, 3)))
    web_ok = np.flatnonzero((people.ident_of[:, WEB] >= 0) & (dropout < 0) & (people.join_day < cal.days - 2))
    victims = rng.choice(web_ok, size=min(3, len(web_ok)), replace=False)
    days = np.array([int(rng.integers(people.join_day[v], cal.days)) for v in victims], dtype=np.int64)
    ts = cal.epoch0 + days * DAY + rng.integers(3600, DAY - 3600, len(victims))
    new_orders.append(_frame(cal, people.ident_of[victims, WEB], idents, ts, "large_amount"))
    new_lines.append(_basket(rng, expensive, len(victims), (1, 3), (40, 101)))
    offset = len(orders)
    for frame, basket in zip(new_orders, new_lines, strict=True):
        basket["order"] += offset
        offset += len(frame)
    add_o = pd.concat(new_orders, ignore_index=True)
    add_l = pd.concat(new_lines, ignore_index=True)
    add_l["price"] = cat.price[add_o["day"].to_numpy()[add_l["order"].to_numpy() - len(orders)], add_l["sku"]]
    add_l["discount"] = 0.0
    return pd.concat([orders, add_o], ignore_index=True), pd.concat([lines, add_l], ignore_index=True)


def _expensive(cat: Assortment) -> np.ndarray:
    """Non-slow SKUs in the top price decile (few SKUs: the priciest non-slow SKU when the decile is all slow)."""
    top = np.flatnonzero(~cat.slow & (cat.base_price >= np.quantile(cat.base_price, 0.9)))
    if len(top):
        return top
    return np.flatnonzero(~cat.slow & (cat.base_price == cat.base_price[~cat.slow].max()))


def _new_idents(
    rng: np.random.Generator, idents: Idents, taken: set[str], count: int, channel: int, person: int, phone: str
) -> np.ndarray:
    """`count` identities of one fraud person sharing one phone, each with its own name and email."""
    first = rng.choice(len(names.FIRST), count)
    last = rng.choice(len(names.LAST), count)
    emails = []
    for f, g in zip(first, last, strict=True):
        email = f"{names.ascii_word(names.FIRST[f])}{names.ascii_word(names.LAST[g])}{rng.integers(10, 99999)}"
        while f"{email}@example.net" in taken:
            email += str(rng.integers(0, 10))
        emails.append(f"{email}@example.net")
        taken.add(emails[-1])
    city = CITIES[int(rng.integers(0, len(CITIES)))]
    drops = [
        f"{rng.integers(100, 999)} Industrial Pkwy, Unit {k + 1}, {city[0]}, {city[1]} {city[5]}{k:02d}"
        for k in range(2)
    ]
    prefix, lo, hi = ("acc_", 10_000_000, 90_000_000) if channel == WEB else ("u", 100_000_000, 900_000_000)
    existing = set(idents.account[idents.channel == channel].tolist())
    fresh = [a for a in fmt_ids(prefix, unique_ints(rng, count + 64, lo, hi)).tolist() if a not in existing]
    part = Idents(
        person=np.full(count, person),
        channel=np.full(count, channel),
        account=np.array(fresh[:count], dtype=object),
        member_id=np.full(count, None, dtype=object),
        device=fmt_ids("d-", rng.integers(0, 2**48, 2), "012x")[np.arange(count) % 2],
        platform=np.full(count, None if channel == WEB else "app", dtype=object),
        phone=np.full(count, phone, dtype=object),
        email=np.array(emails, dtype=object),
        name=np.array([f"{names.FIRST[f]} {names.LAST[g]}" for f, g in zip(first, last, strict=True)], dtype=object),
        address=np.array([drops[k % 2] for k in range(count)], dtype=object),
    )
    return idents.extend(part)


def _frame(cal: Calendar, ident: np.ndarray, idents: Idents, ts: np.ndarray, kind: str) -> pd.DataFrame:
    """Order rows for fraud orders placed by the given identities at the given UTC times."""
    return pd.DataFrame(
        {
            "person": idents.person[ident],
            "channel": idents.channel[ident],
            "day": (ts - cal.epoch0) // DAY,
            "store": -1,
            "ident": ident,
            "ts": ts,
            "campaign": None,
            "fraud": kind,
        }
    )


def _basket(
    rng: np.random.Generator, pool: np.ndarray, n_orders: int, n_lines: tuple[int, int], qty: tuple[int, int]
) -> pd.DataFrame:
    """Random lines from a SKU pool for n_orders orders (order indices local, 0-based)."""
    k = rng.integers(*n_lines, n_orders)
    order = np.repeat(np.arange(n_orders), k)
    return pd.DataFrame({"order": order, "sku": rng.choice(pool, len(order)), "qty": rng.integers(*qty, len(order))})
