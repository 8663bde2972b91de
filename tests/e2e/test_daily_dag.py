"""End to end: omnilake_daily through `airflow dags test` (embedded SQLite Airflow; the Spark steps in the warm
runner on local[2], conf orchestration.spark_steps) on tiny generated data. Module-scoped fixtures, in order: a
history run over every day but the last two (one date-range run), small champion models trained on it (`omnilake
train all`, as a user would, in its own process), a one-day run that scores with them, then the spike test delivers
a bad last day."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from jobs.cli import build_parser
from jobs.common.config import Config, load_config
from jobs.io.lake import lake_path
from jobs.io.listing import table_summaries
from jobs.orchestration.assets import FEATURES, GOLD, SERVING
from jobs.orchestration.harness import RunResult, airflow_env, dags_test, migrate, missing_steps
from jobs.orchestration.ops import FAILURES
from jobs.orchestration.runner import stop_runner

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
CUSTOMERS, DAYS, SEED = 300, 21, 3  # the generator's smallest comfortable size; Spark start-up dominates anyway


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Generated landing data, a migrated Airflow DB, and the environment every `airflow` command gets."""
    root = tmp_path_factory.mktemp("e2e")
    base = {**os.environ, "OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(root / "home")}
    cfg = load_config(environ=base)
    env = airflow_env(cfg, base=base)
    migrate(env, root / "logs" / "db-migrate.log")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jobs.cli",
            "generate",
            "--customers",
            str(CUSTOMERS),
            "--days",
            str(DAYS),
            "--seed",
            str(SEED),
            "--out",
            cfg.paths.landing,
        ],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    manifest = json.loads((Path(cfg.paths.landing) / "_manifest.json").read_text())
    yield {
        "cfg": cfg,
        "env": env,
        "logs": root / "logs",
        "skip": missing_steps(build_parser),
        "first": date.fromisoformat(manifest["start_date"]),
        "last": date.fromisoformat(manifest["end_date"]),
    }
    stop_runner(cfg)  # the steps' warm Spark runner (started by the first run's first Spark step)


def _run(stack: dict[str, Any], name: str, conf: dict[str, str]) -> RunResult:
    return dags_test(
        "omnilake_daily", env=stack["env"], conf=conf, log=stack["logs"] / f"{name}.log", mark_success=stack["skip"]
    )


@pytest.fixture(scope="module")
def history(stack: dict[str, Any]) -> RunResult:
    """Every day but the last two, as one date-range run (one Spark submission per layer)."""
    end = stack["last"] - timedelta(days=2)
    return _run(stack, "history", {"start": stack["first"].isoformat(), "end": end.isoformat()})


@pytest.fixture(scope="module")
def champions(stack: dict[str, Any], history: RunResult) -> subprocess.CompletedProcess[str]:
    """Small champion models, trained as of the history's last day with the real CLI and MLflow registry (21 days
    are too short for a labelled comparison, so each model's label-free configuration becomes `champion`)."""
    assert history.ok, f"see {history.log}"
    as_of = (stack["last"] - timedelta(days=2)).isoformat()
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli", "train", "all", "--as-of", as_of],
        env=stack["env"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def daily(stack: dict[str, Any], champions: subprocess.CompletedProcess[str]) -> RunResult:
    """The next day through omnilake_daily, scored with the champions."""
    assert champions.returncode == 0, champions.stdout + champions.stderr
    return _run(stack, "daily", {"end": (stack["last"] - timedelta(days=1)).isoformat()})


def _as_of_dates(cfg: Config, table: str) -> set[date]:
    snapshots = DeltaTable(str(lake_path(cfg, table))).to_pyarrow_table(columns=["as_of"])
    return {d.as_py() for d in snapshots.column("as_of").unique()}


def _rows(cfg: Config) -> dict[str, int]:
    return {r["table"]: r["rows"] for r in table_summaries(cfg)}


def test_range_run_fills_silver_gold_features_and_exports(stack: dict[str, Any], history: RunResult) -> None:
    cfg: Config = stack["cfg"]
    assert history.ok, f"see {history.log}: {[(t.task_id, t.state, t.error) for t in history.tasks]}"
    steps = ["business_dates", "ingest", "quality_gate", "build_features", "score", "build_gold", "export_serving"]
    assert [t.task_id for t in history.tasks] == [s for s in steps if s not in stack["skip"]]
    assert all(t.state == "success" for t in history.tasks)
    rows = _rows(cfg)
    layers = {"build_features": FEATURES, "build_gold": GOLD}  # (score: below)
    ran = [t for step, tables in layers.items() if step not in stack["skip"] for t in tables]
    for table in ("silver.order_lines", "silver.orders", "silver.events", "silver.customers", "ops.batch_audit", *ran):
        assert rows.get(table, 0) > 0, f"{table} is empty or missing: {sorted(rows)}"
    end = stack["last"] - timedelta(days=2)
    for table in ("features.customer_asof", "gold.rfm_segments"):  # a range run snapshots its end (param default)
        assert _as_of_dates(cfg, table) == {end}, table
    exports = Path(cfg.paths.exports) / end.isoformat()
    if "score" in stack["skip"]:  # `omnilake score` not in this checkout yet: nothing to export, and it says so
        assert not any(rows.get(t) for t in SERVING) and not list(exports.glob("*.csv"))
    assert not (lake_path(cfg, FAILURES) / "_delta_log").exists()


def test_serving_tables_filled_by_champions(stack: dict[str, Any], daily: RunResult) -> None:
    cfg: Config = stack["cfg"]
    assert daily.ok, f"see {daily.log}: {[(t.task_id, t.state, t.error) for t in daily.tasks]}"
    day = stack["last"] - timedelta(days=1)
    rows = _rows(cfg)
    exports = Path(cfg.paths.exports) / day.isoformat()
    assert _as_of_dates(cfg, "gold.customer_360") == {day - timedelta(days=1), day}  # one more per daily run
    for table in SERVING:
        assert rows.get(table, 0) > 0, f"serving table {table} is empty or missing"
        scored = DeltaTable(str(lake_path(cfg, table))).to_pyarrow_table(columns=["as_of", "model_version"])
        assert day in {d.as_py() for d in scored.column("as_of").unique()}, f"{table} has no rows as of {day}"
        assert None not in scored.column("model_version").to_pylist(), f"{table}: rows without a model version"
        assert (exports / f"{table}.csv").stat().st_size > 0 and (exports / f"{table}.parquet").exists()


def test_analyst_notebook_reads_every_section_from_the_lake(stack: dict[str, Any], daily: RunResult) -> None:
    """notebooks/retail_overview.ipynb, run headless on the lake the DAG filled: no section is left unbuilt."""
    assert daily.ok
    result = subprocess.run(
        [sys.executable, "scripts/run_notebook.py", "notebooks/retail_overview.ipynb"],
        env=stack["env"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "not built yet" not in result.stdout, result.stdout[-3000:]


def _plant_quarantine_spike(landing: Path, day: date) -> None:
    """Break the day's deliveries before they are loaded: unknown event types, non-numeric quantities."""
    for source in ("web_events", "app_events"):
        for path in (landing / source / day.isoformat()).glob("*.json*"):
            records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            path.write_text("".join(json.dumps({**r, "event_type": "teleport"}) + "\n" for r in records))
    for source in ("web_orders", "pos_transactions"):
        for path in (landing / source / day.isoformat()).glob("*.csv"):
            with path.open(newline="") as handle:
                reader = csv.DictReader(handle)
                fields, records = reader.fieldnames, [{**r, "quantity": "lots"} for r in reader]
            with path.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=fields)
                writer.writeheader()
                writer.writerows(records)


def test_quarantine_spike_fails_the_run_and_records_it(stack: dict[str, Any], daily: RunResult) -> None:
    cfg: Config = stack["cfg"]
    assert daily.ok
    _plant_quarantine_spike(Path(cfg.paths.landing), stack["last"])
    result = _run(stack, "spike", {"end": stack["last"].isoformat()})
    assert not result.ok
    ran = [(t.task_id, t.state) for t in result.tasks if t.state != "upstream_failed"]
    assert ran == [("business_dates", "success"), ("ingest", "success"), ("quality_gate", "failed")]
    # nothing after it ran: the metadata DB has every later task as upstream_failed
    after = sorted(t.task_id for t in result.tasks if t.state == "upstream_failed")
    assert after == ["build_features", "build_gold", "export_serving", "score"]
    failures = DeltaTable(str(lake_path(cfg, FAILURES))).to_pyarrow_table().to_pylist()
    assert [(f["dag_id"], f["task_id"], f["error_type"], f["try_number"]) for f in failures] == [
        ("omnilake_daily", "quality_gate", "AirflowFailException", 1)
    ]  # a breach is not retried
    assert failures[0]["error"].startswith("quality gate: quarantine rate ")
    assert json.loads(failures[0]["params"]) == {"start": None, "end": stack["last"].isoformat(), "snapshots": "end"}
