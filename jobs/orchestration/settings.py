"""The `orchestration:` config section, typed. Cheap to load (two YAML files): DAG files call it at parse time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from jobs.common.config import PROJECT_ROOT, Config, ConfigError, load_config

SECTION = "orchestration"
FALLBACK_FILE = PROJECT_ROOT / "conf" / "orchestration.yaml"


@dataclass(frozen=True)
class QualitySettings:
    max_quarantine_rate: float
    max_freshness_lag_days: int


@dataclass(frozen=True)
class DemoSettings:
    customers: int
    days: int
    seed: int
    daily_days: int
    airflow_parallelism: int


@dataclass(frozen=True)
class Orchestration:
    timezone: str
    start_date: date
    daily_schedule: str
    retrain_schedule: str
    spark_conn_id: str
    retries: int
    retry_delay: timedelta
    retry_backoff: float
    max_retry_delay: timedelta
    python_timeout: timedelta
    spark_timeout: timedelta
    dagrun_timeout: timedelta
    quality: QualitySettings
    export_formats: tuple[str, ...]
    demo: DemoSettings


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) else value
    return out


def orchestration_section(cfg: Config, fallback: Path = FALLBACK_FILE) -> dict[str, Any]:
    """The raw section: conf/orchestration.yaml (base, then the env's block) under the merged config's own
    `orchestration:` (which includes OMNILAKE__ORCHESTRATION__* overrides). Either source alone is enough."""
    raw: dict[str, Any] = {}
    if fallback.exists():
        blocks = yaml.safe_load(fallback.read_text()) or {}
        for block in ("base", cfg.env):
            raw = _merge(raw, (blocks.get(block) or {}).get(SECTION) or {})
    raw = _merge(raw, cfg.extra.get(SECTION) or {})
    if not raw:
        raise ConfigError(f"config section '{SECTION}' is missing (env {cfg.env}) and {fallback} does not exist")
    return raw


def _formats(value: Any) -> tuple[str, ...]:
    formats = tuple(str(f) for f in value)
    if not formats or set(formats) - {"csv", "parquet"}:
        raise ConfigError(f"config '{SECTION}.export.formats' must list csv and/or parquet, got {list(formats)}")
    return formats


def load_settings(cfg: Config | None = None) -> Orchestration:
    """Typed settings of the current env (config loaded from the environment when not given)."""
    cfg = cfg or load_config()
    raw = orchestration_section(cfg)
    try:
        seconds = {
            k: timedelta(seconds=float(raw[f"{k}_seconds"]))
            for k in ("retry_delay", "max_retry_delay", "python_timeout", "spark_timeout", "dagrun_timeout")
        }
        quality, demo = raw["quality"], raw["demo"]
        return Orchestration(
            timezone=str(raw["timezone"]),
            start_date=date.fromisoformat(str(raw["start_date"])),
            daily_schedule=str(raw["daily_schedule"]),
            retrain_schedule=str(raw["retrain_schedule"]),
            spark_conn_id=str(raw["spark_conn_id"]),
            retries=int(raw["retries"]),
            retry_backoff=float(raw["retry_backoff"]),
            **seconds,
            quality=QualitySettings(
                max_quarantine_rate=float(quality["max_quarantine_rate"]),
                max_freshness_lag_days=int(quality["max_freshness_lag_days"]),
            ),
            export_formats=_formats(raw["export"]["formats"]),
            demo=DemoSettings(
                **{k: int(demo[k]) for k in ("customers", "days", "seed", "daily_days", "airflow_parallelism")}
            ),
        )
    except KeyError as exc:
        raise ConfigError(f"config '{SECTION}': missing key {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config '{SECTION}': {exc}") from exc
