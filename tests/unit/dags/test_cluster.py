"""`omnilake cluster` without starting anything: what each service runs, and pid files that are stale."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from jobs.common.config import Config, load_config
from jobs.orchestration import cluster


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cfg(tmp_path: Path) -> Config:
    return load_config(
        environ={
            "OMNILAKE_ENV": "cluster",
            "OMNILAKE_HOME": str(tmp_path),
            "OMNILAKE__CLUSTER__MASTER_PORT": "17077",
            "OMNILAKE__CLUSTER__WORKER_WEBUI_PORT": "18081",
            "OMNILAKE__CLUSTER__WORKERS": "3",
            "OMNILAKE__CLUSTER__MASTER_WEBUI_PORT": str(_free_port()),  # nothing answers there
        }
    )


def test_services_are_a_master_one_worker_per_conf_and_mlflow_on_loopback(tmp_path: Path) -> None:
    services = {s.name: s for s in cluster.services(_cfg(tmp_path))}
    assert list(services) == ["master", "worker-1", "worker-2", "worker-3", "mlflow"]
    master = services["master"].argv
    assert master[1] == cluster.MASTER_CLASS and master[master.index("--port") + 1] == "17077"
    assert "-Dspark.master.rest.enabled=false" in services["master"].env["SPARK_MASTER_OPTS"]
    worker = services["worker-3"].argv
    assert worker[2] == "spark://127.0.0.1:17077" and worker[worker.index("--cores") + 1] == "1"
    assert worker[worker.index("--webui-port") + 1] == "18083"
    assert worker[worker.index("--work-dir") + 1] == str(tmp_path / "cluster" / "worker-3")
    mlflow = services["mlflow"].argv
    assert "--serve-artifacts" in mlflow and mlflow[mlflow.index("--host") + 1] == "127.0.0.1"
    assert mlflow[mlflow.index("--backend-store-uri") + 1] == f"sqlite:///{tmp_path}/cluster/mlflow/mlflow.db"


def test_a_pid_file_counts_only_while_its_process_runs_that_service(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    master = cluster.services(cfg)[0]
    pid_file = Path(cfg.cluster.dir) / "master.pid"
    pid_file.parent.mkdir(parents=True)
    assert cluster.running_pid(cfg, master) is None  # no pid file
    pid_file.write_text(f"{os.getpid()}\n")  # a live process, but not a Spark master (pid reused)
    assert cluster.running_pid(cfg, master) is None
    pid_file.write_text("not a pid\n")
    assert cluster.running_pid(cfg, master) is None


def test_status_of_a_cluster_that_is_not_running(tmp_path: Path) -> None:
    state = cluster.status(_cfg(tmp_path))
    assert all(s == {"pid": None, "healthy": False} for s in state["services"].values())
    assert "applications" not in state  # no master answered


def test_worker_python_sees_the_pinned_packages_but_not_the_project(tmp_path: Path) -> None:
    python = cluster.ensure_worker_python(_cfg(tmp_path))
    probe = "import importlib.util as u; print(u.find_spec('pyspark') is not None, u.find_spec('jobs') is not None)"
    out = subprocess.run([str(python), "-c", probe], cwd="/", capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]
    assert Path(sys.executable).exists()
