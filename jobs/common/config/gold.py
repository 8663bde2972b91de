"""The `gold:` and `features:` sections: business rules of gold analytics and point-in-time features.

Every key is required (conf/base.yaml carries them all); the transforms take these frozen rules as parameters.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, model_validator

from jobs.common.config.base import section


@section
class Tier:
    """A business tier; every bound is strict and optional (None: not checked)."""

    name: str
    max_recency_days: int | None = None
    min_recency_days: int | None = None
    min_orders: int | None = None
    min_spend: int | float | None = None  # an int stays an int: Spark compares it with decimal spend exactly


@section
class RfmTiers:
    tiers: tuple[Tier, ...]
    default_tier: str


@section
class SkuMatrixRules:
    window_days: int
    high_sales_percentile: float
    high_margin_rate: float


@section
class SellThroughRules:
    window_days: int
    flag_below: float


@section
class CohortRules:
    """gold.cohort_retention(_weekly): `repurchase_days`; gold.repurchase: `repurchase_windows_days` (each N: bought
    again within N days of the first order)."""

    repurchase_days: int
    repurchase_windows_days: Annotated[tuple[Annotated[int, Field(ge=1)], ...], Field(min_length=1)]


@section
class AttributionRules:
    window_days: int


@section
class InventoryRules:
    service_level: float
    lead_time_days: int
    demand_window_days: int

    @property
    def z(self) -> float:
        """Standard normal quantile of the service level (computed from config, not from data)."""
        return NormalDist().inv_cdf(self.service_level)


@section
class ReplenishmentRules:
    """gold.replenishment and gold.stock_transfers: supplier lead time per SKU (`lead_time_by_brand`, else
    `lead_time_by_category`, else `lead_time_days`), `review_days` between orders, order-up-to at the
    `service_level` quantile of demand over lead time + review, purchases in multiples of `pack_size`; a store gives
    stock to others only when on hand exceeds its order-up-to by more than `transfer_margin` (a fraction of it)."""

    lead_time_days: Annotated[int, Field(ge=1)]
    review_days: Annotated[int, Field(ge=1)]
    service_level: Annotated[float, Field(gt=0, lt=1)]
    pack_size: Annotated[int, Field(ge=1)]
    transfer_margin: Annotated[float, Field(ge=0)]
    lead_time_by_category: dict[str, Annotated[int, Field(ge=1)]]
    lead_time_by_brand: dict[str, Annotated[int, Field(ge=1)]]

    @property
    def z(self) -> float:
        """Standard normal quantile of the service level."""
        return NormalDist().inv_cdf(self.service_level)


@section
class SalesDropAlert:
    min_drop: float
    high_drop: float
    min_base_revenue: float
    # every rule: raised when its condition holds and did not (at this severity or above) on the `suppress_days`
    # days before; priority = `weight` x the rule's score in [0, 1] (jobs/gold/alerts.py)
    suppress_days: Annotated[int, Field(ge=0)]
    weight: Annotated[float, Field(gt=0)]


@section
class ConversionDropAlert:
    min_drop: float
    high_drop: float
    min_views: int
    suppress_days: Annotated[int, Field(ge=0)]
    weight: Annotated[float, Field(gt=0)]


@section
class StockAlert:
    """stock_below_reorder: on hand below the reorder point; a SKU `sells` from `min_daily_demand` units a day."""

    min_daily_demand: float
    suppress_days: Annotated[int, Field(ge=0)]
    weight: Annotated[float, Field(gt=0)]


@section
class SellThroughAlert:
    min_skus_in_stock: int
    suppress_days: Annotated[int, Field(ge=0)]
    weight: Annotated[float, Field(gt=0)]


@section
class QuarantineSpikeAlert:
    max_rate: float
    high_rate: float
    spike_factor: float
    baseline_days: int
    suppress_days: Annotated[int, Field(ge=0)]
    weight: Annotated[float, Field(gt=0)]


@section
class SalesTargetAlert:
    """sales_target: month-to-date revenue per channel of `monthly_revenue` (a channel not listed has no target)
    behind the pro-rata target by more than `tolerance` (high: `high_tolerance`), as a fraction of it."""

    monthly_revenue: dict[str, Annotated[float, Field(gt=0)]]
    tolerance: Annotated[float, Field(ge=0, lt=1)]
    high_tolerance: Annotated[float, Field(ge=0, lt=1)]
    suppress_days: Annotated[int, Field(ge=0)]
    weight: Annotated[float, Field(gt=0)]


@section
class SkuTrendAlert:
    """sku_breakout / sku_collapse: a SKU that gold.sku_trends (conf gold.sku_trends) calls a breakout or a collapse;
    high from `high_breakout_ratio` x its expected units up, or `high_collapse_ratio` x down."""

    high_breakout_ratio: Annotated[float, Field(gt=1)]
    high_collapse_ratio: Annotated[float, Field(gt=0, lt=1)]
    suppress_days: Annotated[int, Field(ge=0)]
    weight: Annotated[float, Field(gt=0)]


@section
class AlertRules:
    sales_drop: SalesDropAlert
    conversion_drop: ConversionDropAlert
    stock: StockAlert
    sell_through: SellThroughAlert
    quarantine_spike: QuarantineSpikeAlert
    sales_target: SalesTargetAlert
    sku_trend: SkuTrendAlert
    digest_top_n: Annotated[int, Field(ge=1)]  # gold.alert_digest: rows per day

    @property
    def max_suppress_days(self) -> int:
        """The longest suppression window: days before a rewritten date whose conditions the rules look at."""
        rules = (self.sales_drop, self.conversion_drop, self.stock, self.sell_through, self.quarantine_spike)
        return max(r.suppress_days for r in (*rules, self.sales_target, self.sku_trend))


@section
class AnomalyRules:
    min_score: float
    top_per_day: int
    window_days: int


@section
class ReturnsRules:
    """gold.returns_by_sku: a SKU is flagged when it sold at least `min_units` in the trailing `window_days` and its
    return rate is at least `min_ratio` x its category's; `top_reasons`: reasons listed per SKU."""

    window_days: int
    min_units: int
    min_ratio: float
    top_reasons: int


@section
class SkuTrendRules:
    """gold.sku_trends: units of the `recent_days` to a date against the `baseline_days` before them (scaled to the
    recent window); a breakout sells >= `breakout_ratio` x expected units, a collapse <= `collapse_ratio` x, each
    with |z| >= `min_z` (Poisson, of order lines) and at least `min_expected_lines` lines expected."""

    recent_days: Annotated[int, Field(ge=1)]
    baseline_days: Annotated[int, Field(ge=1)]
    breakout_ratio: Annotated[float, Field(gt=1)]
    collapse_ratio: Annotated[float, Field(gt=0, lt=1)]
    min_z: Annotated[float, Field(ge=0)]
    min_expected_lines: Annotated[float, Field(gt=0)]


@section
class BasketRules:
    """gold.basket_rules: rules X -> y (FP-Growth) over the orders of the trailing `window_days`, kept with X and y
    together in at least `min_support` of the orders and `min_orders` orders, confidence >= `min_confidence`, lift
    >= `min_lift`; the `max_rules` of highest lift. Also the bought-together candidates of ml.recommend."""

    window_days: Annotated[int, Field(ge=1)]
    min_support: Annotated[float, Field(gt=0, le=1)]
    min_orders: Annotated[int, Field(ge=1)]
    min_confidence: Annotated[float, Field(ge=0, le=1)]
    min_lift: Annotated[float, Field(ge=0)]
    max_rules: Annotated[int, Field(ge=1)]


@section
class GeographyRules:
    """gold.customer_geography: buyers, orders and GMV over the trailing `window_days`; a city with fewer than
    `min_city_customers` customers is shown as '(other)' within its state; `age_bands`: the lower edges of the age
    bands after the first (<first, first-(second-1), ..., last+)."""

    window_days: Annotated[int, Field(ge=1)]
    min_city_customers: Annotated[int, Field(ge=1)]
    age_bands: Annotated[tuple[Annotated[int, Field(ge=1)], ...], Field(min_length=1)]


@section
class CartAbandonmentRules:
    """gold.marketing_audiences, cart_abandonment: a SKU added to the cart at least `min_carts` times in the
    `window_days` to the as-of and not bought in them."""

    window_days: Annotated[int, Field(ge=1)]
    min_carts: Annotated[int, Field(ge=1)]
    action: str


@section
class BrowseWithoutBuyRules:
    """browse_without_buy: at least `min_views` views of one category's SKUs in the `window_days` to the as-of and
    nothing of that category bought in them."""

    window_days: Annotated[int, Field(ge=1)]
    min_views: Annotated[int, Field(ge=1)]
    action: str


@section
class DormantWinbackRules:
    """dormant_winback: no purchase for more than `min_recency_days`; the action of the CRM tier in `actions`, else
    `default_action` (non-members, tiers not listed)."""

    min_recency_days: Annotated[int, Field(ge=0)]
    actions: dict[str, str]
    default_action: str


@section
class HighValueAtRiskRules:
    """high_value_at_risk: churn_probability x expected_revenue above `min_value_at_risk`, from each customer's
    latest gold.churn_scores (`churn_horizon_days`) and gold.customer_ltv (`ltv_horizon_days`) on or before the
    as-of."""

    min_value_at_risk: Annotated[float, Field(ge=0)]
    churn_horizon_days: Annotated[int, Field(ge=1)]
    ltv_horizon_days: Annotated[int, Field(ge=1)]
    action: str


def _time_zone(name: str) -> str:
    """`name` when it is an IANA time zone (Spark reads the same database), else a ValueError naming it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


@section
class ContactRules:
    """Every audience row: the customer's most active hour and weekday in `timezone` (an IANA name), over their
    events and orders of the `window_days` to the as-of."""

    window_days: Annotated[int, Field(ge=1)]
    timezone: Annotated[str, AfterValidator(_time_zone)]


@section
class AudienceRules:
    """gold.marketing_audiences (jobs/gold/audiences.py)."""

    cart_abandonment: CartAbandonmentRules
    browse_without_buy: BrowseWithoutBuyRules
    dormant_winback: DormantWinbackRules
    high_value_at_risk: HighValueAtRiskRules
    contact: ContactRules


@section
class PriceResponseRules:
    """gold.price_response (jobs/gold/pricing.py): list price changes and promotions of the trailing
    `lookback_days`; each change compares units over the `window_days` before and after it (used once
    `min_after_days` of the after window have passed, with `min_lines` lines of the SKU on each side), a move of at
    least `min_step` of the price is a change; a category needs `min_changes` changes for an elasticity. A line
    discounted by at least `promo_min_discount` of its gross is a promotion line."""

    lookback_days: Annotated[int, Field(ge=1)]
    window_days: Annotated[int, Field(ge=1)]
    min_after_days: Annotated[int, Field(ge=1)]
    min_step: Annotated[float, Field(gt=0, lt=1)]
    min_lines: Annotated[int, Field(ge=1)]
    min_changes: Annotated[int, Field(ge=1)]
    promo_min_discount: Annotated[float, Field(gt=0, le=1)]

    @model_validator(mode="after")
    def _after_within_window(self) -> PriceResponseRules:
        if self.min_after_days > self.window_days:
            raise ValueError("min_after_days must be at most window_days")
        return self


@section
class MarkdownRules:
    """gold.markdowns: SKUs whose stores hold stock with no demand or at least `min_days_of_cover` days of cover get
    the discount that sells their stock in `clearance_days`, rounded up to `step`, at most `max_markdown`; with
    their category's elasticity when it is at or below -`min_elasticity`, else `default_elasticity`; the
    `max_skus` slowest are kept."""

    min_days_of_cover: Annotated[float, Field(gt=0)]
    clearance_days: Annotated[int, Field(ge=1)]
    max_markdown: Annotated[float, Field(gt=0, lt=1)]
    step: Annotated[float, Field(gt=0, le=1)]
    default_elasticity: Annotated[float, Field(lt=0)]
    min_elasticity: Annotated[float, Field(gt=0)]
    max_skus: Annotated[int, Field(ge=1)]


@section
class GoldRules:
    snapshot_retention_days: int
    parallel_tables: Annotated[int, Field(ge=1)]  # tables of one run written from this many driver threads
    excluded_statuses: tuple[str, ...]  # order_lines.status values that are not sales (gold, features and ML)
    rfm: RfmTiers
    sku_matrix: SkuMatrixRules
    sell_through: SellThroughRules
    cohort: CohortRules
    attribution: AttributionRules
    inventory: InventoryRules
    replenishment: ReplenishmentRules
    alerts: AlertRules
    anomalies: AnomalyRules
    returns: ReturnsRules
    sku_trends: SkuTrendRules
    geography: GeographyRules
    basket_rules: BasketRules
    audiences: AudienceRules
    price_response: PriceResponseRules
    markdowns: MarkdownRules


@section
class FeatureRules:
    snapshot_retention_days: int
    windows_days: tuple[int, ...]
    engagement_days: int
    channels: tuple[str, ...]
    lags_days: tuple[int, ...]
    rolling_days: tuple[int, ...]
