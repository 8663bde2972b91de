"""The `gold:` and `features:` sections: business rules of gold analytics and point-in-time features.

Every key is required (conf/base.yaml carries them all); the transforms take these frozen rules as parameters.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Annotated

from pydantic import Field

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
class SalesDropAlert:
    min_drop: float
    high_drop: float
    min_base_revenue: float


@section
class ConversionDropAlert:
    min_drop: float
    high_drop: float
    min_views: int


@section
class SellThroughAlert:
    min_skus_in_stock: int


@section
class QuarantineSpikeAlert:
    max_rate: float
    high_rate: float
    spike_factor: float
    baseline_days: int


@section
class AlertRules:
    sales_drop: SalesDropAlert
    conversion_drop: ConversionDropAlert
    sell_through: SellThroughAlert
    quarantine_spike: QuarantineSpikeAlert


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
class GoldRules:
    snapshot_retention_days: int
    excluded_statuses: tuple[str, ...]  # order_lines.status values that are not sales (gold, features and ML)
    rfm: RfmTiers
    sku_matrix: SkuMatrixRules
    sell_through: SellThroughRules
    cohort: CohortRules
    attribution: AttributionRules
    inventory: InventoryRules
    alerts: AlertRules
    anomalies: AnomalyRules
    returns: ReturnsRules


@section
class FeatureRules:
    snapshot_retention_days: int
    windows_days: tuple[int, ...]
    engagement_days: int
    channels: tuple[str, ...]
    lags_days: tuple[int, ...]
    rolling_days: tuple[int, ...]
