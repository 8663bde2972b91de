"""The `ml:` section: MLflow naming, the pandas hand-off, and per model its horizon, gate, challenger and options.

Each model's own options are typed fields of its settings class; their values live in conf/base.yaml only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import field
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from jobs.common.config.base import ConfigError, section


@section
class ModelConfig:
    """One candidate configuration: a model kind and its parameters (what the champion's config refers to).

    `params` stays a mapping: its keys depend on `kind` and are checked by that kind's parameter class at fit time.
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "params": dict(self.params)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        raw = json.loads(text)
        return cls(kind=str(raw["kind"]), params=dict(raw.get("params") or {}))


@section
class GateRule:
    """The promotion rule: `metric` must beat every comparator by `margin`; each guard metric at most its limit;
    each `no_worse` metric (same direction as `metric`) no worse than any comparator's by more than its relative
    tolerance (e.g. demand: better on category totals, and not worse at store x SKU, SKU, store or total)."""

    metric: str
    higher_is_better: bool
    margin: float
    relative: bool
    guards: Mapping[str, float] = field(default_factory=dict)  # no guards unless the model's gate lists some
    no_worse: Mapping[str, float] = field(default_factory=dict)  # metric -> relative tolerance


@section
class RealizedRule:
    """Monitoring once a horizon has passed (ml/monitoring): the version that served as of D - H, measured on what
    happened in (D - H, D] with the training comparison's own metric code. Alert when `metric` is worse than that
    version's validation value by more than `tolerance` (relative: a share of it), or a guard metric is above its
    limit."""

    metric: str
    higher_is_better: bool
    tolerance: float
    relative: bool
    guards: Mapping[str, float] = field(default_factory=dict)
    # days that must have happened since the scores (None: the whole horizon). Demand compares its forecasts with
    # the days that have happened so far, so a level shift shows within days, not after a horizon.
    min_days: int | None = None


@section
class MonitoringSettings:
    """`omnilake monitor` (ml/monitoring): drift against the training window, realized performance, retrain."""

    bins: int  # quantile bins of the reference histograms (10: deciles)
    psi_warn: float  # population stability index at or above which a feature / output is reported as shifting
    psi_alert: float  # ... and at or above which it alerts (when sampling alone would not reach it: noise_p)
    noise_p: float  # a PSI that sampling noise exceeds with at least this probability at the frames' sizes never alerts
    missing_increase: float  # a feature's missing share above its training share by more than this alerts
    min_rows: int  # fewer rows than this in the reference or the current frame: not judged
    clock_features: tuple[str, ...]  # features that move with the calendar (ages, days since): reported, never alert
    retrain_on: tuple[str, ...]  # checks whose alerts trigger omnilake_retrain (feature_drift, ..., realized)
    trigger_retrain: bool  # omnilake_daily triggers omnilake_retrain (with the reason) on such an alert


@section
class HandOff:
    max_rows: int
    seed: int


@section
class MlGate:
    refresh_champion: bool  # challenger lost: refit the champion's configuration on the newest window


@section
class ModelSettings:
    """What every model has; `gate: null` or `challenger: null` serves the label-free fallback only."""

    name: ClassVar[str]
    horizon_days: int
    gate: GateRule | None
    challenger: ModelConfig | None
    realized: RealizedRule  # monitoring: realized performance once a horizon has passed


@section
class LtvSettings(ModelSettings):
    name: ClassVar[str] = "ltv"


@section
class RiskBand:
    name: str
    min_probability: float


@section
class ChurnSettings(ModelSettings):
    name: ClassVar[str] = "churn"
    top_reasons: int  # features with the largest positive contribution to the churn log-odds
    risk_bands: tuple[RiskBand, ...]  # first band whose min_probability <= churn_probability wins


@section
class DemandLevels:
    """Scenario sampling of ml.models.demand.levels.aggregate_levels."""

    n_samples: int  # scenarios per series and day
    seed: int
    series_per_chunk: int  # series one Python worker draws at a time (memory: ~70 B x n_samples each)


@section
class DemandFrame:
    """The training frame of ml.models.demand.features: its origin lattice and calendar."""

    origin_step_days: int  # days between training origins
    origins: int  # training origins per frame: a series gives about origins x horizon rows
    events: tuple[date, ...] = ()  # event and holiday days: the `event` feature of a target day


@section
class DemandSettings(ModelSettings):
    name: ClassVar[str] = "demand"
    levels: DemandLevels  # ml.models.demand.levels.aggregate_levels
    frame: DemandFrame


@section
class InteractionWeights:
    """Strength added per order line (purchase), cart event and view event.

    Imported interactions keep their own weight; `imported_default` stands in where an import has none.
    """

    purchase: float
    cart: float
    view: float
    imported_default: float


@section
class RecommendEvaluation:
    k: int  # precision / recall / ndcg @ k


@section
class BoughtTogether:
    """The bought-together candidate source (ml/models/recommend/together.py): the consequents of the rules of conf
    gold.basket_rules as of the recommendation date whose whole antecedent the customer bought in the `recent_days`
    to it, at most `slots` of them first in a customer's list, the ALS / popularity items after them."""

    enabled: bool
    recent_days: Annotated[int, Field(ge=1)]
    slots: Annotated[int, Field(ge=1)]


@section
class RecommendSettings(ModelSettings):
    name: ClassVar[str] = "recommend"
    top_n: int  # items per customer in gold.recommendations
    evaluate: RecommendEvaluation
    weights: InteractionWeights
    bought_together: BoughtTogether
    # What a later window's relevant items are: purchases; every feedback kind with a positive summed strength
    # (purchases, carts, views, imported interactions); or auto: purchases when the lake has any, else feedback.
    labels: Literal["auto", "purchases", "feedback"] = "auto"


@section
class EvaluateSettings:
    """`omnilake evaluate` defaults (ml/training/evaluate.py)."""

    origins: int  # rolling origins of the backtest
    step_days: int | None = None  # days between origins; None: the horizon (label windows that do not overlap)


@section
class MlSettings:
    experiment_prefix: str
    registered_model_prefix: str
    min_history_days: int
    summary_buckets: int
    handoff: HandOff
    gate: MlGate
    evaluate: EvaluateSettings
    monitoring: MonitoringSettings
    ltv: LtvSettings
    churn: ChurnSettings
    demand: DemandSettings
    recommend: RecommendSettings

    def model(self, name: str) -> ModelSettings:
        if name not in MODEL_NAMES:
            raise ConfigError(f"config 'ml.{name}' is missing")
        return getattr(self, name)

    def experiment_name(self, model: str) -> str:
        return f"{self.experiment_prefix}{model}"

    def registered_name(self, model: str, horizon_days: int) -> str:
        return f"{self.registered_model_prefix}_{model}_h{horizon_days}"


MODEL_NAMES = ("ltv", "churn", "demand", "recommend")
