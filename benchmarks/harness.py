"""Shared benchmark plumbing: run one `omnilake` step as a subprocess and measure it, count table rows, print a
table, write JSON.

A step's measures: wall seconds; peak RSS of its process tree (the Python driver, the JVM it starts and Spark's
Python workers, summed, sampled every 0.2 s with psutil: the workers' shared pages count once per worker, so this
is an upper bound) and of the driver JVM alone; Spark's peak execution memory and the driver's peak JVM heap used
from the event log that PYSPARK_SUBMIT_ARGS turns on for the step (the UI and its REST API are off); rows
written, from the `numOutputRows` operation metric of every Delta commit the step made. Row counts of whole
tables come from the Delta log's `numRecords` file stats (delta-rs, no JVM).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OMNILAKE = str(Path(sys.executable).parent / "omnilake")
RESULTS = ROOT / "benchmarks" / "results"
MB = 1024 * 1024


@dataclass
class Step:
    """One measured step; rows_per_s is output rows per wall second (input rows when it writes none)."""

    name: str
    argv: list[str]
    wall_s: float
    input_rows: int
    output_rows: int
    rows_per_s: float
    peak_rss_mb: float
    spark_peak_execution_mb: float | None
    spark_task_peak_execution_mb: float | None
    driver_peak_rss_mb: float | None = None
    driver_peak_heap_mb: float | None = None
    written: dict[str, int] = field(default_factory=dict)
    stdout: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _tree_rss(proc: Any) -> tuple[int, int]:
    """(RSS summed over the process tree, RSS of its largest JVM: the Spark driver). The sum counts the pages
    that forked Python workers share with their daemon once per worker: an upper bound, not the machine's use."""
    import psutil

    total = jvm = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a child that ended between listing and reading
            rss = p.memory_info().rss
            total += rss
            if p.name() == "java":
                jvm = max(jvm, rss)
    return total, jvm


def _watch_rss(pid: int, peak: list[int], done: threading.Event, runner: Path | None = None) -> None:
    """Sample the step's process tree, plus the warm runner's (a process of its own session) when there is one:
    peak[0] the tree's summed RSS, peak[1] the driver JVM's RSS."""
    import psutil

    try:
        proc = psutil.Process(pid)
        while not done.wait(0.2):
            total, jvm = _tree_rss(proc)
            runner_pid = _runner_pid(runner)
            if runner_pid is not None and runner_pid not in {p.pid for p in proc.children(recursive=True)}:
                with contextlib.suppress(psutil.Error):
                    more, runner_jvm = _tree_rss(psutil.Process(runner_pid))
                    total, jvm = total + more, max(jvm, runner_jvm)
            peak[0], peak[1] = max(peak[0], total), max(peak[1], jvm)
    except psutil.Error:
        return


def _runner_pid(info: Path | None) -> int | None:
    if info is None:
        return None
    try:
        return int(json.loads(info.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def event_logs(event_dir: Path) -> dict[Path, int]:
    """Every event log file under `event_dir` and its size now."""
    # Spark 4 writes a folder per application (eventlog_v2_<app>/events_<n>_<app>, rolled); older ones one file
    return {
        p: p.stat().st_size for p in event_dir.rglob("*") if p.is_file() and not p.name.startswith((".", "appstatus"))
    }


def spark_memory(
    event_dir: Path, since: Mapping[Path, int] | None = None
) -> tuple[float | None, float | None, float | None]:
    """(peak on-heap + off-heap execution memory of any executor/driver, largest task peak, peak JVM heap used),
    MB, from event logs; only what was logged after the sizes in `since` (a warm runner's application spans
    several steps)."""
    executor, task, heap = None, None, None
    for log in sorted(event_logs(event_dir)):
        with log.open() as fh:
            fh.seek((since or {}).get(log, 0))
            for line in fh:
                if '"SparkListenerTaskEnd"' in line:
                    peak = json.loads(line).get("Task Metrics", {}).get("Peak Execution Memory")
                    if peak is not None:
                        task = max(task or 0, peak)
                elif '"SparkListenerStageExecutorMetrics"' in line:
                    metrics = json.loads(line).get("Executor Metrics", {})
                    used = metrics.get("OnHeapExecutionMemory", 0) + metrics.get("OffHeapExecutionMemory", 0)
                    executor = max(executor or 0, used)
                    heap = max(heap or 0, metrics.get("JVMHeapMemory", 0))
    return tuple(None if v is None else v / MB for v in (executor, task, heap))


def table_dirs(warehouse: Path) -> list[Path]:
    """Every Delta table folder under the warehouse (<zone>/<table>)."""
    return sorted(p.parent for p in warehouse.glob("*/*/_delta_log"))


def _name(table: Path) -> str:
    return f"{table.parent.name}.{table.name}"


def versions(warehouse: Path) -> dict[str, int]:
    """Table name -> latest commit version, from the log's file names (a checkpoint keeps its JSON commits)."""
    out = {}
    for table in table_dirs(warehouse):
        commits = [int(p.stem) for p in (table / "_delta_log").glob("*.json") if p.stem.isdigit()]
        if commits:
            out[_name(table)] = max(commits)
    return out


def rows_written(warehouse: Path, before: Mapping[str, int]) -> dict[str, int]:
    """Table name -> sum of numOutputRows over the commits made since `before` (a table's versions)."""
    out: dict[str, int] = {}
    for table in table_dirs(warehouse):
        name, start = _name(table), before.get(_name(table), -1) + 1
        for commit in (table / "_delta_log").glob("*.json"):
            if not commit.stem.isdigit() or int(commit.stem) < start:
                continue
            for line in commit.read_text().splitlines():
                if line.startswith('{"commitInfo"'):
                    metrics = json.loads(line)["commitInfo"].get("operationMetrics", {})
                    out[name] = out.get(name, 0) + int(metrics.get("numOutputRows", 0))
    return out


def table_rows(warehouse: Path, names: Iterable[str] | None = None) -> dict[str, int]:
    """Table name -> rows (sum of the add actions' numRecords), for `names` (default: every table)."""
    from deltalake import DeltaTable

    wanted = None if names is None else set(names)
    committed = versions(warehouse)  # a folder whose first commit is still being written is no table yet
    out = {}
    for table in table_dirs(warehouse):
        if _name(table) not in committed or (wanted is not None and _name(table) not in wanted):
            continue
        actions = DeltaTable(str(table)).get_add_actions(flatten=True)
        counts = actions.column("num_records").to_pylist() if actions.num_rows else []
        out[_name(table)] = int(sum(v for v in counts if v))
    return out


def run_step(
    name: str,
    argv: list[str],
    env: Mapping[str, str],
    *,
    warehouse: Path,
    event_dir: Path,
    inputs: Iterable[str] | None = None,
    input_zones: Iterable[str] = (),
    output_zones: Iterable[str] | None = None,
    runner: Path | None = None,
    cold: bool = False,
) -> Step:
    """Run `omnilake <argv>` and measure it. Input rows: the rows of `inputs` before the step, plus the rows the
    step wrote to `input_zones` (ingest: bronze, i.e. the landing records it read). Output rows: the rows it
    wrote to tables in `output_zones` (default: every zone but the input zones).

    With `runner` (the warm runner's info file) the step is `omnilake runner exec <argv>`, as a DAG's Spark step runs:
    `cold` stops the runner first, so the step pays a new driver's start (a daily run's first step does). Its event
    log and RSS are the runner's, counted from the step's start. `event_dir` must then be the same for every step
    (it is part of the runner's environment)."""
    print(f"-- {name}: omnilake {' '.join(argv)}", file=sys.stderr, flush=True)
    event_dir.mkdir(parents=True, exist_ok=True)
    if runner is not None and cold:
        subprocess.run([OMNILAKE, "runner", "stop"], env=dict(env), check=True, stdout=subprocess.DEVNULL)
    command = [OMNILAKE, *(["runner", "exec"] if runner is not None else []), *argv]
    logged = event_logs(event_dir)
    spark_args = (
        "--conf spark.eventLog.enabled=true --conf spark.eventLog.compress=false "
        f"--conf spark.eventLog.logStageExecutorMetrics=true --conf spark.eventLog.dir=file://{event_dir} "
        # executor metrics are otherwise sampled only at heartbeats (10 s) and miss short peaks
        "--conf spark.executor.metrics.pollingInterval=200ms "
        "pyspark-shell"
    )
    before = versions(warehouse)
    read = sum(table_rows(warehouse, inputs).values()) if inputs is not None else 0
    peak, done = [0, 0], threading.Event()
    started = time.monotonic()
    proc = subprocess.Popen(command, env={**env, "PYSPARK_SUBMIT_ARGS": spark_args}, stdout=subprocess.PIPE, text=True)
    watcher = threading.Thread(target=_watch_rss, args=(proc.pid, peak, done, runner), daemon=True)
    watcher.start()
    stdout, _ = proc.communicate()
    wall = time.monotonic() - started
    done.set()
    watcher.join()
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, command, stdout)
    written = rows_written(warehouse, before)
    zones = set(input_zones)

    def zone(table: str) -> str:
        return table.split(".", 1)[0]

    read += sum(v for t, v in written.items() if zone(t) in zones)
    wanted = None if output_zones is None else set(output_zones)
    out = sum(v for t, v in written.items() if zone(t) not in zones and (wanted is None or zone(t) in wanted))
    executor, task, heap = spark_memory(event_dir, logged)
    return Step(
        name=name,
        argv=argv,
        wall_s=round(wall, 2),
        input_rows=read,
        output_rows=out,
        rows_per_s=round((out or read) / wall, 1) if wall else 0.0,
        peak_rss_mb=round(peak[0] / MB, 1),
        spark_peak_execution_mb=None if executor is None else round(executor, 1),
        spark_task_peak_execution_mb=None if task is None else round(task, 1),
        driver_peak_rss_mb=round(peak[1] / MB, 1) if peak[1] else None,
        driver_peak_heap_mb=None if heap is None else round(heap, 1),
        written=dict(sorted(written.items())),
        stdout=stdout.splitlines(),
    )


def print_steps(steps: Iterable[Step]) -> None:
    """The step table: wall, rows in and out, rows/s, memory."""
    head = f"{'step':<40}{'wall s':>9}{'rows in':>13}{'rows out':>13}{'rows/s':>11}{'RSS MB':>9}{'JVM MB':>9}"
    print(head + f"{'heap MB':>9}{'exec MB':>9}{'task MB':>9}")
    for s in steps:
        measured = (
            s.driver_peak_rss_mb,
            s.driver_peak_heap_mb,
            s.spark_peak_execution_mb,
            s.spark_task_peak_execution_mb,
        )
        mem = ("-" if v is None else f"{v:.0f}" for v in measured)
        print(
            f"{s.name:<40}{s.wall_s:>9.1f}{s.input_rows:>13,}{s.output_rows:>13,}{s.rows_per_s:>11,.0f}"
            f"{s.peak_rss_mb:>9.0f}" + "".join(f"{m:>9}" for m in mem)
        )


def print_rows(rows: Mapping[str, int], title: str = "table") -> None:
    print(f"{title:<40}{'rows':>13}")
    for name, n in rows.items():
        print(f"{name:<40}{n:>13,}")


def write_json(path: Path, payload: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\nwritten {path}")
    return path
