"""Configuration: conf/base.yaml + conf/<OMNILAKE_ENV>.yaml + OMNILAKE__SECTION__KEY overrides, typed."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV_PREFIX = "OMNILAKE__"
# business-rule section files of the later layers, merged under base.yaml (which, like the env file, may override)
SECTION_FILES = ("gold_rules.yaml", "ml.yaml")


class ConfigError(ValueError):
    """A configuration file or override is wrong; the message names the key."""


@dataclass(frozen=True)
class Paths:
    warehouse: str
    landing: str
    exports: str
    secrets: str
    airflow_home: str
    mlflow_tracking_uri: str
    mlflow_artifacts: str
    jars: str


@dataclass(frozen=True)
class SparkSettings:
    master: str
    app_name: str
    driver_memory: str
    shuffle_partitions: int
    conf: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Logging:
    level: str = "INFO"
    json: bool = False


@dataclass(frozen=True)
class Zones:
    restricted: tuple[str, ...]
    all: tuple[str, ...]
    change_feed: tuple[str, ...] = ()  # tables of these zones are created with delta.enableChangeDataFeed=true


@dataclass(frozen=True)
class Business:
    channel_timezones: dict[str, str]
    default_country_code: str
    phone_national_digits: int


@dataclass(frozen=True)
class GenerateDefaults:
    customers: int
    days: int
    seed: int
    start_date: str
    stores: int
    skus: int
    dirt_rate: float
    taste_strength: float
    taste_groups: int


@dataclass(frozen=True)
class Ingest:
    contracts_dir: str
    conflict_retries: int


@dataclass(frozen=True)
class Config:
    env: str
    home: str
    paths: Paths
    spark: SparkSettings
    logging: Logging
    zones: Zones
    business: Business
    generate: GenerateDefaults
    ingest: Ingest
    extra: dict[str, Any] = field(default_factory=dict)  # sections owned by later layers (gold, ml, dags)

    def section(self, name: str) -> dict[str, Any]:
        """A raw config section that has no typed class (yet); KeyError names the missing section."""
        if name not in self.extra:
            raise ConfigError(f"config section '{name}' is missing (env {self.env})")
        return self.extra[name]


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _apply_env_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
        node = raw
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: '{key}' is not a section")
        node[keys[-1]] = yaml.safe_load(value)
    return raw


def _expand(value: Any, subst: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**subst) if "{" in value else value
    if isinstance(value, dict):
        return {k: _expand(v, subst) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, subst) for v in value]
    return value


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config '{where}' must be a mapping, got {type(raw).__name__}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(raw) - set(names)
    if unknown:
        raise ConfigError(f"config '{where}': unknown keys {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, fld in names.items():
        if name not in raw:
            if fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
                raise ConfigError(f"config '{where}.{name}' is missing")
            continue
        value = raw[name]
        if isinstance(value, list):
            value = tuple(value)
        if fld.type in ("int", int):
            value = int(value)
        elif fld.type in ("float", float):
            value = float(value)
        elif fld.type in ("str", str):
            value = str(value)
        elif fld.type == "dict[str, str]":
            value = {str(k): str(v) for k, v in (value or {}).items()}
        kwargs[name] = value
    return cls(**kwargs)


def load_config(env: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the config for `env` (default $OMNILAKE_ENV or 'local'); home is $OMNILAKE_HOME or ./.omnilake."""
    environ = os.environ if environ is None else environ
    env = env or environ.get("OMNILAKE_ENV", "local")
    conf_dir = Path(environ.get("OMNILAKE_CONF_DIR", PROJECT_ROOT / "conf"))
    env_file = conf_dir / f"{env}.yaml"
    if not env_file.exists():
        raise ConfigError(f"OMNILAKE_ENV={env}: no file {env_file}")
    raw: dict[str, Any] = {}
    for name in SECTION_FILES:
        if (conf_dir / name).exists():
            raw = _deep_merge(raw, _read_yaml(conf_dir / name))
    raw = _deep_merge(_deep_merge(raw, _read_yaml(conf_dir / "base.yaml")), _read_yaml(env_file))
    raw = _apply_env_overrides(raw, environ)
    home = str(Path(environ.get("OMNILAKE_HOME", ".omnilake")).resolve())
    raw = _expand(raw, {"home": home, "project": str(PROJECT_ROOT)})
    typed = {f.name: f.type for f in dataclasses.fields(Config)}
    sections = {
        "paths": Paths,
        "spark": SparkSettings,
        "logging": Logging,
        "zones": Zones,
        "business": Business,
        "generate": GenerateDefaults,
        "ingest": Ingest,
    }
    built = {name: _build(cls, raw.get(name, {}), name) for name, cls in sections.items()}
    extra = {k: v for k, v in raw.items() if k not in typed}
    return Config(env=env, home=home, extra=extra, **built)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data
