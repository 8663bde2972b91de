"""Issue 11, defect 1: a run killed between commits converges on rerun to the uninterrupted result, and no file is
ever registered as loaded without its rows in bronze.

The fault is the hook of jobs/io/faults.py (`OMNILAKE_FAULT_KILL_AFTER_COMMITS=N` SIGKILLs the process after its Nth
table commit), here raised in-process at the same point (a BaseException no code catches), so the session's Spark
runs every case; one case kills a real `omnilake ingest` process with the environment variable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.common.config import load_config
from jobs.io import faults
from jobs.io.faults import FAULT_ENV
from jobs.io.tables import Catalog

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
SILVER = ("silver.order_lines", "silver.orders", "silver.events", "silver.members", "silver.inventory")


class Killed(BaseException):
    """The injected fault: nothing in the code under test catches a BaseException that is not an Exception."""


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, date]:
    """A tiny world (40 customers x 6 days), generated once."""
    home = tmp_path_factory.mktemp("kill_landing")
    environ = {"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home)}
    mp = pytest.MonkeyPatch()
    for key, value in environ.items():
        mp.setenv(key, value)
    try:
        assert main(["generate", "--customers", "40", "--days", "6", "--seed", "5"]) == 0
    finally:
        mp.undo()
    cfg = load_config(environ=environ)
    first = min(date.fromisoformat(p.name) for p in (Path(cfg.paths.landing) / "web_orders").iterdir())
    return Path(cfg.paths.landing), first


def _home(tmp_path: Path, name: str, landing: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / name
    shutil.copytree(landing, home / "landing")
    monkeypatch.setenv("OMNILAKE_ENV", "test")
    monkeypatch.setenv("OMNILAKE_HOME", str(home))
    monkeypatch.setenv("OMNILAKE_PII_KEY", "00112233445566778899aabbccddeeff")
    return home


def _kill_at(at: int | str, monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Raise Killed right after the nth commit from now, or after the first commit to table `at`; returns a counter
    of commits seen."""
    seen = [0]
    real = faults.after_commit

    def after_commit(name: str) -> None:
        real(name)
        seen[0] += 1
        if seen[0] == at or name == at:
            raise Killed(f"after commit {seen[0]} ({name})")

    for module in ("jobs.io.tables", "jobs.io.lake"):
        monkeypatch.setattr(f"{module}.after_commit", after_commit)
    return lambda: seen[0]


def _state(spark, home: Path) -> dict[str, object]:
    """Silver content (no lineage columns) and the registry-vs-bronze check of one home."""
    catalog = Catalog.from_config(spark, load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home)}))
    registry = catalog.read("ops.file_registry").where(F.col("status") == "loaded")
    registered = {(r["source"], r["file"]) for r in registry.select("source", "file").collect()}
    in_bronze = set()
    for source in {s for s, _ in registered}:
        files = catalog.read(f"bronze.{source}").select("_source_file").distinct().collect()
        in_bronze |= {(source, r["_source_file"]) for r in files}
    content: dict[str, list[tuple[str, ...]]] = {}
    quarantine = catalog.read("silver.quarantine").select("source", "source_file", "reason_code", "column", "record")
    content["silver.quarantine"] = sorted(tuple(str(v) for v in r) for r in quarantine.collect())
    for name in SILVER:
        df = catalog.read(name)
        cols = sorted(c for c in df.columns if not c.startswith("_"))
        content[name] = sorted(tuple(str(v) for v in r) for r in df.select(*cols).collect())
    return {"registered_without_rows": registered - in_bronze, "content": content}


def _ingest(day: date) -> int:
    return main(["ingest", "--date", day.isoformat()])


@pytest.fixture(scope="module")
def reference(landing: tuple[Path, date], spark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The uninterrupted run: day 1, then days 2..4."""
    mp = pytest.MonkeyPatch()
    try:
        home = _home(tmp_path_factory.mktemp("kill_ref"), "home", landing[0], mp)
        first = landing[1]
        assert _ingest(first) == 0 and _ingest(first + timedelta(days=3)) == 0
        return _state(spark, home)
    finally:
        mp.undo()


# 2: two bronze appends committed, the registry not (defect 1 as reported); silver.quarantine: the registry and the
# quarantine rows committed, the audit not, so the rerun processes the same batches again, with new ones (defect 9).
# The SIGKILL case below stops after every bronze append, before the registry. Commits 10, 13 and 18 passed too;
# they are left out for the suite's time.
@pytest.mark.parametrize("kill_after", [2, "silver.quarantine"])
def test_a_killed_ingest_then_a_later_one_equals_the_uninterrupted_run(
    kill_after: int | str, landing, reference, spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home(tmp_path, "home", landing[0], monkeypatch)
    first = landing[1]
    with monkeypatch.context() as m:
        _kill_at(kill_after, m)
        with pytest.raises(Killed):
            _ingest(first)
    assert _ingest(first + timedelta(days=3)) == 0  # rerun two days later: new days' files too
    state = _state(spark, home)
    assert state["registered_without_rows"] == set()
    assert state["content"] == reference["content"]


def test_a_sigkilled_ingest_process_then_a_rerun_loses_nothing(landing, reference, spark, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(landing[0], home / "landing")
    env = {
        **os.environ,
        "OMNILAKE_ENV": "test",
        "OMNILAKE_HOME": str(home),
        "OMNILAKE_PII_KEY": "00112233445566778899aabbccddeeff",
        "PYTHONPATH": str(REPO),
    }
    first = landing[1]
    killed = subprocess.run(
        [sys.executable, "-m", "jobs", "ingest", "--date", first.isoformat()],
        env={**env, FAULT_ENV: "10"},
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert "fault.kill" in killed.stderr
    mp = pytest.MonkeyPatch()
    try:
        for key in ("OMNILAKE_ENV", "OMNILAKE_HOME", "OMNILAKE_PII_KEY"):
            mp.setenv(key, env[key])
        assert _ingest(first + timedelta(days=3)) == 0
    finally:
        mp.undo()
    state = _state(spark, home)
    assert state["registered_without_rows"] == set()
    assert state["content"] == reference["content"]
