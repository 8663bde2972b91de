"""The same DAGs on a Spark standalone cluster (a master and two 1-core workers) and an MLflow tracking server, all
started by `omnilake cluster up` on free loopback ports, with OMNILAKE_ENV=cluster and no code change.

The lake of the session's local-mode run (conftest.py) is the reference: the same generated data goes through the
same history run of omnilake_daily, with its Spark steps in the warm runner (a driver in client mode), and then
omnilake_retrain with one spark-submit per step (`orchestration.spark_steps.mode: submit`, the code zip passed with
--py-files). Every gold, feature and serving table must equal the local run's in row count and content checksum.
The executors' interpreter cannot import the project from disk (jobs/orchestration/cluster.py), so they run the
shipped zip. During the history run one worker is killed (SIGKILL to its process group, executor included) while its
executor runs a task: the task is retried on the other worker and the results are unchanged.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from jobs.common.config import Config
from jobs.orchestration import cluster
from jobs.orchestration.harness import RunResult
from tests.support.config import make_config
from tests.support.e2e import COMPARED, REPO, failed, history_conf, prepare, retrain_conf, run_dag
from tests.support.lake_digest import differences, lake_digest

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]
PORT_KEYS = ("master_port", "master_webui_port", "mlflow_port", "driver_ui_port")  # and worker_webui_port: below


def _free_ports(count: int) -> list[int]:
    """`count` distinct ports free now."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        ports = [sock.getsockname()[1] for sock in socks]
    return ports


def _omnilake(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli", *argv], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def on_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The cluster's services (stopped at the end), generated data and an Airflow DB for OMNILAKE_ENV=cluster."""
    root = tmp_path_factory.mktemp("cluster")
    worker_ui = _free_ports(1)[0]  # worker i serves on worker_webui_port + i - 1: this one and the next must be free
    while any(_in_use(worker_ui + i) for i in range(2)):
        worker_ui = _free_ports(1)[0]
    ports = dict(zip(PORT_KEYS, _free_ports(len(PORT_KEYS)), strict=True)) | {"worker_webui_port": worker_ui}
    base = {
        **os.environ,
        "OMNILAKE_ENV": "cluster",
        "OMNILAKE_HOME": str(root / "home"),
        **{f"OMNILAKE__CLUSTER__{key.upper()}": str(port) for key, port in ports.items()},
        # the test's quick retries (conf/test.yaml's), not a production cluster's 5-minute ones
        "OMNILAKE__ORCHESTRATION__RETRY_DELAY_SECONDS": "1",
        "OMNILAKE__ORCHESTRATION__MAX_RETRY_DELAY_SECONDS": "4",
        # the rules the local run (OMNILAKE_ENV=test) finds in the tests' small world, to be reproduced
        "OMNILAKE__GOLD__BASKET_RULES__MIN_ORDERS": str(make_config(root).gold.basket_rules.min_orders),
    }
    try:
        started = _omnilake(base, "cluster", "up")
        assert started.returncode == 0, started.stdout + started.stderr
        found = prepare(root, base)
        yield {**found, "base": base, "started": started}
    finally:
        stopped = _omnilake(base, "cluster", "down")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def _in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class WorkerKiller:
    """Watches the driver's REST API; the first time an executor runs a task, SIGKILLs the process group of the
    worker that hosts it (the worker and its executor: a lost machine)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.killed: str | None = None
        self.app_id: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> WorkerKiller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _driver(self, path: str) -> Any:
        return cluster.get_json(f"http://{self.cfg.cluster.host}:{self.cfg.cluster.driver_ui_port}/api/v1{path}")

    def _watch(self) -> None:
        while not self._stop.is_set() and self.killed is None:
            with contextlib.suppress(OSError, ValueError, KeyError, IndexError):  # no driver yet, or between states
                self._try_kill()
            self._stop.wait(0.2)

    def _try_kill(self) -> None:
        self.app_id = self._driver("/applications")[0]["id"]
        busy = {e["id"] for e in self._driver(f"/applications/{self.app_id}/executors") if e["activeTasks"] > 0}
        for service in cluster.services(self.cfg):
            if service.ui_port is None:  # not a worker
                continue
            state = cluster.get_json(f"http://{self.cfg.cluster.host}:{service.ui_port}/json/")
            hosted = {str(e["id"]) for e in state["executors"] if e["appid"] == self.app_id}
            pid = cluster.running_pid(self.cfg, service)
            if hosted & busy and pid is not None:
                os.killpg(pid, signal.SIGKILL)
                self.killed = service.name
                return


@pytest.fixture(scope="module")
def cluster_history(on_cluster: dict[str, Any]) -> dict[str, Any]:
    """The history run on the cluster, in the warm runner, with one worker killed mid-task; then the runner's view
    of its executors (the killed one is gone, with its reason) before the runner stops and frees its cores."""
    cfg: Config = on_cluster["cfg"]
    with WorkerKiller(cfg) as killer:
        result = run_dag(on_cluster, "omnilake_daily", "history", history_conf(on_cluster))
    executors = stages = []
    if killer.app_id:
        base = f"http://{cfg.cluster.host}:{cfg.cluster.driver_ui_port}/api/v1/applications/{killer.app_id}"
        executors = cluster.get_json(f"{base}/allexecutors")
        stages = cluster.get_json(f"{base}/stages")
    stopped = _omnilake(on_cluster["base"], "runner", "stop")
    assert stopped.returncode == 0, stopped.stderr
    return {"result": result, "killed": killer.killed, "executors": executors, "stages": stages}


@pytest.fixture(scope="module")
def cluster_retrain(on_cluster: dict[str, Any], cluster_history: dict[str, Any]) -> dict[str, Any]:
    """The killed worker started again (`cluster up` starts only what is down), then omnilake_retrain with one
    spark-submit per Spark step."""
    assert cluster_history["result"].ok, failed(cluster_history["result"])
    restarted = _omnilake(on_cluster["base"], "cluster", "up")
    result = run_dag(
        on_cluster,
        "omnilake_retrain",
        "retrain",
        retrain_conf(on_cluster),
        env={"OMNILAKE__ORCHESTRATION__SPARK_STEPS__MODE": "submit"},
    )
    return {"result": result, "restarted": restarted}


def test_cluster_up_twice_starts_nothing_the_second_time(on_cluster: dict[str, Any]) -> None:
    again = _omnilake(on_cluster["base"], "cluster", "up")
    assert again.returncode == 0 and "cluster already up (nothing started)" in again.stdout, again.stderr
    assert "cluster.start" not in again.stderr
    state = cluster.master_state(on_cluster["cfg"])
    assert state is not None and state["aliveworkers"] == 2


def test_history_run_survives_a_killed_worker(cluster_history: dict[str, Any]) -> None:
    result: RunResult = cluster_history["result"]
    assert result.ok, failed(result)
    assert cluster_history["killed"] in ("worker-1", "worker-2"), "no executor was seen running a task"
    lost = [e for e in cluster_history["executors"] if e["id"] != "driver" and not e["isActive"]]
    assert lost, cluster_history["executors"]
    assert sum(s.get("numFailedTasks", 0) for s in cluster_history["stages"]) >= 1  # a task failed, was retried


def test_cluster_run_equals_the_local_run(
    on_cluster: dict[str, Any],
    history: RunResult,
    champions: dict[str, Any],
    cluster_history: dict[str, Any],
    cluster_retrain: dict[str, Any],
) -> None:
    result: RunResult = cluster_retrain["result"]
    assert result.ok, failed(result)
    assert cluster_retrain["restarted"].returncode == 0
    assert "service=worker-" in cluster_retrain["restarted"].stderr  # the killed worker, started again
    actual = lake_digest(on_cluster["cfg"].paths.warehouse, COMPARED)
    assert all(d.rows > 0 for d in actual.values()), {n: d.rows for n, d in actual.items()}
    assert differences(champions["digest"], actual) == []
    state = cluster.master_state(on_cluster["cfg"])
    assert state is not None
    names = [a["name"] for a in state["completedapps"] + state["activeapps"]]
    # the warm runner's application, then one per spark-submit step of omnilake_retrain
    assert "omnilake" in names and {"omnilake-train", "omnilake-score"} <= set(names), names
    print(
        f"\nhistory run: local {history.seconds:.0f} s, cluster {cluster_history['result'].seconds:.0f} s; "
        f"retrain run: local {champions['run'].seconds:.0f} s, cluster (spark-submit) {result.seconds:.0f} s; "
        f"{sum(d.rows for d in actual.values()):,} rows in {len(actual)} tables equal"
    )
