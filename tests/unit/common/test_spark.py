"""jobs.common.spark: the session factory's codegen setting (conf spark.codegen)."""

from __future__ import annotations

from pathlib import Path

from jobs.common.spark import build_spark, codegen_conf
from tests.support.config import make_config


def test_the_test_env_runs_interpreted_and_a_command_can_switch_the_session_either_way(spark, tmp_path: Path) -> None:
    assert {k: spark.conf.get(k) for k in codegen_conf(False)} == codegen_conf(False)
    try:
        assert build_spark(make_config(tmp_path, OMNILAKE__SPARK__CODEGEN="true")) is spark  # the one session
        assert {k: spark.conf.get(k) for k in codegen_conf(True)} == codegen_conf(True)
        assert spark.range(10).selectExpr("sum(id * 2) AS s").first()["s"] == 90
    finally:
        build_spark(make_config(tmp_path))
    assert {k: spark.conf.get(k) for k in codegen_conf(False)} == codegen_conf(False)
    assert spark.range(10).selectExpr("sum(id * 2) AS s").first()["s"] == 90
