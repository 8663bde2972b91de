"""The scale benchmark runs at a tiny size: every stage measured, its JSON written.

Checks that the harness works, not its timings. The smoke runs the history and the incremental day only
(`--no-full`): the full rebuild and the incremental-equals-full check it feeds are what
tests/integration/gold/test_incremental.py and test_run_gold.py check on the same build code, and the DuckDB
comparison (requirements/bench.txt, `make bench`) needs that rebuild as its reference.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
STEPS = (
    "generate",
    "ingest (all but the last day)",
    "build features (first, all partitions)",
    "build gold (first, all partitions)",
    "ingest (last day)",
    "build features (incremental day)",
    "build gold (incremental day)",
)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "OMNILAKE_ENV": "test", "PYTHONPATH": str(ROOT)}
    # the smallest size the generator plants every kind of dirt in, with the test env's 4 stores x 60 SKUs
    argv = ["--sf", "0.01", "--customers", "100", "--days", "30", "--skip-ml", "--no-full", "--home", str(tmp / "home")]
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale_bench.py"), *argv, "--results", str(tmp / "results")],
        env=env,
        check=True,
        cwd=ROOT,
    )
    (written,) = (tmp / "results").glob("*-sf0.01-100x30.json")
    return json.loads(written.read_text())


def test_every_stage_is_measured_with_rows(result: dict) -> None:
    steps = result["steps"]
    assert tuple(steps) == STEPS
    for name, step in steps.items():
        assert step["wall_s"] > 0, name
        assert step["output_rows"] > 0, name
        assert step["rows_per_s"] > 0, name
        assert step["peak_rss_mb"] > 0, name
        if name != "generate":  # reads nothing; every other step reads tables and runs Spark
            assert step["input_rows"] > 0, name
            assert step["spark_task_peak_execution_mb"] is not None, name
            # the driver JVM (the runner's for a warm step) is one process of the measured tree
            assert 0 < step["driver_peak_rss_mb"] <= step["peak_rss_mb"], name
            assert step["driver_peak_heap_mb"] > 0, name
    # an ingest's input is the landing records it loads into bronze: at most what generate wrote (a file
    # delivered twice, planted dirt, is loaded once)
    ingests = steps["ingest (all but the last day)"]["input_rows"] + steps["ingest (last day)"]["input_rows"]
    assert 0.9 * steps["generate"]["output_rows"] < ingests <= steps["generate"]["output_rows"]


def test_the_day_against_the_history_and_the_tables_are_written(result: dict) -> None:
    assert result["incremental_equals_full"] == {}  # no --full rebuild to compare with
    assert result["duckdb"] is None
    ratios = result["ratios"]["incremental_vs_full"]
    assert set(ratios) == {"ingest", "total"}  # the only stage whose "full" (every delivery) the smoke runs
    assert ratios["ingest"]["ratio"] > 0
    assert result["ratios"]["whole_chain_s"] == pytest.approx(sum(s["wall_s"] for s in result["steps"].values()), 0.01)
    assert result["tables"]["silver.order_lines"] > 0 and result["tables"]["gold.daily_sales"] > 0
