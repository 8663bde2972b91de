"""Products: categories, brands, prices over time, popularity, slow movers and promotions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .params import GenerateParams
from .util import Calendar, fmt_ids, rng_for, unique_ints

CATEGORIES = ("apparel", "beauty", "electronics", "grocery", "home", "pet", "sports", "toys")
_MEDIAN_PRICE = np.array([35.0, 18.0, 120.0, 6.0, 40.0, 15.0, 45.0, 25.0])
_NOUNS = (
    ("Hoodie", "Tee", "Jacket", "Jeans", "Socks", "Cap"),
    ("Serum", "Lip Balm", "Shampoo", "Face Cream", "Sunscreen", "Mascara"),
    ("Headphones", "Charger", "Speaker", "Smartwatch", "Keyboard", "Webcam"),
    ("Coffee Beans", "Granola", "Olive Oil", "Pasta", "Green Tea", "Trail Mix"),
    ("Throw Pillow", "Candle", "Cookware Set", "Towel Set", "Lamp", "Storage Bin"),
    ("Dog Food", "Cat Litter", "Chew Toy", "Pet Bed", "Leash", "Treats"),
    ("Yoga Mat", "Dumbbells", "Water Bottle", "Running Belt", "Jump Rope", "Tennis Balls"),
    ("Puzzle", "Building Blocks", "Plush Bear", "Board Game", "Toy Car", "Art Kit"),
)
_BRANDS = (
    "Lumio",
    "Kestrelle",
    "Brightfold",
    "Norvane",
    "Solvex",
    "Quillmark",
    "Tavora",
    "Zentrix",
    "Orrin & Co",
    "Veltura",
    "Pinecrest",
    "Astrelle",
    "Corvana",
    "Mistral Goods",
    "Halden",
)
_ADJ = ("Classic", "Pro", "Eco", "Ultra", "Essential", "Premium", "Mini", "Max", "Everyday", "Signature")
PROMO_MIN_DAYS = 10  # a promotion window starts on day 5 or later and lasts up to 5 days
MAX_COST_SHARE = 0.9  # a unit cost is at most this share of the list price
# planted SKU trends start trend_days before the end and need about four months before them to stand against (conf
# gold.sku_trends: 84 baseline + 28 recent days): shorter periods have none
TREND_MIN_DAYS = 112
MAX_TREND_SHARE = 0.8  # a breakout SKU's share of its category's choices after the trend at most this


@dataclass
class Promotion:
    """A window where a set of SKUs gets `uplift` x its normal demand."""

    start: int
    end: int  # inclusive
    uplift: float
    skus: np.ndarray


@dataclass
class Trend:
    """A SKU that sells about `factor` x its units from day `start` to the end: a breakout (> 1) or a collapse."""

    sku: int
    start: int
    factor: float

    @property
    def kind(self) -> str:
        return "breakout" if self.factor > 1 else "collapse"


@dataclass
class Pair:
    """Bought together: an order with a line of `antecedent` and none of `consequent` gets a unit of `consequent`
    with `probability` (baskets._pair_lines)."""

    antecedent: int
    consequent: int
    probability: float


@dataclass
class Assortment:
    """The generated product assortment: all SKUs with their daily list price / unit cost and demand weights
    (not jobs.io.tables.Catalog, the table catalog)."""

    sku: np.ndarray
    category: np.ndarray
    brand: np.ndarray
    name: np.ndarray
    launched: np.ndarray
    base_price: np.ndarray
    popularity: np.ndarray
    slow: np.ndarray
    price: np.ndarray  # (days, skus) list price per day
    cost: np.ndarray  # (days, skus) unit cost per day
    changes: list[tuple[int, int]] = field(default_factory=list)  # (day, sku) product update rows
    drift_changes: list[tuple[int, int]] = field(default_factory=list)  # (day, sku) update rows of the price drift
    undrifted: np.ndarray | None = None  # (days, skus) list price without the planted price drift (None: no drift)
    promos: list[Promotion] = field(default_factory=list)
    promo_day: np.ndarray | None = None  # (days, skus) bool
    weight: np.ndarray | None = None  # (days, skus) demand weight without promotions
    trends: list[Trend] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of SKUs."""
        return len(self.sku)


def build_assortment(params: GenerateParams, cal: Calendar) -> Assortment:
    """Draw SKUs, prices, popularity, slow movers, promotions and price changes."""
    rng = rng_for(params.seed, "catalog")  # the stream keeps its old name: a new one would change every dataset
    n = params.skus
    # every category once, the rest at random (fewer SKUs than categories: the first n categories)
    cat = np.concatenate(
        [np.arange(len(CATEGORIES))[:n], rng.integers(0, len(CATEGORIES), max(0, n - len(CATEGORIES)))]
    )
    rng.shuffle(cat)
    raw = _MEDIAN_PRICE[cat] * rng.lognormal(0.0, 0.45, n)
    price = np.maximum(np.floor(raw), 0.0) + 0.99
    cost = np.round(price * rng.uniform(0.45, 0.75, n), 2)
    brand = np.array(_BRANDS, dtype=object)[rng.integers(0, len(_BRANDS), n)]
    noun = np.array([_NOUNS[c][k] for c, k in zip(cat, rng.integers(0, 6, n), strict=True)], dtype=object)
    adj = np.array(_ADJ, dtype=object)[rng.integers(0, len(_ADJ), n)]
    launch_days = rng.integers(30, 2000, n)
    launched = np.array([cal.iso(-int(x)) for x in launch_days], dtype=object)
    rank = rng.permutation(n)
    pop = 1.0 / (rank + 1.0) ** 1.05
    slow = np.zeros(n, dtype=bool)
    tail = np.flatnonzero(rank >= n // 2)
    slow[rng.choice(tail, size=min(max(3, n // 25), len(tail), n - 1), replace=False)] = True  # 1 SKU: not slow
    pop[slow] *= 0.01
    assortment = Assortment(
        sku=fmt_ids("SKU-", unique_ints(rng, n, 100000, 1000000)),
        category=cat,
        brand=brand,
        name=brand + " " + adj + " " + noun,
        launched=launched,
        base_price=price,
        popularity=pop / pop.sum(),
        slow=slow,
        price=np.tile(price, (cal.days, 1)),
        cost=np.tile(cost, (cal.days, 1)),
    )
    assortment.promos = _promotions(rng, params, assortment)
    assortment.promo_day = np.zeros((cal.days, n), dtype=bool)
    for promo in assortment.promos:
        assortment.promo_day[promo.start : promo.end + 1, promo.skus] = True
    _price_changes(rng, assortment, cal.days, share=params.price_change_share)
    assortment.weight = assortment.popularity * (assortment.price / assortment.base_price) ** elasticities(params)[cat]
    _plant_trends(params, assortment)
    _plant_pairs(params, assortment)
    _drift_prices(params, assortment)
    return assortment


def elasticities(params: GenerateParams) -> np.ndarray:
    """Each category's elasticity (CATEGORIES' order): params.elasticity unless category_elasticity names it."""
    override = dict(params.category_elasticity)
    return np.array([override.get(c, params.elasticity) for c in CATEGORIES])


def _drift_prices(params: GenerateParams, cat: Assortment) -> None:
    """The planted price drift: from drift_day on every list price is drift_price x (to the cent, at least 0.01; unit
    costs stay at most MAX_COST_SHARE of it), announced by a product update row per SKU on that day (day 0: the full
    product file already has them). Demand weights and basket sizes keep the undrifted prices: shoppers choose the
    same SKUs and quantities and pay the new price. No random draws: the rest of the world stays as it was."""
    d = params.drift_day
    if d is None or params.drift_price == 1.0:
        return
    cat.undrifted = cat.price.copy()
    cat.price[d:] = np.maximum(np.round(cat.price[d:] * params.drift_price, 2), 0.01)
    cat.cost[d:] = np.minimum(cat.cost[d:], np.round(cat.price[d:] * MAX_COST_SHARE, 2))
    if d > 0:
        changing = {k for day, k in cat.changes if day == d}  # their own update row already carries the new price
        cat.drift_changes = [(d, k) for k in range(cat.n) if k not in changing]


def _plant_trends(params: GenerateParams, cat: Assortment) -> None:
    """The planted breakouts and collapses: `trend_skus` SKUs each, among the most popular of the SKUs that are not
    slow, promoted or repriced (their sales follow the trend alone), sell trend_breakout / trend_collapse x their
    units from trend_days before the end on. A demand weight sets a share s of its category's choices: units x f
    takes weight x f (1 - s) / (1 - f s), so a breakout is drawn from the SKUs with f s <= MAX_TREND_SHARE (one
    that sells most of its category cannot sell 6 x more; none such: no breakout). Its own random stream: the rest
    of the world draws what it drew before (its sales follow the new weights)."""
    if params.days < max(TREND_MIN_DAYS, params.trend_days + 1) or params.trend_skus == 0:
        return
    rng = rng_for(params.seed, "trends")
    start = params.days - params.trend_days
    plain = ~cat.slow
    plain[[k for _, k in cat.changes]] = False
    for promo in cat.promos:
        plain[promo.skus] = False
    eligible = np.flatnonzero(plain)
    weight = cat.weight[start]
    share = weight / np.bincount(cat.category, weights=weight)[cat.category]
    room = eligible[share[eligible] * params.trend_breakout <= MAX_TREND_SHARE]
    breakouts = _busiest(rng, cat, room, params.trend_skus)
    collapses = _busiest(rng, cat, np.setdiff1d(eligible, breakouts), params.trend_skus)
    for group, factor in ((breakouts, params.trend_breakout), (collapses, params.trend_collapse)):
        for sku in np.sort(group).tolist():
            s = share[sku]
            cat.weight[start:, sku] *= factor * (1 - s) / (1 - factor * s)
            cat.trends.append(Trend(sku, start, factor))


def _plant_pairs(params: GenerateParams, cat: Assortment) -> None:
    """The planted bought-together pairs: `basket_pairs` antecedents among the most popular SKUs that are not slow,
    promoted or trending, each with a consequent drawn from the rest of those (so neither side's own truth, a slow
    mover, a promotion's uplift or a trend, is disturbed by the other's lines); fewer when fewer than two such SKUs
    a pair. Its own random stream: the rest of the world draws what it drew before."""
    plain = ~cat.slow
    plain[[t.sku for t in cat.trends]] = False
    for promo in cat.promos:
        plain[promo.skus] = False
    eligible = np.flatnonzero(plain)
    n = min(params.basket_pairs, len(eligible) // 2)
    if n == 0:
        return
    rng = rng_for(params.seed, "basket_pairs")
    antecedents = _busiest(rng, cat, eligible, n)
    consequents = rng.choice(np.setdiff1d(eligible, antecedents), size=n, replace=False)
    for a, b in sorted(zip(antecedents.tolist(), consequents.tolist(), strict=True)):
        cat.pairs.append(Pair(a, b, params.basket_pair_probability))


def _busiest(rng: np.random.Generator, cat: Assortment, skus: np.ndarray, n: int) -> np.ndarray:
    """n of the 4n most popular of `skus` (enough sales to stand out from noise at any size)."""
    top = skus[np.argsort(-cat.popularity[skus], kind="stable")][: 4 * n]
    return rng.choice(top, size=min(len(top), n), replace=False)


def _promotions(rng: np.random.Generator, params: GenerateParams, cat: Assortment) -> list[Promotion]:
    """Non-overlapping 2-5 day windows, each on its own set of popular, non-slow SKUs.

    The first window starts on day 5 and lasts up to 5 days, so periods under PROMO_MIN_DAYS have none; with fewer
    non-slow SKUs than the promotions need, each gets fewer SKUs (at least one), then there are fewer promotions."""
    if params.days < PROMO_MIN_DAYS:
        return []
    n_promos = max(1, round(params.days / 45))
    per = int(np.clip(params.skus // 40, 3, 12))
    ranked = np.argsort(-cat.popularity, kind="stable")
    ranked = ranked[~cat.slow[ranked]]  # never empty: at least one SKU is not slow
    if len(ranked) < per * n_promos:
        per = min(per, len(ranked))
        n_promos = min(n_promos, len(ranked) // per)
    candidates = ranked[: max(per * n_promos, params.skus // 4)]
    chosen = rng.choice(candidates, size=per * n_promos, replace=False)
    seg = (params.days - 10) / n_promos
    promos = []
    for i in range(n_promos):
        length = int(rng.integers(2, 6))
        lo = 5 + int(i * seg)
        hi = max(lo + 1, 5 + int((i + 1) * seg) - length)
        start = int(rng.integers(lo, hi))
        skus = np.sort(chosen[i * per : (i + 1) * per])
        promos.append(Promotion(start, start + length - 1, params.promo_uplift, skus))
    return promos


def _price_changes(rng: np.random.Generator, cat: Assortment, days: int, *, share: float) -> None:
    """List price steps (markdowns / increases) of `share` of the SKUs (at least 2; from the non-slow, unpromoted
    ones) and unit cost increases, delivered as product updates (on a day in [3, days - 3]: periods under 6 days
    have none)."""
    if days < 6:
        return
    promoted = np.zeros(cat.n, dtype=bool)
    for promo in cat.promos:
        promoted[promo.skus] = True
    eligible = np.flatnonzero(~cat.slow & ~promoted)
    movers = rng.choice(eligible, size=min(len(eligible), max(2, int(cat.n * share + 1e-9))), replace=False)
    for sku in np.sort(movers).tolist():
        day = int(rng.integers(3, days - 2))
        factor = float(rng.choice([0.8, 0.85, 0.9, 1.1, 1.15]))
        cat.price[day:, sku] = np.floor(cat.base_price[sku] * factor) + 0.99
        cat.changes.append((day, sku))
    for sku in np.sort(rng.choice(cat.n, size=max(1, cat.n // 25), replace=False)).tolist():
        day = int(rng.integers(3, days - 2))
        cat.cost[day:, sku] = np.round(cat.cost[day, sku] * rng.uniform(1.03, 1.1), 2)
        cat.changes.append((day, sku))
    cat.cost = np.minimum(cat.cost, np.round(cat.price * MAX_COST_SHARE, 2))
    cat.changes = sorted(set(cat.changes))
