"""The scale benchmark runs end to end at a tiny size: every stage measured, both equality checks passed.

Checks that the harness works (its JSON), not its timings. DuckDB is a benchmark-only dependency
(requirements/bench.txt, installed by `make bench`): without it the harness runs with --skip-duckdb and only the
DuckDB check is skipped.
"""

from __future__ import annotations

import importlib.util
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
    "build features (--full)",
    "build gold (--full)",
)
FACTS = {"gold.daily_sales", "gold.funnel", "gold.channel_roi", "gold.alerts", "gold.anomalies"} | {
    "gold.alert_digest",
    "features.item_store_day",
}
SNAPSHOTS = {
    "gold.customer_360",
    "gold.rfm_segments",
    "gold.cohort_members",
    "gold.cohort_retention",
    "gold.sku_matrix",
    "gold.sell_through",
    "features.customer_asof",
}
DUCKDB_TABLES = {"gold.daily_sales", "gold.rfm_segments", "gold.cohort_retention", "gold.sku_matrix"}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "OMNILAKE_ENV": "test", "PYTHONPATH": str(ROOT)}
    # the smallest size the generator plants every kind of dirt in, with the test env's 4 stores x 60 SKUs
    argv = ["--sf", "0.01", "--customers", "100", "--days", "30", "--skip-ml", "--home", str(tmp / "home")]
    if importlib.util.find_spec("duckdb") is None:
        argv.append("--skip-duckdb")
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


def test_incremental_day_equals_full_rebuild_and_ratios_written(result: dict) -> None:
    equal = result["incremental_equals_full"]
    assert set(equal) == FACTS | SNAPSHOTS
    assert all(equal.values()), equal
    ratios = result["ratios"]
    assert set(ratios["incremental_vs_full"]) == {"ingest", "features", "gold", "total"}
    assert ratios["incremental_vs_full"]["total"]["ratio"] > 0
    assert result["tables"]["silver.order_lines"] > 0


def test_duckdb_gold_equals_spark(result: dict) -> None:
    duck = result["duckdb"]
    if duck is None:
        pytest.skip("duckdb is not installed (requirements/bench.txt)")
    for job in ("tables", "four_table_job"):  # `build gold --full`, and the cold four-table Spark process
        assert set(duck[job]) == DUCKDB_TABLES, job
        assert all(t["equal"] for t in duck[job].values()), duck[job]
        assert all(t["spark_rows"] == t["duckdb_rows"] > 0 for t in duck[job].values()), job
    assert duck["equal"]
    assert result["ratios"]["engine"]["spark_over_duckdb"] > 0
