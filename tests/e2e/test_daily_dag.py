"""End to end: omnilake_daily through `airflow dags test` (embedded SQLite Airflow; the Spark steps in the warm
runner on local[2], conf orchestration.spark_steps) on tiny generated data. The session's fixtures (conftest.py) run
a history run over every day but the last two and omnilake_retrain as of that day; this module adds a one-day run
that scores with the champions, then the spike test delivers a bad last day."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from jobs.common.config import Config
from jobs.io.lake import lake_path
from jobs.io.listing import table_summaries
from jobs.orchestration.assets import FEATURES, GOLD, SERVING
from jobs.orchestration.harness import RunResult
from jobs.orchestration.ops import FAILURES
from jobs.orchestration.runner import stop_runner
from tests.support.e2e import REPO, failed, run_dag

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def _stop_runner_after_the_module(stack: dict[str, Any]) -> Iterator[None]:
    """The session's runner is not needed after this module: free its driver's memory for the tests that follow."""
    yield
    stop_runner(stack["cfg"])


def _run(stack: dict[str, Any], name: str, conf: dict[str, str]) -> RunResult:
    return run_dag(stack, "omnilake_daily", name, conf)


@pytest.fixture(scope="module")
def daily(stack: dict[str, Any], champions: dict[str, Any]) -> RunResult:
    """The next day through omnilake_daily, scored with the champions."""
    return _run(stack, "daily", {"end": (stack["last"] - timedelta(days=1)).isoformat()})


def _as_of_dates(cfg: Config, table: str) -> set[date]:
    snapshots = DeltaTable(str(lake_path(cfg, table))).to_pyarrow_table(columns=["as_of"])
    return {d.as_py() for d in snapshots.column("as_of").unique()}


def _rows(cfg: Config) -> dict[str, int]:
    return {r["table"]: r["rows"] for r in table_summaries(cfg)}


def test_range_run_fills_silver_gold_features_and_exports(stack: dict[str, Any], history: RunResult) -> None:
    cfg: Config = stack["cfg"]
    assert history.ok, failed(history)
    steps = ["business_dates", "ingest", "quality_gate", "build_features", "score", "build_gold", "export_serving"]
    expected = [s for s in steps if s not in stack["skip"]]
    ran = [t.task_id for t in history.tasks]
    assert [t for t in ran if t in expected] == expected
    # beside the chain: monitoring, and the publish to PostgreSQL (after gold)
    monitoring = {"monitor_models", "retrain_check", "trigger_retrain", "publish_postgres", "dashboard"}
    monitoring -= set(stack["skip"])
    assert set(ran) == set(expected) | monitoring
    # no champion yet: monitoring has nothing to judge, so there is no retrain to trigger
    states = {t.task_id: t.state for t in history.tasks}
    assert states.pop("trigger_retrain", "skipped") == "skipped" and set(states.values()) == {"success"}, states
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
    assert daily.ok, failed(daily)
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
    # issue 13: monitoring after the scores, on a business without drift: every model judged, nothing alerts, so no
    # retrain is triggered
    monitored = DeltaTable(str(lake_path(cfg, "gold.model_monitoring"))).to_pyarrow_table().to_pylist()
    today = [r for r in monitored if r["as_of"] == day]
    assert {r["model"] for r in today} == {"ltv", "churn", "demand", "recommend"}, monitored
    assert not [r for r in today if r["status"] == "alert"], [r for r in today if r["status"] == "alert"]
    assert daily.state("trigger_retrain") == "skipped" and daily.state("monitor_models") == "success"


def test_daily_dashboard_draws_every_section_offline(stack: dict[str, Any], daily: RunResult) -> None:
    """The dashboard the daily run wrote (exports/<date>/dashboard.html), opened in headless chromium: every section
    drew a chart from the lake, no console error, no request outside the file."""
    from tests.support.dashboard import assert_dashboard_draws

    assert daily.ok and daily.state("dashboard") == "success", failed(daily)
    cfg: Config = stack["cfg"]
    day = stack["last"] - timedelta(days=1)
    page = Path(cfg.paths.exports) / day.isoformat() / cfg.orchestration.dashboard.file_name
    assert "not built yet" not in page.read_text()
    seconds = assert_dashboard_draws(page, sections=14)
    print(f"dashboard {page}: {page.stat().st_size:,} bytes, drawn in {seconds:.2f} s")


DAY = r"\d{4}-\d\d-\d\d"
N = r"[1-9][\d,]*"  # a positive count or amount
# per notebook: a line of each section that only prints with the section's numbers (non-zero where they must be)
NOTEBOOK_FIGURES = {
    "retail_overview.ipynb": (
        rf"as of {DAY}: {N} customers with a purchase",
        r"top decile \([\d,]+ customers\) holds \d+\.\d% of the expected revenue",
        rf"forecast as of {DAY}, .*: [\d,]+ units expected in total",
    ),
    "customer_analytics.ipynb": (
        rf"RFM as of {DAY}: {N} customers, lifetime spend {N}",
        r"customers by recency score .*\n\s*f_score(\s+[1-5])+\n",
        rf"cohorts as of {DAY}: {N} cohorts, {N} customers",
        rf"all \(weighted\)\s+{N}\s+100%",
        rf"LTV as of {DAY}, \d+-day horizon: {N} customers, expected revenue {N}",
        rf"top decile \({N} customers\) holds \d+\.\d% of the expected revenue",
        rf"churn as of {DAY}, \d+-day horizon, model \S+ v\d+: {N} customers scored",
        r"\nrisk_band\s*\n(high|medium|low)\s+[1-9]",
    ),
    "demand_inventory.ipynb": (
        rf"forecast made {DAY} \({N} days with actuals, to {DAY}\): forecast [\d,]+ units, actual {N}, WAPE",
        rf"P10-P90 coverage \d+\.\d% of {N} store x SKU x day cells \({N} SKUs\)",
        rf"inventory as of {DAY}: {N} store x SKU pairs, [\d,]+ below the reorder point",
        rf"sell-through as of {DAY} \(trailing \d+ days\): \d+\.\d% over {N} store x category pairs",
    ),
}


@pytest.mark.parametrize("notebook", sorted(NOTEBOOK_FIGURES))
def test_analyst_notebook_reads_every_section_from_the_lake(
    stack: dict[str, Any], daily: RunResult, notebook: str
) -> None:
    """notebooks/*.ipynb, run headless on the lake the DAG filled: no section is left unbuilt, each shows figures."""
    assert daily.ok
    result = subprocess.run(
        [sys.executable, "scripts/run_notebook.py", f"notebooks/{notebook}"],
        env=stack["env"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for unbuilt in ("not built yet", "no rows yet", "unreadable", "no forecast made"):
        assert unbuilt not in result.stdout, result.stdout[-3000:]
    for figure in NOTEBOOK_FIGURES[notebook]:
        assert re.search(figure, result.stdout), f"{notebook}: no match for {figure!r} in:\n{result.stdout[-4000:]}"


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
    assert after == [
        "build_features",
        "build_gold",
        "dashboard",
        "export_serving",
        "monitor_models",
        "publish_postgres",
        "retrain_check",
        "score",
        "trigger_retrain",
    ]
    failures = DeltaTable(str(lake_path(cfg, FAILURES))).to_pyarrow_table().to_pylist()
    assert [(f["dag_id"], f["task_id"], f["error_type"], f["try_number"]) for f in failures] == [
        ("omnilake_daily", "quality_gate", "AirflowFailException", 1)
    ]  # a breach is not retried
    assert failures[0]["error"].startswith("quality gate: quarantine rate ")
    assert json.loads(failures[0]["params"]) == {"start": None, "end": stack["last"].isoformat(), "snapshots": "end"}


def test_publish_task_copies_every_served_table_to_postgres(
    stack: dict[str, Any], daily: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily run's publish_postgres put the window of every conf table in PostgreSQL, row for row and value for
    value (lists as jsonb, decimals as numeric, dates as date), and a rerun of the same as-of copies nothing."""
    import psycopg

    from jobs.common.config import load_config
    from jobs.orchestration.publish import publish

    assert daily.ok, failed(daily)
    assert daily.state("publish_postgres") == "success"
    cfg = load_config(environ=stack["env"])
    settings = cfg.serving.postgres
    end = stack["last"] - timedelta(days=1)
    lo = end - timedelta(days=settings.window_days)
    with psycopg.connect(settings.dsn, password=stack["env"]["OMNILAKE_PG_PASSWORD"]) as conn:
        for name in settings.tables:
            delta = DeltaTable(str(lake_path(cfg, name)))
            part = delta.metadata().partition_columns[0]
            lake = delta.to_pyarrow_table(filters=[(part, ">", lo), (part, "<=", end)])
            assert lake.num_rows > 0, name
            columns = ", ".join(f'"{c}"' for c in lake.schema.names)
            table = name.split(".", 1)[1]
            published = conn.execute(f"SELECT {columns} FROM {settings.schema_name}.{table}").fetchall()
            want = sorted((tuple(r.values()) for r in lake.to_pylist()), key=repr)
            assert sorted(published, key=repr) == want, name
    monkeypatch.setenv("OMNILAKE_PG_PASSWORD", stack["env"]["OMNILAKE_PG_PASSWORD"])
    again = publish(cfg, as_of=end)
    assert sum(t.rows for t in again.tables) == 0 and not again.skipped
    # the plain-Python readers of examples/ see the same forecast and recommendations in the lake and in PostgreSQL
    readers = {
        "lake_reader.py": ["--warehouse", cfg.paths.warehouse],
        "postgres_reader.py": ["--dsn", settings.dsn or "", "--schema", settings.schema_name],
    }
    seen = []
    for script, args in readers.items():
        done = subprocess.run(
            [sys.executable, str(REPO / "examples" / script), *args],
            env=stack["env"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        seen.append(json.loads(done.stdout))
    assert seen[0] == seen[1]
    assert seen[0]["as_of"] == end.isoformat() and seen[0]["forecast"] and seen[0]["recommendations"]


def _batch_rows(cfg: Config, table: str) -> dict[str, int]:
    batches = DeltaTable(str(lake_path(cfg, table))).to_pyarrow_table(columns=["_batch_id"]).column("_batch_id")
    return {str(k): int(v) for k, v in zip(*_counts(batches), strict=True)}


def _counts(column: Any) -> tuple[list[Any], list[Any]]:
    counted = column.value_counts()
    return counted.field("values").to_pylist(), counted.field("counts").to_pylist()


def test_weekly_maintenance_compacts_vacuums_and_keeps_every_row(
    stack: dict[str, Any], daily: RunResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """omnilake_maintenance through `airflow dags test` on the lake of the runs above (history, daily, spike): fewer
    and larger data files, no stale file left on disk (VACUUM at 0 h, which the conf must allow), every table's
    content unchanged but bronze's, whose batches delivered before (latest delivery - 1 day) are gone while silver
    keeps their rows and ops.batch_audit counts them as expired; one ops.maintenance_log row per table. A second
    `omnilake maintain` rewrites no data file."""
    from jobs.cli import main
    from jobs.orchestration.maintain import LOG, health
    from tests.support.lake_digest import lake_digest

    cfg: Config = stack["cfg"]
    assert daily.ok, failed(daily)
    before = {r["table"]: r for r in health(cfg)}
    kept = sorted(t for t in before if not t.startswith("bronze.") and t != "ops.batch_audit")
    digest = lake_digest(cfg.paths.warehouse, kept)
    bronze = {t: _batch_rows(cfg, t) for t in before if t.startswith("bronze.")}
    audit = DeltaTable(str(lake_path(cfg, "ops.batch_audit"))).to_pyarrow_table().to_pylist()
    latest = max(a["delivery_date"] for a in audit if a["delivery_date"])
    expired = {a["batch_id"] for a in audit if a["delivery_date"] and a["delivery_date"] < latest - timedelta(days=1)}
    assert expired and all(any(b in expired for b in rows) for rows in bronze.values() if len(rows) > 1)
    conf = {
        "OMNILAKE__MAINTENANCE__VACUUM_RETENTION_HOURS": "0",
        "OMNILAKE__MAINTENANCE__ALLOW_BELOW_SAFETY": "true",
        "OMNILAKE__MAINTENANCE__BRONZE_RETENTION_DAYS": "1",
    }
    result = run_dag(stack, "omnilake_maintenance", "maintenance", {}, env=conf)
    assert result.ok, failed(result)
    tasks = [(t.task_id, t.state) for t in result.tasks]
    assert tasks == [("privacy_vacuum", "success"), ("maintain", "success"), ("table_health", "success")]

    after = {r["table"]: r for r in health(cfg) if r["table"] != LOG}
    assert set(after) == set(before)
    files = sum(r["files"] for r in before.values()), sum(r["files"] for r in after.values())
    assert files[1] < files[0]
    # fewer, larger files where no row went (bronze also lost the batches past retention); a tiny table's bytes
    # shrink too (one Parquet footer instead of several), so the average is taken over all of them
    compacted = [t for t in kept if after[t]["files"] < before[t]["files"]]
    assert compacted, "nothing compacted"
    was = sum(before[t]["data_bytes"] for t in kept) / sum(before[t]["files"] for t in kept)
    assert sum(after[t]["data_bytes"] for t in kept) / sum(after[t]["files"] for t in kept) > was
    for table, rows in bronze.items():  # one file a batch before; after, one for what retention keeps (or none)
        assert after[table]["files"] == (1 if set(rows) - expired else 0), table
    for table, facts in after.items():
        assert facts["disk_files"] == facts["files"], f"{table}: stale files left by VACUUM"
        assert facts["files"] <= before[table]["files"], table
    assert lake_digest(cfg.paths.warehouse, kept) == digest  # every row of every table but bronze, unchanged
    for table, rows in bronze.items():
        assert _batch_rows(cfg, table) == {b: n for b, n in rows.items() if b not in expired}, table
    # every bronze row stays accounted for: a batch's rows in bronze = bronze_rows - forgotten - expired
    kept_rows = {t: _batch_rows(cfg, t) for t in bronze}
    for a in DeltaTable(str(lake_path(cfg, "ops.batch_audit"))).to_pyarrow_table().to_pylist():
        held = kept_rows[f"bronze.{a['source']}"].get(a["batch_id"], 0)
        assert held == a["bronze_rows"] - (a["forgotten"] or 0) - (a["expired"] or 0), a
        assert bool(a["expired"]) == (a["batch_id"] in expired and a["bronze_rows"] > 0), a
    log = DeltaTable(str(lake_path(cfg, LOG))).to_pyarrow_table().to_pylist()
    assert sorted(r["table"] for r in log) == sorted(before) and {r["status"] for r in log} == {"ok"}
    removed = sum(r["bronze_rows_removed"] for r in log)
    assert removed == sum(n for rows in bronze.values() for b, n in rows.items() if b in expired) > 0

    # a second run: nothing left to compact or to drop, no data file rewritten
    for key, value in {**conf, "OMNILAKE_ENV": "test", "OMNILAKE_HOME": cfg.home}.items():
        monkeypatch.setenv(key, value)
    again = ("silver.orders", "bronze.web_orders")
    files_now = {t: set(DeltaTable(str(lake_path(cfg, t))).file_uris()) for t in again}
    assert main(["maintain", "--table", again[0], "--table", again[1]]) == 0
    for table, uris in files_now.items():
        assert set(DeltaTable(str(lake_path(cfg, table))).file_uris()) == uris, table
