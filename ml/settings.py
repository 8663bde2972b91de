"""Typed ML settings from the `ml:` config section (conf/ml.yaml until it is merged into conf/base.yaml)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jobs.common.config import PROJECT_ROOT, Config, ConfigError

# Sections owned by other layers that ML reads, and the file each lives in until merged into conf/base.yaml.
FALLBACK_FILES = {"ml": "ml.yaml", "gold": "gold_rules.yaml", "features": "gold_rules.yaml"}


def config_section(cfg: Config, name: str) -> dict[str, Any]:
    """`cfg.section(name)` laid over the section in its not-yet-merged conf file (when that file exists).

    Overrides from conf/<env>.yaml and OMNILAKE__<NAME>__* land in cfg.extra even before the merge, so they
    win over the file. A section found nowhere raises ConfigError naming it.
    """
    conf_dir = Path(os.environ.get("OMNILAKE_CONF_DIR", PROJECT_ROOT / "conf"))
    fallback = conf_dir / FALLBACK_FILES.get(name, f"{name}.yaml")
    base: dict[str, Any] = {}
    if fallback.exists():
        base = (yaml.safe_load(fallback.read_text()) or {}).get(name) or {}
    over = cfg.extra.get(name) or {}
    if not base and not over:
        raise ConfigError(f"config section '{name}' is missing (env {cfg.env}; looked in {fallback})")
    return _merge(base, over)


def excluded_statuses(cfg: Config) -> tuple[str, ...]:
    """`gold.excluded_statuses`: the order-line statuses that are not sales (jobs.gold.sales.sales_lines applies
    them). Required: the one definition of a sale that gold, features and ML share has no default of its own."""
    gold = config_section(cfg, "gold")
    if "excluded_statuses" not in gold:
        raise ConfigError("config 'gold.excluded_statuses' is missing")
    return tuple(str(s) for s in gold["excluded_statuses"] or ())


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) else value
        )
    return out


def _need(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise ConfigError(f"config 'ml.{where}{key}' is missing")
    return raw[key]


@dataclass(frozen=True)
class ModelConfig:
    """One candidate configuration: a model kind and its parameters (what the champion's config refers to)."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "params": dict(self.params)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        raw = json.loads(text)
        return cls(kind=str(raw["kind"]), params=dict(raw.get("params") or {}))


@dataclass(frozen=True)
class GateRule:
    """The promotion rule: `metric` must beat every comparator by `margin`; each guard metric at most its limit."""

    metric: str
    higher_is_better: bool
    margin: float
    relative: bool
    guards: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class HandOff:
    max_rows: int
    seed: int


@dataclass(frozen=True)
class ModelSettings:
    name: str
    horizon_days: int
    gate: GateRule | None
    challenger: ModelConfig | None
    options: Mapping[str, Any]  # model-specific keys (risk_bands, top_reasons, ...)


@dataclass(frozen=True)
class MlSettings:
    experiment_prefix: str
    registered_model_prefix: str
    min_history_days: int
    summary_buckets: int
    handoff: HandOff
    refresh_champion: bool
    models: Mapping[str, ModelSettings]

    def model(self, name: str) -> ModelSettings:
        if name not in self.models:
            raise ConfigError(f"config 'ml.{name}' is missing")
        return self.models[name]

    def experiment_name(self, model: str) -> str:
        return f"{self.experiment_prefix}{model}"

    def registered_name(self, model: str, horizon_days: int) -> str:
        return f"{self.registered_model_prefix}_{model}_h{horizon_days}"


MODEL_NAMES = ("ltv", "churn", "demand", "recommend")
_COMMON_KEYS = {"horizon_days", "gate", "challenger"}


def _model(name: str, raw: Mapping[str, Any]) -> ModelSettings:
    gate = None
    if "gate" in raw:
        g = raw["gate"]
        gate = GateRule(
            metric=str(_need(g, "metric", f"{name}.gate.")),
            higher_is_better=bool(_need(g, "higher_is_better", f"{name}.gate.")),
            margin=float(_need(g, "margin", f"{name}.gate.")),
            relative=bool(g.get("relative", False)),
            guards={str(k): float(v) for k, v in (g.get("guards") or {}).items()},
        )
    challenger = None
    if "challenger" in raw:
        c = raw["challenger"]
        challenger = ModelConfig(kind=str(_need(c, "kind", f"{name}.challenger.")), params=dict(c.get("params") or {}))
    return ModelSettings(
        name=name,
        horizon_days=int(_need(raw, "horizon_days", f"{name}.")),
        gate=gate,
        challenger=challenger,
        options={k: v for k, v in raw.items() if k not in _COMMON_KEYS},
    )


def ml_settings(cfg: Config) -> MlSettings:
    """The typed `ml:` section; a missing key raises ConfigError naming it."""
    raw = config_section(cfg, "ml")
    handoff = _need(raw, "handoff", "")
    models = {name: _model(name, raw[name]) for name in MODEL_NAMES if name in raw}
    return MlSettings(
        experiment_prefix=str(_need(raw, "experiment_prefix", "")),
        registered_model_prefix=str(_need(raw, "registered_model_prefix", "")),
        min_history_days=int(_need(raw, "min_history_days", "")),
        summary_buckets=int(raw.get("summary_buckets", 16)),
        handoff=HandOff(
            max_rows=int(_need(handoff, "max_rows", "handoff.")), seed=int(_need(handoff, "seed", "handoff."))
        ),
        refresh_champion=bool((raw.get("gate") or {}).get("refresh_champion", True)),
        models=models,
    )
