"""Typed business rules for gold and features, built once from the `gold:` / `features:` config sections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from jobs.common.config import ConfigError


def _get(raw: Mapping[str, Any], dotted: str, section: str) -> Any:
    node: Any = raw
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            raise ConfigError(f"config '{section}.{dotted}' is missing")
        node = node[key]
    return node


@dataclass(frozen=True)
class Tier:
    """A business tier; every bound is strict and optional (None: not checked)."""

    name: str
    max_recency_days: int | None = None
    min_recency_days: int | None = None
    min_orders: int | None = None
    min_spend: float | None = None


def _tier(raw: Mapping[str, Any]) -> Tier:
    try:
        return Tier(**raw)
    except TypeError as exc:
        raise ConfigError(f"config 'gold.rfm.tiers': {raw}: {exc}") from exc


@dataclass(frozen=True)
class RfmTiers:
    tiers: tuple[Tier, ...]
    default_tier: str


@dataclass(frozen=True)
class SkuMatrixRules:
    window_days: int
    high_sales_percentile: float
    high_margin_rate: float


@dataclass(frozen=True)
class SellThroughRules:
    window_days: int
    flag_below: float


@dataclass(frozen=True)
class InventoryRules:
    service_level: float
    lead_time_days: int
    demand_window_days: int

    @property
    def z(self) -> float:
        """Standard normal quantile of the service level (computed from config, not from data)."""
        return NormalDist().inv_cdf(self.service_level)


@dataclass(frozen=True)
class AlertRules:
    sales_min_drop: float
    sales_high_drop: float
    sales_min_base_revenue: float
    conversion_min_drop: float
    conversion_high_drop: float
    conversion_min_views: int
    sell_through_min_skus: int
    sell_through_flag_below: float
    quarantine_max_rate: float
    quarantine_high_rate: float
    quarantine_spike_factor: float
    quarantine_baseline_days: int


@dataclass(frozen=True)
class AnomalyRules:
    min_score: float
    window_days: int
    top_per_day: int


@dataclass(frozen=True)
class GoldRules:
    snapshot_retention_days: int
    excluded_statuses: tuple[str, ...]
    rfm: RfmTiers
    sku_matrix: SkuMatrixRules
    sell_through: SellThroughRules
    repurchase_days: int
    attribution_window_days: int
    inventory: InventoryRules
    alerts: AlertRules
    anomalies: AnomalyRules

    @classmethod
    def from_section(cls, raw: Mapping[str, Any]) -> GoldRules:
        """Build from the `gold:` section; a missing key raises ConfigError naming it."""

        def g(key: str) -> Any:
            return _get(raw, key, "gold")

        tiers = tuple(_tier(t) for t in g("rfm.tiers"))
        sell = SellThroughRules(int(g("sell_through.window_days")), float(g("sell_through.flag_below")))
        alerts = AlertRules(
            sales_min_drop=float(g("alerts.sales_drop.min_drop")),
            sales_high_drop=float(g("alerts.sales_drop.high_drop")),
            sales_min_base_revenue=float(g("alerts.sales_drop.min_base_revenue")),
            conversion_min_drop=float(g("alerts.conversion_drop.min_drop")),
            conversion_high_drop=float(g("alerts.conversion_drop.high_drop")),
            conversion_min_views=int(g("alerts.conversion_drop.min_views")),
            sell_through_min_skus=int(g("alerts.sell_through.min_skus_in_stock")),
            sell_through_flag_below=sell.flag_below,
            quarantine_max_rate=float(g("alerts.quarantine_spike.max_rate")),
            quarantine_high_rate=float(g("alerts.quarantine_spike.high_rate")),
            quarantine_spike_factor=float(g("alerts.quarantine_spike.spike_factor")),
            quarantine_baseline_days=int(g("alerts.quarantine_spike.baseline_days")),
        )
        return cls(
            snapshot_retention_days=int(g("snapshot_retention_days")),
            excluded_statuses=tuple(str(s) for s in g("excluded_statuses")),
            rfm=RfmTiers(tiers, str(g("rfm.default_tier"))),
            sku_matrix=SkuMatrixRules(
                int(g("sku_matrix.window_days")),
                float(g("sku_matrix.high_sales_percentile")),
                float(g("sku_matrix.high_margin_rate")),
            ),
            sell_through=sell,
            repurchase_days=int(g("cohort.repurchase_days")),
            attribution_window_days=int(g("attribution.window_days")),
            inventory=InventoryRules(
                float(g("inventory.service_level")),
                int(g("inventory.lead_time_days")),
                int(g("inventory.demand_window_days")),
            ),
            alerts=alerts,
            anomalies=AnomalyRules(
                float(g("anomalies.min_score")), int(g("anomalies.window_days")), int(g("anomalies.top_per_day"))
            ),
        )


@dataclass(frozen=True)
class FeatureRules:
    snapshot_retention_days: int
    windows_days: tuple[int, ...]
    engagement_days: int
    channels: tuple[str, ...]
    lags_days: tuple[int, ...]
    rolling_days: tuple[int, ...]

    @classmethod
    def from_section(cls, raw: Mapping[str, Any]) -> FeatureRules:
        """Build from the `features:` section; a missing key raises ConfigError naming it."""

        def ints(key: str) -> tuple[int, ...]:
            return tuple(int(v) for v in _get(raw, key, "features"))

        return cls(
            snapshot_retention_days=int(_get(raw, "snapshot_retention_days", "features")),
            windows_days=ints("windows_days"),
            engagement_days=int(_get(raw, "engagement_days", "features")),
            channels=tuple(str(c) for c in _get(raw, "channels", "features")),
            lags_days=ints("lags_days"),
            rolling_days=ints("rolling_days"),
        )
