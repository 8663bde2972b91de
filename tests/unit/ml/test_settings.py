"""conf/ml.yaml is read as the `ml:` section, with env overrides on top, into typed settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from jobs.common.config import ConfigError, load_config
from ml.settings import ModelConfig, ml_settings


def _cfg(tmp_path: Path, **overrides: str):
    return load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(tmp_path), **overrides})


def test_defaults_names_and_model_configs(tmp_path):
    settings = ml_settings(_cfg(tmp_path))
    assert settings.registered_name("churn", 30) == "omnilake_churn_h30"
    assert settings.experiment_name("ltv") == "omnilake/ltv"
    assert settings.model("demand").horizon_days == 28
    churn = settings.model("churn")
    assert churn.gate.metric == "auc" and churn.gate.guards == {"ece": 0.05}
    assert churn.challenger.kind == "lgbm" and {b["name"] for b in churn.options["risk_bands"]} == {
        "high",
        "medium",
        "low",
    }


def test_environment_overrides_single_keys(tmp_path):
    settings = ml_settings(
        _cfg(tmp_path, OMNILAKE__ML__CHURN__HORIZON_DAYS="45", OMNILAKE__ML__HANDOFF__MAX_ROWS="1000")
    )
    assert settings.model("churn").horizon_days == 45
    assert settings.handoff.max_rows == 1000 and settings.handoff.seed == 17
    assert settings.model("churn").gate.metric == "auc"  # the rest of the section is still there


def test_a_missing_key_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNILAKE_CONF_DIR", str(tmp_path))  # no conf/ml.yaml to fall back on
    cfg = dataclasses.replace(
        _cfg(tmp_path), extra={"ml": {"experiment_prefix": "x/", "registered_model_prefix": "x", "min_history_days": 7}}
    )
    with pytest.raises(ConfigError, match="'ml.handoff' is missing"):
        ml_settings(cfg)
    with pytest.raises(ConfigError, match="section 'ml' is missing"):
        ml_settings(dataclasses.replace(cfg, extra={}))


def test_model_config_round_trips_as_json():
    config = ModelConfig("lgbm", {"num_leaves": 7, "calibration": "platt"})
    assert ModelConfig.from_json(config.to_json()) == config
