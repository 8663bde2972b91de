"""Parameters of the synthetic landing-zone generator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .util import CHANNELS


@dataclass(frozen=True)
class GenerateParams:
    """Knobs of one generator run; the same params always give byte-identical files."""

    customers: int = 2000
    days: int = 120
    seed: int = 7
    start_date: date = date(2025, 1, 1)
    stores: int = 20
    skus: int = 500
    dirt_rate: float = 0.005  # share of rows that get some dirt; every dirt kind planted at least once
    churn_share: float = 0.3  # about this share of persons drop out (BG/NBD) within the period
    rate_shape: float = 0.8  # r of the purchase rate lambda ~ Gamma(r, alpha), purchases per day
    rate_alpha: float = 20.0  # alpha of lambda ~ Gamma(r, alpha); mean rate = r / alpha per day
    spend_mean: float = 60.0  # population mean of the Gamma-Gamma order spend target (realized values run higher)
    crm_share: float = 0.55  # share of persons who are CRM members
    walk_in_share: float = 0.4  # share of POS receipts from shoppers outside the person population
    browse_ratio: float = 4.0  # browse-only sessions per ordering web/app session
    return_rate: float = 0.05  # share of order lines that get returned
    elasticity: float = -1.5  # price elasticity of demand (of a SKU's choice weight within its category)
    # per category overrides of `elasticity`, ((category, elasticity), ...): assortment.CATEGORIES' names
    category_elasticity: tuple[tuple[str, float], ...] = ()
    price_change_share: float = 0.2  # share of the SKUs whose list price steps once (-20% .. +15%) in the period
    promo_uplift: float = 10.0  # demand multiplier of promoted SKUs inside a promotion window
    weekend_uplift: float = 1.3  # Saturday/Sunday demand multiplier
    yearly_amplitude: float = 0.15  # amplitude of the yearly sinusoid (peak mid-December)
    taste_strength: float = 3.0  # SKU choice weight x exp(strength * <person, sku> factors); 0 = no personal taste
    taste_groups: int = 16  # latent taste groups, shared by people with similar category taste
    # planted drift (model monitoring): from day index drift_day on (None = no drift) every list price is drift_price x
    # and the drift_channel's purchase occasions (with their sessions and its browse sessions) drift_traffic x
    drift_day: int | None = None
    drift_channel: str = "web"  # one of util.CHANNELS: web, app, marketplace, pos
    drift_traffic: float = 0.4  # < 1: traffic drop, > 1: surge
    drift_price: float = 1.25
    # planted SKU trends (gold.sku_trends): trend_skus breakouts and as many collapses, from trend_days before the end
    # on, at trend_breakout / trend_collapse x their demand weight (periods of at least assortment.TREND_MIN_DAYS)
    trend_skus: int = 2
    trend_days: int = 28
    trend_breakout: float = 10.0
    trend_collapse: float = 0.05
    # planted bought-together pairs (gold.basket_rules): basket_pairs SKUs A each with their own SKU B; an order with
    # A and without B gets a unit of B with basket_pair_probability (assortment._plant_pairs, baskets._pair_lines).
    basket_pairs: int = 3
    basket_pair_probability: float = 0.5

    def __post_init__(self) -> None:
        """Reject parameter values the generator cannot honour (any size down to 1 x 1 x 1 x 1 generates; what a
        small world has no room for is left out and listed in the manifest, see README)."""
        for name in ("customers", "days", "stores", "skus"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if not 0.0 <= self.dirt_rate < 0.2:
            raise ValueError("dirt_rate must be in [0, 0.2)")
        if not 0.0 < self.churn_share < 0.95:
            raise ValueError("churn_share must be in (0, 0.95)")
        if self.taste_strength < 0.0 or self.taste_groups < 1:
            raise ValueError("taste_strength must be >= 0 and taste_groups >= 1")
        if self.drift_day is not None and not 0 <= self.drift_day < self.days:
            raise ValueError(f"drift_day must be None or in [0, days) = [0, {self.days})")
        if self.drift_channel not in CHANNELS:
            raise ValueError(f"drift_channel must be one of {', '.join(CHANNELS)}")
        if not (self.drift_traffic > 0.0 and self.drift_price > 0.0):
            raise ValueError("drift_traffic and drift_price must be > 0")
        if self.trend_skus < 0 or self.trend_days < 1:
            raise ValueError("trend_skus must be >= 0 and trend_days >= 1")
        if not (self.trend_breakout > 1.0 and 0.0 < self.trend_collapse < 1.0):
            raise ValueError("trend_breakout must be > 1 and trend_collapse in (0, 1)")
        from .assortment import CATEGORIES

        unknown = sorted({c for c, _ in self.category_elasticity} - set(CATEGORIES))
        if unknown:
            raise ValueError(f"category_elasticity names unknown categories {unknown}: use {', '.join(CATEGORIES)}")
        if not 0.0 <= self.price_change_share <= 1.0:
            raise ValueError("price_change_share must be in [0, 1]")
        if self.basket_pairs < 0 or not 0.0 < self.basket_pair_probability <= 1.0:
            raise ValueError("basket_pairs must be >= 0 and basket_pair_probability in (0, 1]")
