"""Issue 11, fault injection beyond ingest: an incremental `build gold` / `build features` killed between two of its
table commits, then rerun, leaves every gold and features table equal to the uninterrupted build.

The lake is built to day 4 (ingest, gold, features), then days 5-6 are ingested: the killed build is the incremental
one a daily run makes, with its watermarks and running state (gold.grid_state, the snapshots) from day 4. The
kill is raised in-process right after the Nth table commit (the hook of jobs/io/faults.py, as in
test_kill_and_rerun.py), N a share of the commits the uninterrupted build makes.
"""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from jobs.cli import main
from jobs.common.config import load_config
from jobs.io.tables import Catalog
from tests.integration.test_kill_and_rerun import Killed, _kill_at

pytestmark = pytest.mark.integration
PII_KEY = "00112233445566778899aabbccddeeff"
SWEEP_ENV = "OMNILAKE_KILL_SWEEP"


def _use(home: Path, mp: pytest.MonkeyPatch) -> None:
    for key, value in {"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home), "OMNILAKE_PII_KEY": PII_KEY}.items():
        mp.setenv(key, value)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, date]:
    """A lake built to day 4 with days 5-6 ingested and not yet built; returns (home, day 6)."""
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
        assert main(["ingest", "--date", day6.isoformat()]) == 0
    finally:
        mp.undo()
    return home, day6


def _copy(base: Path, tmp_path: Path, mp: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(base, home, ignore=shutil.ignore_patterns("run"))
    _use(home, mp)
    return home


def _state(spark, home: Path, zones: tuple[str, ...]) -> dict[str, list[tuple[str, ...]]]:
    """Every table of `zones`: its rows (no lineage columns), sorted."""
    catalog = Catalog.from_config(spark, load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home)}))
    content = {}
    for name in catalog.list_tables():
        if name.split(".")[0] in zones:
            df = catalog.read(name)
            cols = sorted(c for c in df.columns if not c.startswith("_"))
            content[name] = sorted(tuple(str(v) for v in r) for r in df.select(*cols).collect())
    return content


@pytest.fixture(scope="module")
def reference(base, spark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict]]:
    """Per layer: (commits of the uninterrupted build, its tables)."""
    out = {}
    for layer in ("gold", "features"):
        mp = pytest.MonkeyPatch()
        try:
            home = _copy(base[0], tmp_path_factory.mktemp(f"ref_{layer}"), mp)
            commits = _kill_at(10**9, mp)
            assert main(["build", layer, "--as-of", base[1].isoformat()]) == 0
            out[layer] = (commits(), _state(spark, home, (layer,)))
        finally:
            mp.undo()
    return out


def _kill_points(commits: int, share: float) -> list[int]:
    """The commit to kill after: `share` of the way through, or every one of them with OMNILAKE_KILL_SWEEP=1 (slow:
    one build and one rerun per commit; run by hand after changing a build's writes)."""
    if os.environ.get(SWEEP_ENV) == "1":
        return list(range(1, commits))
    return [max(1, int(commits * share))]


@pytest.mark.parametrize(("layer", "share"), [("gold", 0.5), ("features", 0.5)])
def test_a_killed_build_then_a_rerun_equals_the_uninterrupted_build(
    layer: str, share: float, base, reference, spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits, expected = reference[layer]
    assert commits >= 2, f"build {layer} made {commits} commit(s): nothing to kill between"
    argv = ["build", layer, "--as-of", base[1].isoformat()]
    for at in _kill_points(commits, share):
        home = _copy(base[0], tmp_path / str(at), monkeypatch)
        with monkeypatch.context() as m:
            _kill_at(at, m)
            with pytest.raises(Killed):
                main(argv)
        assert main(argv) == 0
        assert _state(spark, home, (layer,)) == expected, f"killed after commit {at} of {commits}"
