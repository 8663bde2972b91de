"""`omnilake demo`: generated data through Airflow's own runs on an embedded SQLite Airflow under OMNILAKE_HOME.

Stages: set-up (airflow db migrate), generate, the history as one date-range run of omnilake_daily, the last few
days one run each, omnilake_retrain as of the last day, then the summary. Each stage prints its elapsed time and
each Airflow task its end state; the full Airflow output of every run is kept under <airflow_home>/demo-logs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jobs.common.config import Config
from jobs.orchestration.harness import airflow_env, dags_test, migrate, missing_steps, write_env_file
from jobs.orchestration.report import print_summary


class DemoError(Exception):
    """The demo cannot run on this OMNILAKE_HOME as it is; the message says what to do."""


@dataclass(frozen=True)
class DemoParams:
    customers: int
    days: int
    seed: int
    daily_days: int
    reset: bool = False


class _Clock:
    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo, self.started = echo, time.monotonic()

    def stamp(self) -> str:
        secs = time.monotonic() - self.started
        return f"[demo {int(secs) // 60:02d}:{secs % 60:04.1f}]"

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        self.echo(f"{self.stamp()} {name} ...")
        yield
        self.echo(f"{self.stamp()} {name}: done in {time.monotonic() - began:.1f} s")


def _reset(cfg: Config) -> None:
    """Remove the demo's state folders, only those inside OMNILAKE_HOME, after stopping its Spark runner (a warm
    driver must not outlive the tables it has read)."""
    from jobs.orchestration.runner import stop_runner

    stop_runner(cfg)
    home = Path(cfg.home).resolve()
    for folder in (
        cfg.paths.landing,
        cfg.paths.warehouse,
        cfg.paths.exports,
        cfg.paths.airflow_home,
        Path(cfg.paths.mlflow_artifacts).parent,
    ):
        path = Path(folder).resolve()
        if path.is_relative_to(home) and path != home and path.exists():
            shutil.rmtree(path)


def _landing_matches(landing: Path, params: DemoParams) -> bool:
    """True when landing already holds this dataset; DemoError when it holds another one."""
    manifest = landing / "_manifest.json"
    if not manifest.exists():
        return False
    found = json.loads(manifest.read_text())
    wanted = {"seed": params.seed, "customers": params.customers, "days": params.days}
    if any(found.get(k) != v for k, v in wanted.items()):
        have = {k: found.get(k) for k in wanted}
        raise DemoError(
            f"{landing} holds another dataset {have}, not {wanted}: run `omnilake demo --reset` "
            "(removes this OMNILAKE_HOME's demo state) or set another OMNILAKE_HOME"
        )
    return True


def _runs(first: date, last: date, daily_days: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, dag_id, params) of every Airflow run, in order."""
    history_end = last - timedelta(days=daily_days)
    if history_end < first:
        raise DemoError(f"daily_days={daily_days} leaves no history in {first}..{last}")
    runs = [
        (
            f"history {first}..{history_end}",
            "omnilake_daily",
            {"start": first.isoformat(), "end": history_end.isoformat()},
        )
    ]
    for offset in range(daily_days, 0, -1):
        day = last - timedelta(days=offset - 1)
        runs.append((f"daily {day}", "omnilake_daily", {"end": day.isoformat()}))
    runs.append((f"retrain as of {last}", "omnilake_retrain", {"as_of": last.isoformat()}))
    return runs


def run_demo(
    cfg: Config,
    params: DemoParams,
    *,
    build_parser: Callable[[], argparse.ArgumentParser],
    echo: Callable[[str], None] = print,
) -> int:
    """Run the whole demo; 0 when every Airflow run succeeded. `build_parser` builds the `omnilake` command's
    parser: a Spark step it has no command for is marked successful instead of run."""
    from jobs.generate.command import generate_landing
    from jobs.orchestration.runner import stop_runner

    clock = _Clock(echo)
    landing, logs = Path(cfg.paths.landing), Path(cfg.paths.airflow_home) / "demo-logs"
    with clock.stage(f"set-up (Airflow home {cfg.paths.airflow_home}, Spark {cfg.spark.master})"):
        if params.reset:
            _reset(cfg)
        have_data = _landing_matches(landing, params)
        env = airflow_env(cfg)
        env_file = write_env_file(env, Path(cfg.paths.airflow_home) / "env.sh")
        migrate(env, logs / "db-migrate.log")
        skipped = missing_steps(build_parser)
        for step in skipped:
            echo(
                f"    note: Spark step '{step}' is marked successful without running: this checkout's "
                "`omnilake` has no command for it yet"
            )
    with clock.stage(f"generate {params.customers:,} customers x {params.days} days (seed {params.seed})"):
        if have_data:
            echo(f"    {landing} already holds this dataset")
        else:
            try:
                summary = generate_landing(
                    cfg, customers=params.customers, days=params.days, seed=params.seed, out=str(landing)
                )
            except OSError as exc:
                raise DemoError(f"omnilake generate failed: {exc}") from exc
            echo(summary)
    manifest = json.loads((landing / "_manifest.json").read_text())
    first, last = date.fromisoformat(manifest["start_date"]), date.fromisoformat(manifest["end_date"])
    try:
        for number, (label, dag_id, conf) in enumerate(_runs(first, last, params.daily_days), start=1):
            log = logs / f"{number:02d}-{dag_id}-{label.split()[-1]}.log"
            with clock.stage(f"{dag_id}: {label}"):
                result = dags_test(dag_id, env=env, conf=conf, log=log, mark_success=skipped, echo=echo)
            if not result.ok:
                echo(f"{clock.stamp()} {dag_id} ({label}) failed after {result.seconds:.0f} s; Airflow output: {log}")
                return 1
    finally:  # the runs' warm Spark runner (conf orchestration.spark_steps) is not left holding memory
        stop_runner(cfg)
    print_summary(cfg, airflow_env_file=env_file, echo=echo)
    echo(f"\n{clock.stamp()} demo finished")
    return 0
