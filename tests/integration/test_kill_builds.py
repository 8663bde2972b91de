"""Issue 11, fault injection beyond ingest: an incremental `build gold` (`build features` too with
OMNILAKE_KILL_SWEEP=1), or a `score all`, killed between two of its table commits, then rerun, leaves every table it
writes equal to the uninterrupted run; and a `score all` started while `build gold` runs (their own locks) finishes
beside it, both writing what they write alone.

The lake is built to day 4 (ingest, gold, features, `train all`: each model's champion), then days 5-6 are ingested:
the killed build is the incremental one a daily run makes, with its watermarks and running state (gold.grid_state,
the snapshots) from day 4; scoring is as of day 4. The kill is raised in-process right after the Nth table commit
(the hook of jobs/io/faults.py, as in test_kill_and_rerun.py), N a share of the commits the uninterrupted run makes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from jobs.cli import main
from jobs.common.config import load_config
from jobs.common.locks import lock_dir
from jobs.io.tables import Catalog
from jobs.orchestration.assets import SERVING
from tests.integration.test_kill_and_rerun import Killed, _kill_at
from tests.support.locks import wait_until_held

pytestmark = pytest.mark.integration
PII_KEY = "00112233445566778899aabbccddeeff"
SWEEP_ENV = "OMNILAKE_KILL_SWEEP"
SWEEP = os.environ.get(SWEEP_ENV) == "1"
# `build features` commits through the same writers as `build gold` (jobs/io/writes.py: write_facts, write_in_waves,
# the snapshots' replaceWhere); its killed build runs in the sweep only, to keep the suite's time
LAYERS = ("gold", "features", "score") if SWEEP else ("gold", "score")
# what a gold build writes from the demand forecast that scoring writes (which forecast it reads depends on when),
# with the columns the forecast does not change; gold.stock_transfers is the forecast's through and through (who
# gives and who takes follows the order-up-to levels), so beside scoring only its presence is compared
FORECAST_FREE = {
    "gold.inventory_health": ("as_of", "store_id", "sku", "on_hand"),
    "gold.replenishment": ("as_of", "store_id", "sku", "on_hand", "on_order", "lead_time_days", "review_days"),
    "gold.stock_transfers": (),
}
# what a gold build reads from the churn and LTV scores that scoring writes: the rows of gold.marketing_audiences'
# audience high_value_at_risk follow whichever scores the build found, so beside scoring the others are compared
SCORE_FED = {"gold.marketing_audiences": ("audience", "high_value_at_risk")}


def _use(home: Path, mp: pytest.MonkeyPatch) -> None:
    for key, value in {"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home), "OMNILAKE_PII_KEY": PII_KEY}.items():
        mp.setenv(key, value)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, date]:
    """A lake built to day 4, champions trained as of day 4, days 5-6 ingested and not yet built; returns
    (home, day 6)."""
    home = tmp_path_factory.mktemp("kill_builds") / "home"
    mp = pytest.MonkeyPatch()
    try:
        _use(home, mp)
        assert main(["generate", "--customers", "40", "--days", "6", "--seed", "5"]) == 0
        first = min(date.fromisoformat(p.name) for p in (home / "landing" / "web_orders").iterdir())
        day4, day6 = first + timedelta(days=3), first + timedelta(days=5)
        assert main(["ingest", "--date", day4.isoformat()]) == 0
        for layer in ("gold", "features"):
            assert main(["build", layer, "--as-of", day4.isoformat()]) == 0
        assert main(["train", "all", "--as-of", day4.isoformat()]) == 0
        assert main(["ingest", "--date", day6.isoformat()]) == 0
    finally:
        mp.undo()
    return home, day6


def _copy(base: Path, tmp_path: Path, mp: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(base, home, ignore=shutil.ignore_patterns("run"))
    _use(home, mp)
    return home


def _argv(layer: str, day6: date) -> list[str]:
    if layer == "score":
        return ["score", "all", "--as-of", (day6 - timedelta(days=2)).isoformat()]
    return ["build", layer, "--as-of", day6.isoformat()]


def _writes(layer: str, name: str) -> bool:
    """Whether `layer`'s run writes table `name` (scoring writes the serving tables of the gold zone)."""
    return name in SERVING if layer == "score" else name.split(".")[0] == layer and name not in SERVING


def _state(spark, home: Path, layer: str) -> dict[str, list[tuple[str, ...]]]:
    """Every table `layer` writes: its rows (no lineage columns), sorted."""
    catalog = Catalog.from_config(spark, load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home)}))
    content = {}
    for name in catalog.list_tables():
        if _writes(layer, name):
            df = catalog.read(name)
            cols = sorted(c for c in df.columns if not c.startswith("_"))
            content[name] = sorted(tuple(str(v) for v in r) for r in df.select(*cols).collect())
    return content


def _score_free(rows: list[tuple[str, ...]], columns: list[str], column: str, value: str) -> list[tuple[str, ...]]:
    """A score-fed table's rows but those whose `column` is `value` (the rows the scores decide)."""
    at = columns.index(column)
    return [r for r in rows if r[at] != value]


def _forecast_free(rows: list[tuple[str, ...]], columns: list[str], keep: tuple[str, ...]) -> list[tuple[str, ...]]:
    """A forecast-fed table's rows on the columns `keep` that do not depend on the demand forecast."""
    at = [columns.index(c) for c in keep]
    return sorted(tuple(r[i] for i in at) for r in rows) if at else []


@pytest.fixture(scope="module")
def reference(base, spark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict]]:
    """Per layer: (commits of the uninterrupted run, its tables)."""
    out = {}
    for layer in LAYERS:
        mp = pytest.MonkeyPatch()
        try:
            home = _copy(base[0], tmp_path_factory.mktemp(f"ref_{layer}"), mp)
            commits = _kill_at(10**9, mp)
            assert main(_argv(layer, base[1])) == 0
            out[layer] = (commits(), _state(spark, home, layer))
        finally:
            mp.undo()
    return out


def _kill_points(commits: int, share: float) -> list[int]:
    """The commit to kill after: `share` of the way through, or every one of them with OMNILAKE_KILL_SWEEP=1 (slow:
    one build and one rerun per commit; run by hand after changing a build's writes)."""
    if SWEEP:
        return list(range(1, commits))
    return [max(1, int(commits * share))]


@pytest.mark.parametrize(("layer", "share"), [(layer, 0.5) for layer in LAYERS])
def test_a_killed_build_then_a_rerun_equals_the_uninterrupted_build(
    layer: str, share: float, base, reference, spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits, expected = reference[layer]
    assert commits >= 2, f"{layer} made {commits} commit(s): nothing to kill between"
    if layer == "score":  # every model scored: a serving table per model (demand: forecasts and their levels)
        assert set(expected) == set(SERVING) and all(expected.values()), {t: len(r) for t, r in expected.items()}
    argv = _argv(layer, base[1])
    for at in _kill_points(commits, share):
        home = _copy(base[0], tmp_path / str(at), monkeypatch)
        with monkeypatch.context() as m:
            _kill_at(at, m)
            with pytest.raises(Killed):
                main(argv)
        assert main(argv) == 0
        assert _state(spark, home, layer) == expected, f"killed after commit {at} of {commits}"


def test_scoring_during_a_gold_build_runs_beside_it_and_both_write_what_they_write_alone(
    base, reference, spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build gold` in its own process holds lock build-gold; `score all` (lock score) starts meanwhile and is not
    refused. Each writes what it writes alone; the gold tables fed by the forecast scoring writes (FORECAST_FREE) are
    compared on the columns the forecast does not change (which forecast they read depends on the timing)."""
    home = _copy(base[0], tmp_path, monkeypatch)
    build = subprocess.Popen(
        [sys.executable, "-m", "jobs", *_argv("gold", base[1])], env={**os.environ}, stderr=subprocess.PIPE
    )
    wait_until_held(lock_dir(home) / "build-gold.lock", build)
    assert build.poll() is None  # scoring starts while the build runs
    assert main(_argv("score", base[1])) == 0
    _, err = build.communicate(timeout=900)
    assert build.returncode == 0, err.decode()[-2000:]

    assert _state(spark, home, "score") == reference["score"][1]
    gold, expected = _state(spark, home, "gold"), reference["gold"][1]
    assert set(gold) == set(expected)
    fed = {*FORECAST_FREE, *SCORE_FED}
    assert {t: r for t, r in gold.items() if t not in fed} == {t: r for t, r in expected.items() if t not in fed}
    catalog = Catalog.from_config(spark, load_config())
    for table, keep in FORECAST_FREE.items():
        columns = sorted(c for c in catalog.read(table).columns if not c.startswith("_"))
        assert _forecast_free(gold[table], columns, keep) == _forecast_free(expected[table], columns, keep), table
    for table, (column, value) in SCORE_FED.items():
        columns = sorted(c for c in catalog.read(table).columns if not c.startswith("_"))
        assert _score_free(gold[table], columns, column, value) == _score_free(
            expected[table], columns, column, value
        ), table
