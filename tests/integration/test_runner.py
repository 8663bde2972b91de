"""The warm Spark runner of the DAGs' Spark steps (jobs/orchestration/runner.py): a real runner process with its own
JVM in a temp home. One runner serves several commands; a failing command is its exit status and error line, not
the runner's end; another identity replaces it; a client that goes away ends it; each command starts from the
session's settings and an empty cache."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.common.config import Config, load_config
from jobs.orchestration.runner import _reset, alive, read_info, run_step, stop_runner

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    environ = {**os.environ, "OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(tmp_path_factory.mktemp("runner") / "home")}
    yield environ
    stop_runner(load_config(environ=environ))


def _run(environ: dict[str, str], argv: list[str]) -> tuple[int, str]:
    out: list[str] = []
    code = run_step(load_config(environ=environ), argv, environ=environ, out=out.append)
    return code, "".join(out)


def test_one_runner_serves_several_commands_and_survives_a_failing_one(home: dict[str, str]) -> None:
    cfg = load_config(environ=home)
    code, out = _run(home, ["tables"])
    assert code == 0 and f"no tables under {cfg.paths.warehouse}" in out
    first = read_info(cfg)
    assert first is not None and alive(first.pid)
    assert os.stat(Path(cfg.home) / "run" / "spark-runner.json").st_mode & 0o077 == 0  # its token is the owner's

    code, out = _run(home, ["export", "gold.no_such_table", "--out", str(Path(cfg.home) / "x.csv")])
    assert code == 3 and "omnilake export: error:" in out and "gold.no_such_table" in out
    code, out = _run(home, ["build", "gold", "--as-of", "not-a-date"])
    assert code == 2 and "not a date" in out  # argparse's usage error, not the runner's end

    code, _ = _run(home, ["tables"])
    assert code == 0 and read_info(cfg) == first  # the same warm process served all four


def test_another_identity_replaces_the_runner(home: dict[str, str]) -> None:
    cfg = load_config(environ=home)
    _run(home, ["tables"])
    before = read_info(cfg)
    other = {**home, "OMNILAKE__LOGGING__LEVEL": "ERROR"}  # another config: the old driver must not serve it
    code, _ = _run(other, ["tables"])
    after = read_info(cfg)
    assert code == 0 and before is not None and after is not None
    assert after.pid != before.pid and after.identity != before.identity
    assert not alive(before.pid)


def test_a_client_that_goes_away_ends_the_runner(home: dict[str, str], tmp_path: Path) -> None:
    cfg = load_config(environ=home)
    _run(home, ["tables"])
    info = read_info(cfg)
    assert info is not None
    # a command that runs for a while (a year of 20k customers), killed as Airflow kills a timed-out task
    argv = ["runner", "exec", "generate", "--customers", "20000", "--days", "365", "--out", str(tmp_path / "land")]
    client = subprocess.Popen([sys.executable, "-m", "jobs", *argv], env=home, cwd=REPO)
    time.sleep(4)
    assert client.poll() is None and alive(info.pid)
    client.kill()
    client.wait()
    deadline = time.monotonic() + 30
    while alive(info.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(info.pid)
    code, _ = _run(home, ["tables"])  # the next step starts a fresh runner
    assert code == 0 and read_info(cfg).pid != info.pid


def test_reset_drops_what_a_command_left_in_the_session(spark, cfg: Config) -> None:
    baseline = dict(spark.conf.getAll)
    frame = spark.range(10).cache()
    frame.count()
    spark.conf.set("spark.databricks.delta.write.txnAppId", "left-over")
    spark.conf.set("spark.sql.shuffle.partitions", "7")
    cache = spark._jsparkSession.sharedState().cacheManager()
    assert not cache.isEmpty()
    _reset(spark, baseline)
    assert dict(spark.conf.getAll) == baseline
    assert cache.isEmpty()
