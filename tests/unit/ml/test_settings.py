"""The `ml:` section of conf/base.yaml, with env overrides on top, in typed per-model settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.common.config import Config, ConfigError, load_config
from jobs.common.config.ml import (
    ChurnSettings,
    DemandLevels,
    InteractionWeights,
    ModelConfig,
    RecommendSettings,
    RiskBand,
)


def _cfg(tmp_path: Path, **overrides: str) -> Config:
    return load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(tmp_path), **overrides})


def test_defaults_names_and_model_configs(tmp_path: Path) -> None:
    settings = _cfg(tmp_path).ml
    assert settings.registered_name("churn", 30) == "omnilake_churn_h30"
    assert settings.experiment_name("ltv") == "omnilake/ltv"
    assert settings.model("demand").horizon_days == 28
    assert settings.gate.refresh_champion is True and settings.summary_buckets == 16
    churn = settings.model("churn")
    assert isinstance(churn, ChurnSettings) and churn.name == "churn"
    assert churn.gate.metric == "auc" and churn.gate.guards == {"ece": 0.05}
    assert churn.challenger.kind == "lgbm" and churn.top_reasons == 3
    assert churn.risk_bands == (RiskBand("high", 0.7), RiskBand("medium", 0.4), RiskBand("low", 0.0))
    assert settings.demand.levels == DemandLevels(n_samples=1000, seed=7, series_per_chunk=2000)
    recommend = settings.recommend
    assert isinstance(recommend, RecommendSettings) and (recommend.top_n, recommend.evaluate.k) == (10, 10)
    assert recommend.weights == InteractionWeights(purchase=5.0, cart=2.0, view=1.0, imported_default=1.0)
    assert recommend.gate.guards == {}  # no guards unless listed


def test_environment_overrides_single_keys(tmp_path: Path) -> None:
    settings = _cfg(tmp_path, OMNILAKE__ML__CHURN__HORIZON_DAYS="45", OMNILAKE__ML__HANDOFF__MAX_ROWS="1000").ml
    assert settings.model("churn").horizon_days == 45
    assert settings.handoff.max_rows == 1000 and settings.handoff.seed == 17
    assert settings.model("churn").gate.metric == "auc"  # the rest of the section is still there


@pytest.mark.parametrize(
    "override,message",
    [
        ({"OMNILAKE__ML__CHURN__GATE__MARGIN": "wide"}, r"'ml\.churn\.gate\.margin': .*valid number"),
        ({"OMNILAKE__ML__CHURN__GATE__MARGN": "0.1"}, r"'ml\.churn\.gate\.margn' is not a known key"),
        ({"OMNILAKE__ML__HANDOFF": "{seed: 1}"}, r"'ml\.handoff\.max_rows' is missing"),
        ({"OMNILAKE__ML__RECOMMEND__TOP_N": "ten"}, r"'ml\.recommend\.top_n': .*valid integer"),
        (
            {"OMNILAKE__ML__CHURN__RISK_BANDS": "[{name: x}]"},
            r"'ml\.churn\.risk_bands\[0\]\.min_probability' is missing",
        ),
    ],
)
def test_a_bad_key_is_named(tmp_path: Path, override: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _cfg(tmp_path, **override)


def test_an_unknown_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'ml\.forecast' is missing"):
        _cfg(tmp_path).ml.model("forecast")


def test_model_config_round_trips_as_json() -> None:
    config = ModelConfig("lgbm", {"num_leaves": 7, "calibration": "platt"})
    assert ModelConfig.from_json(config.to_json()) == config
