"""Turn purchase occasions into orders and order lines (SKU choice, quantity, price, promotions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .assortment import CATEGORIES, Assortment
from .demand import Occasions
from .marketing import Campaign, active_codes
from .params import GenerateParams
from .people import MKT, POS, WEB, People
from .stores import Stores
from .taste import Taste
from .util import DAY, Calendar, rng_for, rowwise_choice

ONLINE_HOURS = np.array(
    [
        1.0,
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.5,
        2.2,
        2.8,
        3.0,
        3.2,
        3.6,
        3.4,
        3.0,
        2.9,
        3.0,
        3.4,
        4.0,
        4.6,
        5.0,
        4.6,
        3.4,
        2.0,
    ]
)
POS_HOURS = np.array([0.0] * 9 + [1.5, 2.5, 3.0, 4.0, 3.6, 3.0, 3.0, 3.4, 4.2, 4.4, 3.2, 1.8] + [0.0] * 3)


def build_orders(
    params: GenerateParams,
    cal: Calendar,
    people: People,
    taste: Taste,
    stores: Stores,
    cat: Assortment,
    occ: Occasions,
    campaigns: list[Campaign],
    *,
    rng: np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders (one per occasion that keeps a line) and their lines, promotions and the planted bought-together lines
    included (`rng`: another stream than the baskets' own, for the planted traffic drift's extra orders)."""
    pair_rng = rng_for(params.seed, "basket_pair_lines") if rng is None else rng  # the baskets' draws stay as they were
    rng = rng_for(params.seed, "baskets") if rng is None else rng
    orders = pd.DataFrame({"person": occ.person, "channel": occ.channel, "day": occ.day, "store": occ.store})
    orders["ident"] = _idents(rng, people, orders)
    orders["ts"] = _timestamps(rng, cal, people, stores, orders)
    orders["campaign"] = _campaigns(rng, campaigns, orders)
    orders["fraud"] = None
    lines = _lines(rng, params, people, taste, stores, cat, orders)
    keep = np.unique(lines["order"].to_numpy())
    remap = np.full(len(orders), -1)
    remap[keep] = np.arange(len(keep))
    orders = orders.iloc[keep].reset_index(drop=True)
    lines["order"] = remap[lines["order"].to_numpy()]
    lines = pd.concat([lines, _promo_lines(rng, cal, stores, cat, orders, lines)], ignore_index=True)
    lines = pd.concat([lines, _pair_lines(pair_rng, stores, cat, orders, lines)], ignore_index=True)
    _price(cat, orders, lines)
    return orders, lines


def _idents(rng: np.random.Generator, people: People, orders: pd.DataFrame) -> np.ndarray:
    """Identity used per order: web alt accounts 30%, POS members forget the card 15%."""
    person, channel = orders["person"].to_numpy(), orders["channel"].to_numpy()
    known = person >= 0
    ident = np.full(len(person), -1)
    ident[known] = people.ident_of[person[known], channel[known]]
    alt = np.full(len(person), -1)
    alt[known] = people.ident_alt[person[known]]
    use_alt = (channel == WEB) & (alt >= 0) & (rng.random(len(person)) < 0.3)
    ident[use_alt] = alt[use_alt]
    ident[(channel == POS) & (rng.random(len(person)) < 0.15)] = -1
    return ident


def _timestamps(
    rng: np.random.Generator, cal: Calendar, people: People, stores: Stores, orders: pd.DataFrame
) -> np.ndarray:
    """UTC epoch seconds: online by the shopper's local hour (kept inside the UTC day), POS in store hours."""
    n = len(orders)
    day, channel = orders["day"].to_numpy(), orders["channel"].to_numpy()
    person, store = orders["person"].to_numpy(), orders["store"].to_numpy()
    pos = channel == POS
    home = np.where(person >= 0, people.store[np.maximum(person, 0)], 0)
    tz = stores.tz_idx[np.where(pos, store, home)]
    offset = stores.offsets[tz, day]
    hour = np.where(
        pos, rng.choice(24, n, p=POS_HOURS / POS_HOURS.sum()), rng.choice(24, n, p=ONLINE_HOURS / ONLINE_HOURS.sum())
    )
    local = hour * 3600 + rng.integers(0, 3600, n)
    online = 3600 + ((local - offset) % DAY) * (DAY - 3720) // DAY  # squeezed into [01:00, 23:58] UTC
    return cal.epoch0 + day * DAY + np.where(pos, local - offset, online)


def _campaigns(rng: np.random.Generator, campaigns: list[Campaign], orders: pd.DataFrame) -> np.ndarray:
    """About 20% of web/app orders carry a campaign code active that day."""
    out = np.full(len(orders), None, dtype=object)
    day, channel = orders["day"].to_numpy(), orders["channel"].to_numpy()
    hit = (channel <= 1) & (rng.random(len(orders)) < 0.2)
    for i in np.flatnonzero(hit):
        codes = active_codes(campaigns, int(channel[i]), int(day[i]))
        if codes:
            out[i] = codes[int(rng.integers(0, len(codes)))]
    return out


def sku_table(cat: Assortment) -> tuple[np.ndarray, np.ndarray]:
    """Blocked cumulative weights: value d*C + c + share for SKUs sorted by category, per day (a category without
    SKUs has an empty block: it must never be drawn)."""
    n_cat = len(CATEGORIES)
    order = np.argsort(cat.category, kind="stable")
    c_sorted = cat.category[order]
    cs = np.cumsum(cat.weight[:, order], axis=1)
    starts = np.searchsorted(c_sorted, np.arange(n_cat))
    ends = np.r_[starts[1:], cat.n] - 1
    base = np.where(starts > 0, cs[:, np.maximum(starts - 1, 0)], 0.0)
    within = (cs - base[:, c_sorted]) / (cs[:, ends] - base)[:, c_sorted]
    within[:, ends] = 1.0
    days = cat.weight.shape[0]
    return (np.arange(days)[:, None] * n_cat + c_sorted[None, :] + within).ravel(), order


def draw_skus(
    rng: np.random.Generator, table: tuple[np.ndarray, np.ndarray], n_cat: int, day: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """One SKU per (day, category) row, by that day's demand weights within the category."""
    grid, order = table
    u = rng.random(len(day)) * (1 - 1e-9) + 1e-9
    pos = np.searchsorted(grid, day * n_cat + category + u, side="left")
    return order[pos % len(order)]


def draw_tasted(
    rng: np.random.Generator,
    table: tuple[np.ndarray, np.ndarray],
    n_cat: int,
    taste: Taste,
    day: np.ndarray,
    category: np.ndarray,
    person: np.ndarray,
) -> np.ndarray:
    """draw_skus times the person's taste (rejection: exact, fast); walk-ins (person < 0) by day weights only."""
    sku = draw_skus(rng, table, n_cat, day, category)
    todo = np.flatnonzero(person >= 0)
    while len(todo):
        who = person[todo]
        keep = rng.random(len(todo)) * taste.cap[who, category[todo]] < taste.multiplier(who, sku[todo])
        todo = todo[~keep]
        sku[todo] = draw_skus(rng, table, n_cat, day[todo], category[todo])
    return sku


def _lines(
    rng: np.random.Generator,
    params: GenerateParams,
    people: People,
    taste: Taste,
    stores: Stores,
    cat: Assortment,
    orders: pd.DataFrame,
) -> pd.DataFrame:
    """Lines by category taste x SKU weights x item taste; POS lines must be stocked and not stocked out."""
    n_cat = len(CATEGORIES)
    table = sku_table(cat)
    n_lines = 1 + np.minimum(rng.poisson(np.where(orders["channel"] == POS, 1.0, 0.7)), 5)
    order = np.repeat(np.arange(len(orders)), n_lines)
    person = orders["person"].to_numpy()[order]
    day = orders["day"].to_numpy()[order]
    store = orders["store"].to_numpy()[order]
    walk_pref = np.bincount(cat.category, weights=cat.popularity, minlength=n_cat)
    prefs = np.where(person[:, None] >= 0, people.cat_pref[np.maximum(person, 0)], walk_pref)
    sku = draw_tasted(rng, table, n_cat, taste, day, rowwise_choice(rng, prefs), person)
    codes = stores.out_codes(cat.n)
    width = stores.n * cat.n
    for _ in range(25):
        pos = store >= 0
        bad = pos & ~stores.stocked[np.maximum(store, 0), sku]
        bad |= pos & np.isin(day * width + np.maximum(store, 0) * cat.n + sku, codes)
        if not bad.any():
            break
        sku[bad] = draw_tasted(rng, table, n_cat, taste, day[bad], rowwise_choice(rng, prefs[bad]), person[bad])
    keep = ~bad
    spend = np.where(person >= 0, people.spend[np.maximum(person, 0)], params.spend_mean)
    target = rng.gamma(6.0, spend / 6.0) / n_lines[order]
    price = (cat.price if cat.undrifted is None else cat.undrifted)[day, sku]  # basket sizes ignore the price drift
    qty = np.clip(np.round(target / price * rng.uniform(0.6, 1.4, len(sku))), 1, 12).astype(np.int64)
    return pd.DataFrame({"order": order[keep], "sku": sku[keep], "qty": qty[keep]})


def _promo_lines(
    rng: np.random.Generator, cal: Calendar, stores: Stores, cat: Assortment, orders: pd.DataFrame, lines: pd.DataFrame
) -> pd.DataFrame:
    """Extra lines so promoted SKUs sell about `uplift` x their season-adjusted baseline units."""
    season = cal.season()
    o_day, o_store = orders["day"].to_numpy(), orders["store"].to_numpy()
    l_day = o_day[lines["order"].to_numpy()]
    out = []
    for promo in cat.promos:
        window = np.zeros(cal.days, dtype=bool)
        window[promo.start : promo.end + 1] = True
        for sku in promo.skus.tolist():
            mine = lines["sku"].to_numpy() == sku
            units = np.bincount(l_day[mine], weights=lines["qty"].to_numpy()[mine], minlength=cal.days)
            rate = units[~window].sum() / season[~window].sum()
            mean_q = max(1.0, lines["qty"].to_numpy()[mine].mean()) if mine.any() else 1.0
            for d in range(promo.start, promo.end + 1):
                n_extra = rng.poisson((promo.uplift - 1.0) * rate * season[d] / mean_q)
                ok = np.flatnonzero((o_day == d) & ((o_store < 0) | stores.stocked[np.maximum(o_store, 0), sku]))
                if n_extra == 0 or len(ok) == 0:
                    continue
                qty = 1 + rng.poisson(mean_q - 1.0, n_extra)
                out.append(pd.DataFrame({"order": rng.choice(ok, n_extra), "sku": sku, "qty": qty}))
    return pd.concat(out, ignore_index=True) if out else _empty_lines()


def _pair_lines(
    rng: np.random.Generator, stores: Stores, cat: Assortment, orders: pd.DataFrame, lines: pd.DataFrame
) -> pd.DataFrame:
    """The planted bought-together lines: an order with a line of a pair's antecedent (a promotion's extra line
    too) and none of its consequent gets one unit of the consequent with the pair's probability; a store's order
    only when the store stocks it and is not out of it that day. Every candidate draws, stocked or not."""
    order, sku = lines["order"].to_numpy(), lines["sku"].to_numpy()
    day, store = orders["day"].to_numpy(), orders["store"].to_numpy()
    codes = stores.out_codes(cat.n)
    out = [_empty_lines()]
    for pair in cat.pairs:
        has = np.unique(order[sku == pair.antecedent])
        has = has[~np.isin(has, order[sku == pair.consequent])]
        drawn = rng.random(len(has)) < pair.probability
        at = np.maximum(store[has], 0)
        sells = stores.stocked[at, pair.consequent] & ~np.isin(
            day[has] * stores.n * cat.n + at * cat.n + pair.consequent, codes
        )
        added = has[drawn & ((store[has] < 0) | sells)]
        out.append(pd.DataFrame({"order": added, "sku": pair.consequent, "qty": 1}).astype("int64"))
    return pd.concat(out, ignore_index=True)


def _empty_lines() -> pd.DataFrame:
    return pd.DataFrame({c: np.array([], dtype=np.int64) for c in ("order", "sku", "qty")})


def _price(cat: Assortment, orders: pd.DataFrame, lines: pd.DataFrame) -> None:
    """List price of the day; 20% off promoted SKUs, 10% off campaign orders (not marketplace)."""
    order = lines["order"].to_numpy()
    day = orders["day"].to_numpy()[order]
    sku = lines["sku"].to_numpy()
    price = cat.price[day, sku]
    gross = price * lines["qty"].to_numpy()
    promo = cat.promo_day[day, sku]
    campaign = orders["campaign"].to_numpy()[order] != None  # noqa: E711 - elementwise
    rate = np.where(promo, 0.2, np.where(campaign, 0.1, 0.0))
    rate[orders["channel"].to_numpy()[order] == MKT] = 0.0
    lines["price"] = price
    lines["discount"] = np.round(gross * rate, 2)
