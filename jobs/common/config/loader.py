"""Configuration: conf/base.yaml + conf/<OMNILAKE_ENV>.yaml + OMNILAKE__SECTION__KEY overrides, typed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from jobs.common.config.base import ConfigError, section
from jobs.common.config.gold import FeatureRules, GoldRules
from jobs.common.config.maintenance import Maintenance
from jobs.common.config.ml import MlSettings
from jobs.common.config.orchestration import Orchestration
from jobs.common.config.platform import (
    Business,
    ClusterSettings,
    GenerateDefaults,
    Ingest,
    Logging,
    Paths,
    SparkSettings,
    Zones,
)
from jobs.common.config.privacy import Privacy
from jobs.common.config.serving import Serving

PROJECT_ROOT = Path(__file__).resolve().parents[3]
ENV_PREFIX = "OMNILAKE__"


@section
class Config:
    """Every section of the effective configuration, validated and frozen."""

    env: str
    home: str
    paths: Paths
    spark: SparkSettings
    cluster: ClusterSettings
    logging: Logging
    zones: Zones
    business: Business
    generate: GenerateDefaults
    ingest: Ingest
    gold: GoldRules
    features: FeatureRules
    ml: MlSettings
    orchestration: Orchestration
    serving: Serving
    maintenance: Maintenance
    privacy: Privacy


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`: mappings merge key by key, anything else (lists too) replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _apply_env_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """OMNILAKE__A__B__C=value sets a.b.c to the YAML-parsed value (keys lower-cased); the value replaces what
    was there, a mapping included. Changes `raw` (freshly read by the caller) in place."""
    out = raw
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__")]
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: '{key}' is not a section")
        node[keys[-1]] = yaml.safe_load(value)
    return out


def _expand(value: Any, subst: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**subst) if "{" in value else value
    if isinstance(value, dict):
        return {k: _expand(v, subst) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, subst) for v in value]
    return value


@cache
def _validator() -> TypeAdapter[Config]:
    return TypeAdapter(Config)


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(f"[{k}]" if isinstance(k, int) else str(k) for k in loc).replace(".[", "[")


def _problem(error: Mapping[str, Any]) -> str:
    key = _dotted(error["loc"])
    if error["type"] == "missing":
        return f"config '{key}' is missing"
    if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"config '{key}' is not a known key"
    return f"config '{key}': {error['msg']} (got {error.get('input')!r})"


def build_config(raw: Mapping[str, Any]) -> Config:
    """Validate a merged, expanded mapping (with `env` and `home`) into Config; ConfigError names each bad key."""
    try:
        return _validator().validate_python(dict(raw))
    except ValidationError as exc:
        raise ConfigError("; ".join(_problem(e) for e in exc.errors())) from None


def load_config(env: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the config for `env` (default $OMNILAKE_ENV or 'local'); home is $OMNILAKE_HOME or ./.omnilake."""
    environ = os.environ if environ is None else environ
    env = env or environ.get("OMNILAKE_ENV", "local")
    conf_dir = Path(environ.get("OMNILAKE_CONF_DIR", PROJECT_ROOT / "conf"))
    env_file = conf_dir / f"{env}.yaml"
    if not env_file.exists():
        raise ConfigError(f"OMNILAKE_ENV={env}: no file {env_file}")
    raw = deep_merge(_read_yaml(conf_dir / "base.yaml"), _read_yaml(env_file))
    raw = _apply_env_overrides(raw, environ)
    home = str(Path(environ.get("OMNILAKE_HOME", ".omnilake")).resolve())
    subst: dict[str, Any] = {"home": home, "project": str(PROJECT_ROOT)}
    # {cluster.<key>} in any other value (e.g. spark.master's port) is the expanded cluster section's key
    cluster = _expand(raw.get("cluster") or {}, subst)
    raw = _expand({**raw, "cluster": cluster}, {**subst, "cluster": SimpleNamespace(**cluster)})
    return build_config({**raw, "env": env, "home": home})


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data
