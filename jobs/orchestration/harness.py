"""Drive Airflow itself from Python: the environment of an embedded SQLite Airflow under OMNILAKE_HOME, `airflow db
migrate`, and `airflow dags test` runs that report each task as it ends (used by `omnilake demo` and the e2e tests).
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
from pathlib import Path
from typing import Any

from jobs.common.config import PROJECT_ROOT, Config
from jobs.orchestration.ops import short_error
from jobs.orchestration.settings import Orchestration

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
_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
_NEW_STATE = re.compile(r"new_state=(\w+)")
_PROGRESS = re.compile(r"(\[omnilake \d+:[\d.]+\].*?)(?:\s+\[airflow\.[^\]]*\]\s+loc=\S+)?$")
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\S+ \[")
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Exception|Error|Exit)\b")
_DRIVER = re.compile(r"^\S+ \[[^\]]*\] (.*?) \[airflow\.task\.hooks\.[\w.]*SparkSubmitHook\]")
_DRIVER_ERROR = re.compile(r"^([A-Za-z_][\w.]*(Exception|Error)\b|omnilake [\w-]+: error:)")


def airflow_env(cfg: Config, settings: Orchestration, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for `airflow` commands on this omnilake home: SQLite metadata DB under paths.airflow_home, the
    repository's dags/, the Spark connection from spark.master, the venv's spark-submit first on PATH."""
    env = dict(os.environ if base is None else base)
    home = Path(cfg.paths.airflow_home)
    conn_var = "AIRFLOW_CONN_" + settings.spark_conn_id.upper()
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": str(settings.demo.airflow_parallelism),
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


def write_env_file(env: Mapping[str, str], path: Path) -> Path:
    """A `source`-able file with the Airflow and omnilake variables (for `airflow standalone` on the same state)."""
    keys = sorted(
        k
        for k in env
        if k.startswith(("AIRFLOW", "OMNILAKE", "PYSPARK", "SPARK_LOCAL_IP")) or k in ("PATH", "PYTHONPATH")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"export {k}={shlex.quote(env[k])}\n" for k in keys))
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
    """`airflow dags test` one run; echoes each task's end state and the jobs' own progress lines; the full
    output goes to `log`."""
    cmd = [str(BIN / "airflow"), "dags", "test", dag_id, *([logical_date] if logical_date else [])]
    if conf:
        cmd += ["--conf", json.dumps(dict(conf))]
    if mark_success:
        cmd += ["--mark-success-pattern", "^(" + "|".join(map(re.escape, mark_success)) + ")$"]
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    follower = _Follower(RunResult(dag_id=dag_id, ok=False, seconds=0.0, log=log), echo)
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
    result = follower.result
    result.ok = proc.returncode == 0
    result.seconds = time.monotonic() - started
    return result


class _Follower:
    """Follows `airflow dags test` output (tasks run one at a time there): each task's end state and error, the
    omnilake jobs' progress lines, and the last error line a Spark driver printed."""

    def __init__(self, result: RunResult, echo: Callable[[str], None]) -> None:
        self.result, self.echo = result, echo
        self.task, self.state, self.started = "?", "?", time.monotonic()
        self.error: str | None = None
        self.driver_error: str | None = None
        self.in_traceback = False

    def feed(self, line: str) -> None:
        is_log = bool(_LOG_LINE.match(line))
        if self.in_traceback and not is_log:
            self._traceback_line(line)
            return
        self.in_traceback = False
        if match := _TASK_START.search(line):
            self.task, self.state, self.started = match[1], "?", time.monotonic()
            self.error = self.driver_error = None
        elif match := _TASK_END.search(line):
            self._task_ended(match[1])
        elif "Task instance state updated" in line and (match := _NEW_STATE.search(line)):
            self.state = match[1]
        elif "Task failed with exception" in line:
            self.in_traceback = True
        elif match := _PROGRESS.search(line):
            self.echo(f"      {match[1]}")
        elif (match := _DRIVER.match(line)) and _DRIVER_ERROR.match(match[1]):
            self.driver_error = match[1].strip()

    def _traceback_line(self, line: str) -> None:
        # keep the header of the last exception: "ExceptionType: message" after the last "Traceback"
        if line.startswith("Traceback"):
            self.error = None
        elif self.error is None and _EXCEPTION.match(line):
            self.error = short_error(line.strip())

    def _task_ended(self, task_id: str) -> None:
        error = self.error
        if error and self.driver_error:
            error = f"{error} Driver: {self.driver_error}"
        task = TaskResult(task_id, self.state, time.monotonic() - self.started, error)
        self.result.tasks.append(task)
        detail = f": {task.error}" if task.error and task.state != "success" else ""
        self.echo(f"    task {task.task_id:<16} {task.state:<13} {task.seconds:6.1f} s{detail}"[:600])
