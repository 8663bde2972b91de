from __future__ import annotations

from pathlib import Path

import pytest

from jobs.common.config import ConfigError, load_config


def test_env_file_and_overrides(tmp_path: Path) -> None:
    environ = {
        "OMNILAKE_ENV": "test",
        "OMNILAKE_HOME": str(tmp_path),
        "OMNILAKE__SPARK__MASTER": "local[3]",
        "OMNILAKE__GENERATE__CUSTOMERS": "42",
        "OMNILAKE__SPARK__CONF__SPARK.X": "y",
    }
    cfg = load_config(environ=environ)
    assert cfg.env == "test"
    assert cfg.spark.master == "local[3]"
    assert cfg.spark.shuffle_partitions == 2  # from conf/test.yaml over base
    assert cfg.generate.customers == 42
    assert cfg.spark.conf["spark.x"] == "y"
    assert cfg.paths.warehouse == str(tmp_path / "warehouse")
    assert cfg.paths.mlflow_tracking_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"


def test_unknown_env_and_key_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OMNILAKE_ENV=nope"):
        load_config(environ={"OMNILAKE_ENV": "nope", "OMNILAKE_HOME": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"'spark': unknown keys \['mastr'\]"):
        load_config(environ={"OMNILAKE_HOME": str(tmp_path), "OMNILAKE__SPARK__MASTR": "x"})


@pytest.mark.parametrize("env", ["local", "test", "cluster"])
def test_every_env_loads(env: str, tmp_path: Path) -> None:
    assert load_config(environ={"OMNILAKE_ENV": env, "OMNILAKE_HOME": str(tmp_path)}).env == env
