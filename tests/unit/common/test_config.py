from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml

from jobs.common.config import PROJECT_ROOT, ConfigError, deep_merge, load_config


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
    assert cfg.spark.conf["spark.sql.session.timeZone"] == "UTC"  # base keys of the same mapping stay
    assert cfg.paths.warehouse == str(tmp_path / "warehouse")
    assert cfg.paths.mlflow_tracking_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    assert cfg.ingest.contracts_dir == f"{PROJECT_ROOT}/conf/contracts"


def test_env_file_wins_over_base_and_env_vars_win_over_both(tmp_path: Path) -> None:
    base = {"OMNILAKE_HOME": str(tmp_path)}
    assert load_config(environ={**base, "OMNILAKE_ENV": "local"}).generate.customers == 2000  # base.yaml
    assert load_config(environ={**base, "OMNILAKE_ENV": "test"}).generate.customers == 300  # test.yaml
    test = load_config(environ={**base, "OMNILAKE_ENV": "test", "OMNILAKE__GENERATE__CUSTOMERS": "7"})
    assert test.generate.customers == 7
    assert test.generate.days == 60 and test.generate.seed == 7  # the rest: test.yaml, then base.yaml
    assert test.orchestration.retry_delay_seconds == 1 and test.orchestration.demo.airflow_parallelism == 2


def test_unknown_env_and_key_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OMNILAKE_ENV=nope"):
        load_config(environ={"OMNILAKE_ENV": "nope", "OMNILAKE_HOME": str(tmp_path)})
    with pytest.raises(ConfigError, match=r"'spark\.mastr' is not a known key"):
        load_config(environ={"OMNILAKE_HOME": str(tmp_path), "OMNILAKE__SPARK__MASTR": "x"})
    with pytest.raises(ConfigError, match=r"'reports' is not a known key"):
        load_config(environ={"OMNILAKE_HOME": str(tmp_path), "OMNILAKE__REPORTS__DAYS": "3"})


def test_wrong_type_names_the_full_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'gold\.alerts\.quarantine_spike\.baseline_days': .*valid integer"):
        load_config(
            environ={"OMNILAKE_HOME": str(tmp_path), "OMNILAKE__GOLD__ALERTS__QUARANTINE_SPIKE__BASELINE_DAYS": "week"}
        )
    with pytest.raises(ConfigError, match=r"'features\.lags_days\[1\]'"):
        load_config(environ={"OMNILAKE_HOME": str(tmp_path), "OMNILAKE__FEATURES__LAGS_DAYS": "[1, x]"})
    with pytest.raises(ConfigError, match=r"OMNILAKE__GENERATE__DAYS__MAX: 'days' is not a section"):
        load_config(environ={"OMNILAKE_HOME": str(tmp_path), "OMNILAKE__GENERATE__DAYS__MAX": "3"})


def test_a_missing_section_is_named(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT_ROOT / "conf", conf)
    raw = yaml.safe_load((conf / "base.yaml").read_text())
    del raw["orchestration"]
    (conf / "base.yaml").write_text(yaml.safe_dump(raw))
    (conf / "test.yaml").write_text("{}")
    with pytest.raises(ConfigError, match=r"'orchestration' is missing"):
        load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(tmp_path), "OMNILAKE_CONF_DIR": str(conf)})


def test_sections_are_frozen(tmp_path: Path) -> None:
    cfg = load_config(environ={"OMNILAKE_HOME": str(tmp_path)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.gold.excluded_statuses = ()  # type: ignore[misc]


def test_deep_merge_merges_mappings_and_replaces_the_rest() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    assert deep_merge(base, {"a": {"y": [3]}, "c": 2}) == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}  # inputs are not changed


@pytest.mark.parametrize("env", ["local", "test", "cluster"])
def test_every_env_loads(env: str, tmp_path: Path) -> None:
    cfg = load_config(environ={"OMNILAKE_ENV": env, "OMNILAKE_HOME": str(tmp_path)})
    assert cfg.env == env and cfg.gold.excluded_statuses == ("cancelled",) and cfg.ml.churn.horizon_days == 30


def test_conf_holds_only_base_and_env_files() -> None:
    assert sorted(p.name for p in (PROJECT_ROOT / "conf").glob("*.yaml")) == [
        "base.yaml",
        "cluster.yaml",
        "local.yaml",
        "test.yaml",
    ]


def test_cluster_env_points_spark_and_mlflow_at_the_cluster_section_ports(tmp_path: Path) -> None:
    """conf/cluster.yaml names ports only through {cluster.<key>}: one override moves the master and its users."""
    cfg = load_config(
        environ={
            "OMNILAKE_ENV": "cluster",
            "OMNILAKE_HOME": str(tmp_path),
            "OMNILAKE__CLUSTER__MASTER_PORT": "17077",
            "OMNILAKE__CLUSTER__MLFLOW_PORT": "15000",
        }
    )
    assert cfg.spark.master == "spark://127.0.0.1:17077"
    assert cfg.paths.mlflow_tracking_uri == "http://127.0.0.1:15000"
    assert cfg.cluster.dir == str(tmp_path / "cluster")
    assert cfg.spark.executor_python == str(tmp_path / "cluster" / "python" / "bin" / "python")
    assert cfg.spark.conf["spark.eventLog.dir"] == f"file://{tmp_path}/cluster/events"
    assert cfg.spark.ship_code and cfg.paths.mlflow_artifacts == "mlflow-artifacts:/omnilake"
    local = load_config(environ={"OMNILAKE_ENV": "local", "OMNILAKE_HOME": str(tmp_path)})
    assert local.spark.executor_python is None and not local.spark.ship_code
