"""The quality gate, the failure record and the serving exports on small delta-rs tables (no JVM)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from jobs.common.config import Config
from jobs.common.config.orchestration import QualitySettings
from jobs.io.lake import lake_path
from jobs.io.paths import TableError
from jobs.io.schemas import arrow_schema
from jobs.orchestration.exports import export_serving
from jobs.orchestration.ops import FAILURES, record_failure
from jobs.orchestration.quality import ORDER_LINES, check_quality, delivery_date, latest_order_date

RULES = QualitySettings(max_quarantine_rate=0.05, max_freshness_lag_days=1, max_rejected_files=0)


def _write(cfg: Config, name: str, rows: list[dict], schema: pa.Schema, partition_by: list[str] | None = None) -> None:
    path = lake_path(cfg, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), pa.Table.from_pylist(rows, schema=schema), partition_by=partition_by)


@pytest.fixture()
def warehouse(cfg: Config) -> Config:
    """Two deliveries: 03-01 (batch 1, clean) and 03-02 (batch 2, 10% quarantined); on 03-03 a file rejected whole
    and another loaded (batch 4, clean); orders up to 03-02."""
    _write(
        cfg,
        "ops.file_registry",
        [
            {
                "source": "web_orders",
                "file": "web_orders/2025-03-01/a.csv",
                "batch_id": "web_orders-000001",
                "status": "loaded",
            },
            {
                "source": "web_orders",
                "file": "web_orders/2025-03-02/b.csv",
                "batch_id": "web_orders-000002",
                "status": "loaded",
            },
            {
                "source": "web_orders",
                "file": "web_orders/2025-03-02/copy.csv",
                "batch_id": "web_orders-000003",
                "status": "duplicate_content",
            },
            {
                "source": "app_orders",
                "file": "app_orders/2025-03-03/a.parquet",
                "batch_id": "app_orders-000001",
                "status": "rejected",
                "reason": "column quantity is string, bronze has int",
            },
            {
                "source": "web_orders",
                "file": "web_orders/2025-03-03/c.csv",
                "batch_id": "web_orders-000004",
                "status": "loaded",
            },
        ],
        arrow_schema("ops.file_registry"),
    )
    _write(
        cfg,
        "ops.batch_audit",
        [
            {"source": "web_orders", "batch_id": "web_orders-000001", "bronze_rows": 100, "quarantined": 1},
            {"source": "web_orders", "batch_id": "web_orders-000002", "bronze_rows": 100, "quarantined": 10},
            {"source": "web_orders", "batch_id": "web_orders-000004", "bronze_rows": 50, "quarantined": 0},
        ],
        arrow_schema("ops.batch_audit"),
    )
    _write(
        cfg,
        "silver.order_lines",
        [
            {"order_id": "o1", "order_date": date(2025, 3, 1)},
            {"order_id": "o2", "order_date": date(2025, 3, 2)},
            {"order_id": "o3", "order_date": date(2025, 3, 9)},
        ],
        arrow_schema("silver.order_lines"),
        ["order_date"],
    )
    return cfg


def test_delivery_date_of_landing_paths() -> None:
    assert delivery_date("web_orders/2025-03-02/b.csv") == date(2025, 3, 2)
    assert delivery_date("imports/orders.csv") is None and delivery_date("b.csv") is None


def test_gate_passes_on_a_clean_day(warehouse: Config) -> None:
    report = check_quality(warehouse, start=date(2025, 3, 1), end=date(2025, 3, 1), rules=RULES)
    assert report.as_dict() == {
        "start": "2025-03-01",
        "end": "2025-03-01",
        "batches": 1,
        "bronze_rows": 100,
        "quarantined": 1,
        "quarantine_rate": 0.01,
        "latest_order_date": "2025-03-01",
        "freshness_lag_days": 0,
        "rejected_files": [],
        "breaches": [],
    }


def test_gate_breaches_on_a_quarantine_spike(warehouse: Config) -> None:
    report = check_quality(warehouse, start=date(2025, 3, 2), end=date(2025, 3, 2), rules=RULES)
    assert (report.batches, report.quarantined, report.bronze_rows) == (1, 10, 100)
    assert len(report.breaches) == 1 and report.breaches[0].startswith("quarantine rate 10.00%")


def test_range_rate_is_over_all_its_batches(warehouse: Config) -> None:
    report = check_quality(warehouse, start=date(2025, 3, 1), end=date(2025, 3, 2), rules=RULES)
    assert (report.batches, report.quarantine_rate, report.breaches) == (2, 0.055, [report.breaches[0]])


def test_gate_task_fails_without_retry_on_a_breach(warehouse: Config) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from jobs.orchestration import tasks

    assert tasks.quality_gate("2025-03-01", "2025-03-01")["quarantine_rate"] == 0.01
    with pytest.raises(AirflowFailException, match=r"^quality gate: quarantine rate 10\.00% \(10 of 100 rows"):
        tasks.quality_gate("2025-03-02", "2025-03-02")


def test_gate_breaches_on_a_file_rejected_whole_that_the_rate_cannot_see(warehouse: Config) -> None:
    """The rejected file's rows are in no audit: the day's rate is clean (0 of 50), yet the gate fails, naming it."""
    report = check_quality(warehouse, start=date(2025, 3, 3), end=date(2025, 3, 3), rules=RULES)
    assert (report.batches, report.quarantine_rate, report.freshness_lag_days) == (1, 0.0, 1)
    assert report.rejected_files == ["app_orders/2025-03-03/a.parquet (column quantity is string, bronze has int)"]
    assert report.breaches == [
        "1 landing file(s) delivered 2025-03-03..2025-03-03 rejected whole, none of their rows loaded "
        "(max_rejected_files 0): app_orders/2025-03-03/a.parquet (column quantity is string, bronze has int)"
    ]
    tolerant = QualitySettings(max_quarantine_rate=0.05, max_freshness_lag_days=1, max_rejected_files=1)
    assert check_quality(warehouse, start=date(2025, 3, 3), end=date(2025, 3, 3), rules=tolerant).breaches == []
    # the dates before it did not see it
    assert check_quality(warehouse, start=date(2025, 3, 1), end=date(2025, 3, 1), rules=RULES).rejected_files == []


def test_gate_reads_a_registry_from_before_rejected_files_had_a_reason(warehouse: Config) -> None:
    """A lake whose registry predates the `reason` column (no ingest with new files since) still gets a report."""
    import pyarrow.compute as pc

    path = str(lake_path(warehouse, "ops.file_registry"))
    old = DeltaTable(path).to_pyarrow_table().drop_columns(["reason"])
    write_deltalake(path, old.filter(pc.field("status") != "rejected"), mode="overwrite", schema_mode="overwrite")
    report = check_quality(warehouse, start=date(2025, 3, 1), end=date(2025, 3, 3), rules=RULES)
    assert report.rejected_files == [] and report.batches == 3


def test_gate_breaches_on_stale_data_and_ignores_later_dates(warehouse: Config) -> None:
    report = check_quality(warehouse, start=date(2025, 3, 5), end=date(2025, 3, 5), rules=RULES)
    assert (report.latest_order_date, report.freshness_lag_days, report.batches) == (date(2025, 3, 2), 3, 0)
    assert report.breaches == [
        "freshness: latest silver.order_lines.order_date is 2025-03-02, 3 days before "
        "2025-03-05 (max_freshness_lag_days 1)"
    ]


def test_gate_breaches_without_any_ingest(cfg: Config) -> None:
    report = check_quality(cfg, start=date(2025, 3, 1), end=date(2025, 3, 1), rules=RULES)
    assert [b.split(" ")[0] for b in report.breaches] == ["no", "freshness:"]


def test_latest_order_date_is_the_latest_partition_on_or_before_end_read_from_the_log_only(cfg: Config) -> None:
    """Against a direct computation over the rows, for every end date; then with every data file overwritten by
    garbage: the answer comes from the Delta log's partition values, no data file is opened."""
    days = [date(2025, 2, 27), date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 4), date(2025, 3, 9)]
    rows = [{"order_id": f"o{i}", "order_date": d} for i, d in enumerate(days)]
    _write(cfg, ORDER_LINES, rows, arrow_schema(ORDER_LINES), ["order_date"])
    late = pa.Table.from_pylist([{"order_id": "late", "order_date": date(2025, 3, 6)}], arrow_schema(ORDER_LINES))
    write_deltalake(str(lake_path(cfg, ORDER_LINES)), late, mode="append", partition_by=["order_date"])  # a 2nd commit
    ends = [date(2025, 2, 26) + timedelta(days=k) for k in range(14)]
    expected = {end: max((d for d in [*days, date(2025, 3, 6)] if d <= end), default=None) for end in ends}
    assert {end: latest_order_date(cfg, end=end) for end in ends} == expected
    for data_file in lake_path(cfg, ORDER_LINES).rglob("*.parquet"):
        data_file.write_bytes(b"not parquet")
    assert {end: latest_order_date(cfg, end=end) for end in ends} == expected


def test_latest_order_date_needs_the_table_partitioned_by_order_date(cfg: Config) -> None:
    assert latest_order_date(cfg, end=date(2025, 3, 1)) is None  # no table yet
    _write(cfg, ORDER_LINES, [{"order_id": "o1", "order_date": date(2025, 3, 1)}], arrow_schema(ORDER_LINES))
    with pytest.raises(TableError, match="not partitioned by order_date"):
        latest_order_date(cfg, end=date(2025, 3, 1))


def _context(task_id: str, error: Exception) -> dict:
    ti = SimpleNamespace(dag_id="omnilake_daily", task_id=task_id, run_id="manual__1", map_index=-1, try_number=3)
    return {
        "ti": ti,
        "exception": error,
        "params": {"start": "2025-03-01", "end": None, "obj": object()},
        "data_interval_start": datetime(2025, 3, 1, 8, tzinfo=UTC),
        "data_interval_end": datetime(2025, 3, 2, 8, tzinfo=UTC),
    }


def test_failure_callback_appends_one_row_per_failure(cfg: Config) -> None:
    record_failure(_context("quality_gate", RuntimeError("quality gate: spike")))
    record_failure(_context("ingest", ValueError("x" * 9000)))
    rows = DeltaTable(str(lake_path(cfg, FAILURES))).to_pyarrow_table().sort_by("task_id").to_pylist()
    assert [(r["task_id"], r["error_type"], r["error"], r["try_number"]) for r in rows] == [
        ("ingest", "ValueError", "x" * 4000, 3),
        ("quality_gate", "RuntimeError", "quality gate: spike", 3),
    ]
    assert rows[1]["params"] == '{"end": null, "start": "2025-03-01"}'
    assert rows[1]["data_interval_start"] == datetime(2025, 3, 1, 8, tzinfo=UTC)


def test_failure_row_drops_the_spark_submit_command_line() -> None:
    from jobs.orchestration.ops import failure_row

    error = RuntimeError(
        "Cannot execute: spark-submit --master local[2] --conf a=b. c.py x. Error code is: 1.\nLast: E"
    )
    row = failure_row(_context("ingest", error), failed_at=datetime(2025, 3, 2, tzinfo=UTC))
    assert row["error"] == "spark-submit exited with code 1.\nLast: E"


def test_failure_callback_never_raises(cfg: Config) -> None:
    record_failure({"ti": None})  # a context it cannot use: logged, not raised
    assert not (lake_path(cfg, FAILURES) / "_delta_log").exists()


def test_export_writes_the_run_date_of_existing_serving_tables_and_skips_the_rest(cfg: Config) -> None:
    schema = pa.schema([("customer_id", pa.string()), ("churn_probability", pa.float64()), ("as_of", pa.date32())])
    _write(
        cfg,
        "gold.churn_scores",
        [
            {"customer_id": "c1", "churn_probability": 0.25, "as_of": date(2025, 3, 2)},
            {"customer_id": "c1", "churn_probability": 0.5, "as_of": date(2025, 3, 1)},
        ],
        schema,
    )
    written = export_serving(cfg, as_of=date(2025, 3, 2), formats=("csv", "parquet"))
    out = Path(cfg.paths.exports) / "2025-03-02"
    assert written == {"gold.churn_scores": 1}  # the other tables do not exist yet
    assert sorted(p.name for p in out.iterdir()) == ["gold.churn_scores.csv", "gold.churn_scores.parquet"]
    assert (out / "gold.churn_scores.csv").read_text().splitlines() == [
        '"customer_id","churn_probability","as_of"',
        '"c1",0.25,2025-03-02',
    ]


def test_retrain_check_turns_the_days_alerts_into_the_retrain_conf(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """omnilake_daily's retrain_check: {} without the table or an alert of a conf retrain_on check, else the as-of
    date and the reason; conf trigger_retrain false: never."""
    from jobs.orchestration.tasks import retrain_request

    assert retrain_request("2025-04-02") == {}  # no gold.model_monitoring yet

    def row(day: date, check: str, status: str) -> dict:
        return {
            "as_of": day,
            "model": "demand",
            "registered_model": "omnilake_demand_h28",
            "horizon_days": 28,
            "model_version": "3",
            "check": check,
            "subject": "abs_bias",
            "status": status,
            "value": 1.13,
            "detail": "v3: 1.133 > 0.25",
        }

    day = date(2025, 4, 2)
    rows = [row(day, "realized", "alert"), row(day, "missing", "ok"), row(day - timedelta(days=1), "realized", "ok")]
    _write(cfg, "gold.model_monitoring", rows, arrow_schema("gold.model_monitoring"))
    assert retrain_request("2025-04-01") == {}  # that day's rows did not alert
    assert retrain_request("2025-04-02") == {
        "as_of": "2025-04-02",
        "reason": "monitoring 2025-04-02: demand v3 realized abs_bias: v3: 1.133 > 0.25",
    }
    monkeypatch.setenv("OMNILAKE__ML__MONITORING__TRIGGER_RETRAIN", "false")
    assert retrain_request("2025-04-02") == {}
