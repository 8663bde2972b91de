"""The Airflow harness: environment, connection, what `airflow dags test` output adds (progress, errors) and the
task results built from the metadata DB's states."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jobs.common.config import Config
from jobs.orchestration.harness import (
    STEP_COMMANDS,
    RunResult,
    TaskResult,
    airflow_env,
    missing_steps,
    task_results,
    write_env_file,
)
from jobs.orchestration.run_output import OutputFollower

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


def test_output_gives_the_jobs_progress_and_each_failed_tasks_error() -> None:
    echoed: list[str] = []
    follower = OutputFollower(echoed.append)
    for line in OUTPUT.splitlines():
        follower.feed(line)
    assert follower.errors == {
        "quality_gate": "airflow.sdk.exceptions.AirflowFailException: quality gate: quarantine rate 30.00%",
        "build_gold": "airflow.sdk.exceptions.AirflowException: spark-submit exited with code 3. "
        "Driver: omnilake build: error: table silver.x does not exist",
    }
    assert echoed == ["      [omnilake 00:12.3] ingest.bronze batches=12 secs=4.0"]


def _at(seconds: float) -> str:
    return (datetime(2026, 11, 25, 22, 13, tzinfo=UTC) + timedelta(seconds=seconds)).isoformat()


# the metadata DB's view of the same run (run_states.latest_run), listed in another order than the tasks ran
RUN = {
    "run_id": "manual__2025-03-02",
    "state": "failed",
    "tasks": [
        {
            "task_id": "build_gold",
            "state": "up_for_retry",
            "start_date": _at(20),
            "end_date": _at(27.5),
        },
        {"task_id": "ingest", "state": "success", "start_date": _at(0), "end_date": _at(12)},
        {"task_id": "export", "state": "upstream_failed", "start_date": None, "end_date": None},
        {
            "task_id": "quality_gate",
            "state": "failed",
            "start_date": _at(13),
            "end_date": _at(14),
        },
    ],
}


def test_task_results_are_the_metadata_dbs_states_with_the_outputs_errors() -> None:
    follower = OutputFollower(lambda _line: None)
    for line in OUTPUT.splitlines():
        follower.feed(line)
    assert task_results(RUN, follower.errors) == [
        TaskResult("ingest", "success", 12.0),
        TaskResult("quality_gate", "failed", 1.0, follower.errors["quality_gate"]),
        TaskResult("build_gold", "up_for_retry", 7.5, follower.errors["build_gold"]),
        TaskResult("export", "upstream_failed", 0.0),
    ]
    assert task_results({}, {}) == []  # no run in the DB (airflow failed before creating one)


def test_task_lines_the_demo_prints() -> None:
    assert TaskResult("ingest", "success", 12.04, "ignored: it succeeded").line() == (
        "    task ingest           success         12.0 s"
    )
    assert TaskResult("quality_gate", "failed", 1.0, "AirflowFailException: breach").line() == (
        "    task quality_gate     failed           1.0 s: AirflowFailException: breach"
    )
    result = RunResult("omnilake_daily", ok=False, seconds=0.0, log=Path("x.log"), tasks=task_results(RUN, {}))
    assert result.state("quality_gate") == "failed" and result.state("build_gold") == "up_for_retry"
    assert result.state("train") is None


def test_airflow_env_and_the_spark_connection_it_defines(
    cfg: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    env = airflow_env(cfg, base={"PATH": "/usr/bin"})
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
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"  # conf orchestration.ui_host, not Airflow's 0.0.0.0
    assert "export AIRFLOW__API__HOST=127.0.0.1" in sourced


def test_env_file_never_holds_a_secret(cfg: Config, tmp_path: Path) -> None:
    """The demo's airflow/env.sh keeps the PII key and passwords out (issue 15): whoever starts Airflow exports
    them; everything else of the Airflow environment is in it."""
    secrets = {
        "OMNILAKE_PII_KEY": "00ff" * 8,
        "OMNILAKE_PG_PASSWORD": "pw-1",
        "AIRFLOW__CORE__FERNET_KEY": "fernet-value-9",
    }
    env = airflow_env(
        cfg, base={"PATH": "/usr/bin", **secrets, "OMNILAKE__SERVING__POSTGRES__DSN": "postgresql://x@h/d"}
    )
    sourced = write_env_file(env, tmp_path / "env.sh").read_text()
    for name, value in secrets.items():
        assert name not in sourced and value not in sourced
    assert "export OMNILAKE__SERVING__POSTGRES__DSN=postgresql://x@h/d" in sourced
    assert f"export AIRFLOW_HOME={cfg.paths.airflow_home}" in sourced


def test_missing_steps_checks_the_cli() -> None:
    from jobs.cli import build_parser

    # every Spark step of the DAGs has its command in this checkout: none is skipped
    assert missing_steps(build_parser) == []
    # a command line without them: every step is reported, in the steps' order
    bare = argparse.ArgumentParser(prog="omnilake")
    bare.add_subparsers(dest="command", required=True).add_parser("generate")
    assert missing_steps(lambda: bare) == list(STEP_COMMANDS)
