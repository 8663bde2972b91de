"""The Airflow harness: environment, connection, and how `airflow dags test` output is followed."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from jobs.common.config import Config
from jobs.orchestration.harness import STEP_COMMANDS, RunResult, _Follower, airflow_env, missing_steps, write_env_file
from jobs.orchestration.settings import load_settings

TS = "2026-11-25T22:13:16.527112Z [info     ]"
HOOK = "[airflow.task.hooks.airflow.providers.apache.spark.hooks.spark_submit.SparkSubmitHook] loc=spark_submit.py:965"
OUTPUT = f"""\
{TS} [DAG TEST] starting task_id=ingest map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
{TS} Task instance state updated    [airflow.api_fastapi] loc=task_instances.py:254 rows_affected=1
{TS} [omnilake 00:12.3] ingest.bronze batches=12 secs=4.0 {HOOK}
{TS} Task instance state updated    [airflow.api_fastapi] loc=task_instances.py:485 new_state=success
{TS} [DAG TEST] end task task_id=ingest map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1563
{TS} [DAG TEST] starting task_id=quality_gate map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
2026-11-25T22:13:16.555130Z [error    ] Task failed with exception     [task] loc=task_runner.py:1676
Traceback (most recent call last):
  File "/x/task_runner.py", line 1, in run
    raise AirflowFailException("quality gate: quarantine rate 30.00%")
airflow.sdk.exceptions.AirflowFailException: quality gate: quarantine rate 30.00%
{TS} ::group::Post Execute          [task] loc=task_runner.py:1677
CALLBACK PRINT
{TS} Task instance state updated    [airflow.api_fastapi] loc=task_instances.py:485 new_state=failed
{TS} [DAG TEST] end task task_id=quality_gate map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1563
{TS} [DAG TEST] starting task_id=build_gold map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501
{TS} Spark-Submit cmd: spark-submit --master local[2] x.py build gold {HOOK}
{TS} ValueError: no silver.order_lines {HOOK}
{TS} omnilake build: error: table silver.x does not exist {HOOK}
{TS} at org.apache.spark.Foo {HOOK}
2026-11-25T22:13:16.555130Z [error    ] Task failed with exception     [task] loc=task_runner.py:1676
Traceback (most recent call last):
  File "/x/task_runner.py", line 1, in run
airflow.sdk.exceptions.AirflowException: Cannot execute: spark-submit --master local[2] x.py. Error code is: 3.
{TS} Task instance state updated    [airflow.api_fastapi] loc=task_instances.py:485 new_state=up_for_retry
{TS} [DAG TEST] end task task_id=build_gold map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1563
"""


def test_follow_reports_each_task_and_the_jobs_progress(tmp_path: Path) -> None:
    echoed: list[str] = []
    follower = _Follower(RunResult("omnilake_daily", ok=False, seconds=0.0, log=tmp_path / "x.log"), echoed.append)
    for line in OUTPUT.splitlines():
        follower.feed(line)
    result = follower.result
    assert [(t.task_id, t.state, t.error) for t in result.tasks] == [
        ("ingest", "success", None),
        ("quality_gate", "failed", "airflow.sdk.exceptions.AirflowFailException: quality gate: quarantine rate 30.00%"),
        (
            "build_gold",
            "up_for_retry",
            "airflow.sdk.exceptions.AirflowException: spark-submit exited with code 3. "
            "Driver: omnilake build: error: table silver.x does not exist",
        ),
    ]
    assert echoed[0] == "      [omnilake 00:12.3] ingest.bronze batches=12 secs=4.0"
    assert echoed[1].split()[:3] == ["task", "ingest", "success"]
    assert echoed[2].endswith(": airflow.sdk.exceptions.AirflowFailException: quality gate: quarantine rate 30.00%")
    assert result.state("quality_gate") == "failed" and result.state("build_gold") == "up_for_retry"


def test_airflow_env_and_the_spark_connection_it_defines(
    cfg: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    env = airflow_env(cfg, load_settings(cfg), base={"PATH": "/usr/bin"})
    assert env["AIRFLOW_HOME"] == cfg.paths.airflow_home
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{cfg.paths.airflow_home}/airflow.db"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("/dags") and env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert json.loads(env["AIRFLOW_CONN_OMNILAKE_SPARK"]) == {"conn_type": "spark", "host": "local[2]"}
    assert (
        env["PATH"].split(os.pathsep)[-1] == "/usr/bin"
        and (Path(env["PATH"].split(os.pathsep)[0]) / "spark-submit").exists()
    )
    for master in ("local[2]", "spark://10.0.0.5:7077"):
        monkeypatch.setenv("AIRFLOW_CONN_OMNILAKE_SPARK", json.dumps({"conn_type": "spark", "host": master}))
        assert SparkSubmitHook(conn_id="omnilake_spark")._connection["master"] == master
    sourced = write_env_file(env, tmp_path / "env.sh").read_text()
    assert 'export AIRFLOW_CONN_OMNILAKE_SPARK=\'{"conn_type": "spark", "host": "local[2]"}\'' in sourced


def test_missing_steps_checks_the_cli() -> None:
    from jobs.cli import build_parser

    # every Spark step of the DAGs has its command in this checkout: none is skipped
    assert missing_steps(build_parser) == []
    # a command line without them: every step is reported, in the steps' order
    bare = argparse.ArgumentParser(prog="omnilake")
    bare.add_subparsers(dest="command", required=True).add_parser("generate")
    assert missing_steps(lambda: bare) == list(STEP_COMMANDS)
