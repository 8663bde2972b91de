"""Physical stores: locations in several timezones, assortments and planted stock-outs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .assortment import Assortment
from .params import GenerateParams
from .util import Calendar, rng_for, tz_offsets

# city, state, region, timezone, phone area codes, zip prefix; ordered so small runs span timezones
CITIES = (
    ("New York", "NY", "Northeast", "America/New_York", ("212", "718", "917"), "100"),
    ("Chicago", "IL", "Midwest", "America/Chicago", ("312", "773"), "606"),
    ("Los Angeles", "CA", "West", "America/Los_Angeles", ("213", "310", "323"), "900"),
    ("Denver", "CO", "Mountain", "America/Denver", ("303", "720"), "802"),
    ("Boston", "MA", "Northeast", "America/New_York", ("617", "857"), "021"),
    ("Dallas", "TX", "South", "America/Chicago", ("214", "469"), "752"),
    ("Seattle", "WA", "West", "America/Los_Angeles", ("206",), "981"),
    ("Phoenix", "AZ", "Mountain", "America/Phoenix", ("602", "480"), "850"),
    ("Atlanta", "GA", "Southeast", "America/New_York", ("404", "678"), "303"),
    ("Houston", "TX", "South", "America/Chicago", ("713", "832"), "770"),
    ("San Francisco", "CA", "West", "America/Los_Angeles", ("415", "628"), "941"),
    ("Salt Lake City", "UT", "Mountain", "America/Denver", ("801",), "841"),
    ("Miami", "FL", "Southeast", "America/New_York", ("305", "786"), "331"),
    ("Minneapolis", "MN", "Midwest", "America/Chicago", ("612",), "554"),
    ("Portland", "OR", "West", "America/Los_Angeles", ("503", "971"), "972"),
    ("Philadelphia", "PA", "Northeast", "America/New_York", ("215", "267"), "191"),
)


@dataclass
class Stockout:
    """A store x SKU that has on_hand = 0 (and no POS sales) from start to end inclusive."""

    store: int
    sku: int
    start: int
    end: int


@dataclass
class Stores:
    """Store master data, assortments and stock-out windows."""

    store_id: np.ndarray
    name: np.ndarray
    city_idx: np.ndarray
    opened: np.ndarray
    tz_names: list[str]
    tz_idx: np.ndarray
    offsets: np.ndarray  # (n_tz, days) UTC offset seconds
    stocked: np.ndarray  # (stores, skus) bool
    stockouts: list[Stockout]

    @property
    def n(self) -> int:
        """Number of stores."""
        return len(self.store_id)

    def city(self, i: int) -> tuple:
        """The CITIES row of store i."""
        return CITIES[int(self.city_idx[i])]

    def out_codes(self, n_skus: int) -> np.ndarray:
        """Sorted codes day * (stores*skus) + store * skus + sku of every stocked-out store-SKU-day."""
        codes = [
            d * self.n * n_skus + s.store * n_skus + s.sku for s in self.stockouts for d in range(s.start, s.end + 1)
        ]
        return np.unique(np.array(codes, dtype=np.int64))


def build_stores(params: GenerateParams, cal: Calendar, cat: Assortment) -> Stores:
    """Stores round-robin over cities, assortments weighted to popular SKUs, stock-out windows."""
    rng = rng_for(params.seed, "stores")
    n = params.stores
    city_idx = np.arange(n) % len(CITIES)
    names = np.array(
        [
            f"OmniMart {CITIES[c][0]}" + (f" {i // len(CITIES) + 1}" if i >= len(CITIES) else "")
            for i, c in enumerate(city_idx)
        ],
        dtype=object,
    )
    tz_names = sorted({CITIES[c][3] for c in city_idx})
    tz_idx = np.array([tz_names.index(CITIES[c][3]) for c in city_idx])
    opened = np.array([cal.iso(-int(x)) for x in rng.integers(200, 5000, n)], dtype=object)
    stocked = np.zeros((n, cat.n), dtype=bool)
    w = cat.popularity**0.6
    for s in range(n):
        size = max(1, int(cat.n * rng.uniform(0.35, 0.6)))  # a store stocks at least one SKU
        stocked[s, rng.choice(cat.n, size=size, replace=False, p=w / w.sum())] = True
    stores = Stores(
        store_id=np.array([f"S{i + 1:03d}" for i in range(n)], dtype=object),
        name=names,
        city_idx=city_idx,
        opened=opened,
        tz_names=tz_names,
        tz_idx=tz_idx,
        offsets=tz_offsets(tz_names, cal),
        stocked=stocked,
        stockouts=[],
    )
    stores.stockouts = _stockouts(rng, params, cat, stocked)
    return stores


def _stockouts(
    rng: np.random.Generator, params: GenerateParams, cat: Assortment, stocked: np.ndarray
) -> list[Stockout]:
    """3-7 day windows on popular stocked SKUs, never on promoted or slow SKUs, starting on day 1 or later and
    ending before the last day (a window that does not fit the period is not planted: under 6 days, none fits)."""
    if params.days < 6:
        return []
    promoted = cat.promo_day.any(axis=0)
    count = max(2, round(params.stores * params.days / 60))
    out: list[Stockout] = []
    used: set[tuple[int, int]] = set()
    for _ in range(count * 50):
        if len(out) == count:
            break
        store = int(rng.integers(0, params.stores))
        ok = stocked[store] & ~promoted & ~cat.slow
        if not ok.any():
            continue
        w = np.where(ok, cat.popularity, 0.0)
        sku = int(rng.choice(cat.n, p=w / w.sum()))
        if (store, sku) in used:
            continue
        length = int(rng.integers(3, 8))
        if length > params.days - 3:
            continue
        used.add((store, sku))
        start = int(rng.integers(1, params.days - length - 1))
        out.append(Stockout(store, sku, start, start + length - 1))
    return sorted(out, key=lambda s: (s.start, s.store, s.sku))
