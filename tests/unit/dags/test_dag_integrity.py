"""DAG integrity: the DAG folder imports cleanly and cheaply; each DAG has its tasks, order, retries and assets."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from jobs.common.config import Config
from jobs.orchestration.assets import FEATURES, GOLD, SERVING, SILVER, asset_uri
from jobs.orchestration.ops import record_failure
from jobs.orchestration.wiring import SUBMIT_APP

REPO = Path(__file__).resolve().parents[3]
DAGS = REPO / "dags"
HEAVY = ("pyspark", "pandas", "lightgbm")
SPARK_TASKS = {
    "omnilake_daily": {"ingest", "build_features", "score", "build_gold", "monitor_models"},
    "omnilake_retrain": {"train", "score"},
    "omnilake_maintenance": {"privacy_vacuum", "maintain"},
}
EDGES = {
    "omnilake_daily": {
        ("business_dates", "ingest"),
        ("ingest", "quality_gate"),
        ("quality_gate", "build_features"),
        ("build_features", "score"),
        ("score", "build_gold"),
        ("build_gold", "export_serving"),
        ("build_gold", "dashboard"),
        ("build_gold", "publish_postgres"),
        ("score", "monitor_models"),
        ("monitor_models", "retrain_check"),
        ("retrain_check", "trigger_retrain"),
    },
    "omnilake_retrain": {
        ("as_of_date", "train"),
        ("train", "score"),
        ("score", "export_serving"),
        ("score", "publish_postgres"),
        ("score", "dashboard"),
    },
    "omnilake_maintenance": {("privacy_vacuum", "maintain"), ("maintain", "table_health")},
}
FIRST = {"omnilake_daily": "business_dates", "omnilake_retrain": "as_of_date", "omnilake_maintenance": "privacy_vacuum"}


@pytest.fixture()
def dagbag(cfg: Config):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dag_folder_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"omnilake_daily", "omnilake_retrain", "omnilake_maintenance"}


@pytest.mark.parametrize("dag_id", sorted(EDGES))
def test_tasks_and_dependencies(dagbag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    edges = {(up, t.task_id) for t in dag.tasks for up in t.upstream_task_ids}
    assert {t for e in EDGES[dag_id] for t in e} == set(dag.task_ids)
    assert EDGES[dag_id] <= edges  # plus date-resolution -> every task that takes the dates (XCom)
    assert {up for up, _ in edges} - {t for _, t in EDGES[dag_id]} == {FIRST[dag_id]}


@pytest.mark.parametrize("dag_id", sorted(EDGES))
def test_retries_timeouts_and_failure_callback(dagbag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.catchup is False and dag.max_active_runs == 1
    assert dag.dagrun_timeout == timedelta(seconds=1800)  # conf orchestration (test env)
    for t in dag.tasks:
        assert t.retries == 2, t.task_id
        assert t.retry_delay == timedelta(seconds=1) and t.retry_exponential_backoff == 2.0
        assert t.max_retry_delay == timedelta(seconds=4)
        assert t.on_failure_callback in (record_failure, [record_failure])
        spark = t.task_id in SPARK_TASKS[dag_id]
        assert t.execution_timeout == timedelta(seconds=900 if spark else 120), t.task_id


@pytest.mark.parametrize(
    "dag_id,cron",
    [("omnilake_daily", "0 3 * * *"), ("omnilake_retrain", "0 5 * * 1"), ("omnilake_maintenance", "0 5 * * 0")],
)
def test_schedule_has_one_period_data_intervals(dagbag, dag_id: str, cron: str) -> None:
    from airflow.sdk import CronDataIntervalTimetable

    timetable = dagbag.dags[dag_id].timetable
    assert isinstance(timetable, CronDataIntervalTimetable)
    assert timetable.expression == cron and str(timetable.timezone) == "America/New_York"


def _spark_args(dag, task_ids: set[str], field: str) -> dict[str, list[str]]:
    return {
        t.task_id: [a if isinstance(a, str) else "<dates>" for a in getattr(t, field)]
        for t in dag.tasks
        if t.task_id in task_ids
    }


DAILY_STEPS = {
    "ingest": ["ingest", "--date", "<dates>"],
    "build_features": ["build", "features", "--as-of", "<dates>", "--since", "<dates>"],
    "score": ["score", "all", "--as-of", "<dates>"],
    "build_gold": ["build", "gold", "--as-of", "<dates>", "--since", "<dates>"],
    "monitor_models": ["monitor", "all", "--as-of", "<dates>"],
}


def test_spark_steps_run_the_omnilake_command_in_the_warm_runner(dagbag, cfg: Config) -> None:
    from jobs.orchestration.wiring import RunnerStepOperator

    assert cfg.orchestration.spark_steps.mode == "runner"  # conf/base.yaml's default
    dag = dagbag.dags["omnilake_daily"]
    assert _spark_args(dag, SPARK_TASKS["omnilake_daily"], "argv") == DAILY_STEPS
    for task_id in DAILY_STEPS:
        op = dag.get_task(task_id)
        assert isinstance(op, RunnerStepOperator) and "argv" in op.template_fields


def test_spark_steps_submit_the_omnilake_command_in_submit_mode(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
    from airflow.sdk import DAG

    from jobs.common.config import load_config
    from jobs.orchestration.wiring import DagFactory

    monkeypatch.setenv("OMNILAKE__ORCHESTRATION__SPARK_STEPS__MODE", "submit")
    submit_cfg = load_config()
    with DAG("submit_mode", schedule=None):
        op = DagFactory(cfg=submit_cfg).spark_step("build_gold", ["build", "gold"], outlets=[])
    assert isinstance(op, SparkSubmitOperator) and op.application_args == ["build", "gold"]
    assert op._conn_id == "omnilake_spark" and op.application == str(SUBMIT_APP) and SUBMIT_APP.exists()
    assert op.conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert op._driver_memory == submit_cfg.spark.driver_memory
    assert op.env_vars["OMNILAKE_HOME"] == cfg.home and op.env_vars["OMNILAKE_ENV"] == "test"


def test_assets_declared_for_the_tables_each_step_updates(dagbag, cfg: Config) -> None:
    daily = dagbag.dags["omnilake_daily"]
    names = {t.task_id: {a.name for a in t.outlets} for t in daily.tasks}
    assert names["ingest"] == set(SILVER) and names["build_features"] == set(FEATURES)
    assert names["score"] == set(SERVING) and names["build_gold"] == set(GOLD)
    assert names["export_serving"] == {"exports.serving"}
    uri = next(a.uri for a in daily.get_task("build_gold").outlets if a.name == "gold.inventory_health")
    assert uri == asset_uri(cfg.paths.warehouse, "gold.inventory_health")
    assert uri.endswith("/warehouse/gold/inventory_health")
    retrain = dagbag.dags["omnilake_retrain"]
    assert {a.name for a in retrain.get_task("score").outlets} == set(SERVING)


def test_date_params(dagbag) -> None:
    daily = dagbag.dags["omnilake_daily"].params
    assert set(daily) == {"start", "end", "snapshots"}
    assert daily["snapshots"] == "end" and daily.get_param("snapshots").schema["enum"] == ["end", "range"]
    assert set(dagbag.dags["omnilake_retrain"].params) == {"as_of", "reason"}


def test_parsing_loads_no_spark_pandas_or_lightgbm(cfg: Config) -> None:
    probe = (
        "import importlib.util, json, sys, time\n"
        "t = time.monotonic()\n"
        f"for path in {sorted(str(p) for p in DAGS.glob('*.py'))!r}:\n"
        "    spec = importlib.util.spec_from_file_location(path.rsplit('/', 1)[-1][:-3], path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        f"print(json.dumps({{'heavy': [m for m in {HEAVY!r} if m in sys.modules], 'secs': time.monotonic() - t}}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []
    # both files together, well inside the scheduler's dagbag_import_timeout (30 s) even on a loaded 2-core box
    assert result["secs"] < 30, result
