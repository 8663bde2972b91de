"""`omnilake cluster up|down|status` (make cluster-up / cluster-down): a Spark standalone master, its workers and an
MLflow tracking server on conf `cluster.host`, for OMNILAKE_ENV=cluster (conf/cluster.yaml).

- master and workers: the pinned pyspark's `bin/spark-class org.apache.spark.deploy.master.Master` / `...Worker`,
  each worker with `cluster.worker_cores` cores and its own work dir; the master's REST submission server is off;
- MLflow: `mlflow server` with a SQLite store under `<cluster.dir>/mlflow` and `--serve-artifacts`, so clients upload
  and download artifacts through the server;
- the workers' interpreter (`<cluster.dir>/python`): a venv that sees the pinned venv's packages (one .pth line)
  but not the project, whose editable install is a .pth in that venv and is not read through another .pth. The
  executors can import jobs/ and ml/ only from the zip the driver ships (conf spark.ship_code), as on workers that
  do not share the driver's disk.

Each service runs in its own session (setsid) with `<cluster.dir>/<name>.pid` and `<cluster.dir>/logs/<name>.log`.
`up` starts only the services that are not running (a second `up` changes nothing) and waits for health: the
master's /json/ answers ALIVE with every worker registered, MLflow's /health answers OK. `down` stops this home's
warm Spark runner (a driver of the cluster), then each service's process group: SIGTERM, SIGKILL after
`cluster.stop_timeout_seconds`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.common.config import Config
from jobs.common.config.platform import ClusterSettings
from jobs.common.log import event

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class ClusterError(RuntimeError):
    """A service did not start or answer its health check in time; the message names its log."""


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    marker: str  # a word of its command line: a pid file whose process lacks it is stale (pid reuse)
    env: dict[str, str]
    ui_port: int | None = None  # a worker's web UI port: how the master's /json/ names it


def cluster_dir(cfg: Config) -> Path:
    return Path(cfg.cluster.dir)


def master_url(cfg: Config) -> str:
    return f"spark://{cfg.cluster.host}:{cfg.cluster.master_port}"


def master_json_url(cfg: Config) -> str:
    return f"http://{cfg.cluster.host}:{cfg.cluster.master_webui_port}/json/"


def mlflow_url(cfg: Config) -> str:
    return f"http://{cfg.cluster.host}:{cfg.cluster.mlflow_port}"


def worker_python(cfg: Config) -> Path:
    return cluster_dir(cfg) / "python" / "bin" / "python"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def services(cfg: Config) -> list[Service]:
    """Master, workers (1..n), MLflow: in start order."""
    conf: ClusterSettings = cfg.cluster
    root = cluster_dir(cfg)
    home = spark_home()
    base = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": conf.host,
        "SPARK_DAEMON_MEMORY": conf.daemon_memory,
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        "SPARK_WORKER_OPTS": "-Dspark.worker.cleanup.enabled=true",
    }
    spark_class = str(home / "bin" / "spark-class")
    found = [
        Service(
            "master",
            [spark_class, MASTER_CLASS, "--host", conf.host, "--port", str(conf.master_port)]
            + ["--webui-port", str(conf.master_webui_port)],
            MASTER_CLASS,
            base,
        )
    ]
    for i in range(1, conf.workers + 1):
        ui_port = conf.worker_webui_port + i - 1
        found.append(
            Service(
                f"worker-{i}",
                [spark_class, WORKER_CLASS, master_url(cfg), "--host", conf.host, "--cores", str(conf.worker_cores)]
                + ["--memory", conf.worker_memory, "--work-dir", str(root / f"worker-{i}")]
                + ["--webui-port", str(ui_port)],
                WORKER_CLASS,
                base,
                ui_port,
            )
        )
    store = root / "mlflow"
    mlflow_env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    found.append(
        Service(
            "mlflow",
            [
                str(Path(sys.executable).parent / "mlflow"),
                "server",
                "--host",
                conf.host,
                "--port",
                str(conf.mlflow_port),
            ]
            + ["--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}", "--serve-artifacts"]
            + ["--artifacts-destination", str(store / "artifacts"), "--workers", "1"],
            "mlflow",
            mlflow_env,
        )
    )
    return found


def _pid_file(cfg: Config, name: str) -> Path:
    return cluster_dir(cfg) / f"{name}.pid"


def _log_file(cfg: Config, name: str) -> Path:
    return cluster_dir(cfg) / "logs" / f"{name}.log"


def running_pid(cfg: Config, service: Service) -> int | None:
    """The pid of `service` when its pid file names a live process with its command line, else None."""
    try:
        pid = int(_pid_file(cfg, service.name).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if service.marker in cmdline else None


def get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback, from conf)
        return json.loads(response.read())


def master_state(cfg: Config) -> dict[str, Any] | None:
    """The master's /json/ (workers, activeapps, completedapps), or None when it does not answer."""
    try:
        return get_json(master_json_url(cfg))
    except (OSError, ValueError):
        return None


def _mlflow_healthy(cfg: Config) -> bool:
    try:
        with urllib.request.urlopen(f"{mlflow_url(cfg)}/health", timeout=2.0) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def _healthy(cfg: Config, service: Service) -> bool:
    if service.name == "mlflow":
        return _mlflow_healthy(cfg)
    state = master_state(cfg)
    if state is None or state.get("status") != "ALIVE":
        return False
    if service.ui_port is None:  # the master
        return True
    return any(
        w.get("state") == "ALIVE" and str(w.get("webuiaddress", "")).endswith(f":{service.ui_port}")
        for w in state["workers"]
    )


def ensure_worker_python(cfg: Config) -> Path:
    """The workers' interpreter: a venv of the base interpreter whose one .pth line adds this venv's packages
    (rewritten on every call, so it follows a re-created or moved project venv)."""
    python = worker_python(cfg)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(python.parent.parent)], check=True)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "omnilake-pinned-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _start(cfg: Config, service: Service) -> int:
    log = _log_file(cfg, service.name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        child = subprocess.Popen(
            service.argv,
            env=service.env,
            cwd=cluster_dir(cfg),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: down stops it with its children (executors)
        )
    threading.Thread(target=child.wait, daemon=True).start()  # reaped if it ends while this process runs
    _pid_file(cfg, service.name).write_text(f"{child.pid}\n")
    event("cluster.start", service=service.name, pid=child.pid, log=str(log))
    return child.pid


def _wait_healthy(cfg: Config, service: Service, pid: int) -> None:
    deadline = time.monotonic() + cfg.cluster.start_timeout_seconds
    while time.monotonic() < deadline:
        if _healthy(cfg, service):
            return
        if running_pid(cfg, service) != pid:
            break
        time.sleep(0.3)
    log = _log_file(cfg, service.name)
    tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
    raise ClusterError(
        f"{service.name} (pid {pid}) did not become healthy within {cfg.cluster.start_timeout_seconds:.0f} s; "
        f"log: {log}" + ("\n  " + "\n  ".join(tail) if tail else "")
    )


def up(cfg: Config, echo: Callable[[str], Any] = print) -> int:
    """Start what is not running and wait until every service is healthy: the master first (workers register with
    it), then the workers and MLflow together. 0 when the cluster is up."""
    root = cluster_dir(cfg)
    for sub in ("logs", "events", "mlflow"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    ensure_worker_python(cfg)
    master, *others = services(cfg)
    started = 0
    for wave in ([master], others):
        pids = {}
        for service in wave:
            pid = running_pid(cfg, service)
            if pid is None:
                pid = _start(cfg, service)
                started += 1
            pids[service.name] = pid
        for service in wave:
            _wait_healthy(cfg, service, pids[service.name])
    echo(describe(cfg) if started else "cluster already up (nothing started)\n" + describe(cfg))
    return 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_groups(pgids: list[int], timeout: float) -> None:
    """SIGTERM to the services' process groups (a JVM or server and what it started), SIGKILL to what is left after
    `timeout`; returns when no process of them is left, so their ports are free."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pgid in pgids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(_group_alive(pgid) for pgid in pgids):
                return
            time.sleep(0.1)


def down(cfg: Config, echo: Callable[[str], Any] = print) -> int:
    """Stop this home's warm runner, then every service with its process group, all at once."""
    from jobs.orchestration.runner import stop_runner

    if stop_runner(cfg):
        echo("stopped the Spark runner (a driver on this cluster)")
    every = services(cfg)
    running = {s.name: pid for s in every if (pid := running_pid(cfg, s)) is not None}
    _stop_groups(list(running.values()), cfg.cluster.stop_timeout_seconds)
    for service in every:
        _pid_file(cfg, service.name).unlink(missing_ok=True)
    echo(f"stopped {', '.join(running)}" if running else "cluster was not running")
    return 0


def status(cfg: Config) -> dict[str, Any]:
    """Each service's pid (None: not running) and health, and the master's application counts."""
    out: dict[str, Any] = {"services": {}}
    for service in services(cfg):
        pid = running_pid(cfg, service)
        out["services"][service.name] = {"pid": pid, "healthy": pid is not None and _healthy(cfg, service)}
    state = master_state(cfg)
    if state is not None:
        out["applications"] = {"active": len(state["activeapps"]), "completed": len(state["completedapps"])}
    return out


def describe(cfg: Config) -> str:
    conf = cfg.cluster
    return (
        f"Spark master {master_url(cfg)} (UI http://{conf.host}:{conf.master_webui_port}), {conf.workers} worker(s) x "
        f"{conf.worker_cores} core(s); MLflow {mlflow_url(cfg)}; pids and logs in {cluster_dir(cfg)}\n"
        f"run on it: OMNILAKE_ENV=cluster OMNILAKE_HOME={cfg.home} omnilake ..."
    )
