"""Drive Airflow itself from Python: the environment of an embedded SQLite Airflow under OMNILAKE_HOME, `airflow db
migrate`, and `airflow dags test` runs that report each task's end state (used by `omnilake demo` and the e2e tests).

Task states and durations come from Airflow's metadata DB after the run (jobs/orchestration/run_states.py); the
run's output only adds what the DB does not keep: the jobs' progress lines and each failed task's error text.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobs.common.config import PROJECT_ROOT, Config
from jobs.orchestration.run_output import OutputFollower

BIN = Path(sys.executable).parent
# the Spark steps and the command each runs (dates are placeholders): a step whose command this checkout's CLI
# does not have yet is reported and marked successful instead of failing the run
STEP_COMMANDS: dict[str, list[str]] = {
    "ingest": ["ingest", "--date", "2025-01-02"],
    "build_features": ["build", "features", "--as-of", "2025-01-02", "--since", "2025-01-01"],
    "build_gold": ["build", "gold", "--as-of", "2025-01-02", "--since", "2025-01-01"],
    "score": ["score", "all", "--as-of", "2025-01-02"],
    "train": ["train", "all", "--as-of", "2025-01-02"],
}


def airflow_env(cfg: Config, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for `airflow` commands on this omnilake home: SQLite metadata DB under paths.airflow_home, the
    repository's dags/, the Spark connection from spark.master, the venv's spark-submit first on PATH."""
    env = dict(os.environ if base is None else base)
    home = Path(cfg.paths.airflow_home)
    settings = cfg.orchestration
    conn_var = "AIRFLOW_CONN_" + settings.spark_conn_id.upper()
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": str(settings.demo.airflow_parallelism),
            "AIRFLOW__API__HOST": settings.ui_host,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            conn_var: json.dumps({"conn_type": "spark", "host": cfg.spark.master}),
            "OMNILAKE_HOME": cfg.home,
            "OMNILAKE_ENV": cfg.env,
            "PYSPARK_PYTHON": sys.executable,
            "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join(
                dict.fromkeys(p for p in (str(PROJECT_ROOT), *env.get("PYTHONPATH", "").split(os.pathsep)) if p)
            ),
        }
    )
    if cfg.spark.master.startswith("local"):
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return env


SECRET_NAME = re.compile(r"(KEY|PASSWORD|PASSWD|SECRET|TOKEN)$", re.IGNORECASE)


def is_secret(name: str) -> bool:
    """A variable that holds a secret by its name (OMNILAKE_PII_KEY, OMNILAKE_PG_PASSWORD, ..._TOKEN): never
    written to a file."""
    return bool(SECRET_NAME.search(name))


def write_env_file(env: Mapping[str, str], path: Path) -> Path:
    """A `source`-able file with the Airflow and omnilake variables (for `airflow standalone` on the same state).
    Secrets (is_secret: the PII key, passwords) are left out: whoever starts Airflow exports them from where they
    keep them."""
    keys = sorted(
        k
        for k in env
        if (k.startswith(("AIRFLOW", "OMNILAKE", "PYSPARK", "SPARK_LOCAL_IP")) or k in ("PATH", "PYTHONPATH"))
        and not is_secret(k)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# secrets (the PII key, passwords) are not written here: export them yourself where you need them\n"
    path.write_text(header + "".join(f"export {k}={shlex.quote(env[k])}\n" for k in keys))
    return path


def migrate(env: Mapping[str, str], log: Path) -> None:
    """`airflow db migrate` (idempotent); raises with the log's path when it fails."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        done = subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"], env=dict(env), stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode:
        raise RuntimeError(f"airflow db migrate failed (exit {done.returncode}); log: {log}")


def missing_steps(build_parser: Callable[[], argparse.ArgumentParser]) -> list[str]:
    """Spark steps whose `omnilake` command (parsed by `build_parser()`'s parser) this checkout does not have yet."""
    missing = []
    for step, argv in STEP_COMMANDS.items():
        with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):
            build_parser().parse_args(argv)
            continue
        missing.append(step)
    return missing


@dataclass
class TaskResult:
    task_id: str
    state: str
    seconds: float
    error: str | None = None

    def line(self) -> str:
        """What the demo prints for the task: state, seconds and, unless it succeeded, its error."""
        detail = f": {self.error}" if self.error and self.state != "success" else ""
        return f"    task {self.task_id:<16} {self.state:<13} {self.seconds:6.1f} s{detail}"[:600]


@dataclass
class RunResult:
    dag_id: str
    ok: bool
    seconds: float
    log: Path
    tasks: list[TaskResult] = field(default_factory=list)

    def state(self, task_id: str) -> str | None:
        return next((t.state for t in reversed(self.tasks) if t.task_id == task_id), None)


def dags_test(
    dag_id: str,
    *,
    env: Mapping[str, str],
    log: Path,
    conf: Mapping[str, Any] | None = None,
    logical_date: str | None = None,
    mark_success: Sequence[str] = (),
    echo: Callable[[str], None] = print,
) -> RunResult:
    """`airflow dags test` one run; echoes the jobs' progress lines as they come, then each task's end state from
    the metadata DB (tasks in `mark_success` are not run, so not reported); the full output goes to `log`."""
    cmd = [str(BIN / "airflow"), "dags", "test", dag_id, *([logical_date] if logical_date else [])]
    if conf:
        cmd += ["--conf", json.dumps(dict(conf))]
    if mark_success:
        cmd += ["--mark-success-pattern", "^(" + "|".join(map(re.escape, mark_success)) + ")$"]
    log.parent.mkdir(parents=True, exist_ok=True)
    started, launched = time.monotonic(), datetime.now(UTC)
    follower = OutputFollower(echo)
    run_env = {**env, "PYTHONUNBUFFERED": "1"}  # progress as it happens, not in 8 KiB blocks
    with (
        log.open("w") as out,
        subprocess.Popen(
            cmd, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            follower.feed(line.rstrip("\n"))
        proc.wait()
    run = read_latest_run(dag_id, since=launched, env=env, log=log)
    tasks = [t for t in task_results(run, follower.errors) if t.task_id not in mark_success]
    for task in tasks:
        echo(task.line())
    return RunResult(dag_id, proc.returncode == 0, time.monotonic() - started, log, tasks)


def read_latest_run(dag_id: str, *, since: datetime, env: Mapping[str, str], log: Path) -> dict[str, Any]:
    """The DAG's latest run started since `since` and its task instances from the metadata DB
    (run_states.latest_run, in a child process with the run's Airflow environment; its own output is appended to
    `log`); {} when none is found."""
    states = log.with_suffix(".states.json")
    states.unlink(missing_ok=True)
    with log.open("a") as out:
        done = subprocess.run(
            [sys.executable, "-m", "jobs.orchestration.run_states", dag_id, since.isoformat(), str(states)],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode or not states.exists():
        return {}
    return json.loads(states.read_text())


def task_results(run: Mapping[str, Any], errors: Mapping[str, str]) -> list[TaskResult]:
    """One TaskResult per task instance of `run` (read_latest_run), in the order they started (tasks that never
    started last); `errors` (task_id -> error text from the run's output) fills in why a task did not succeed."""

    def seconds(ti: Mapping[str, Any]) -> float:
        if not ti.get("start_date") or not ti.get("end_date"):
            return 0.0
        return (datetime.fromisoformat(ti["end_date"]) - datetime.fromisoformat(ti["start_date"])).total_seconds()

    never = datetime.max.replace(tzinfo=UTC)
    tis = sorted(
        run.get("tasks", []),
        key=lambda ti: datetime.fromisoformat(ti["start_date"]) if ti.get("start_date") else never,
    )
    return [TaskResult(ti["task_id"], ti.get("state") or "none", seconds(ti), errors.get(ti["task_id"])) for ti in tis]
