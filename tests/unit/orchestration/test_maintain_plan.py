"""What `omnilake maintain` plans from: bronze batches past retention, each table's last maintenance, the partitions
written since, and the conf's guard on VACUUM retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from jobs.common.config import ConfigError, load_config
from jobs.io.maintenance import needs_compaction, partitions_written_since, table_files
from jobs.orchestration.maintain import RetentionPlan, latest_ok, retention_plan

D = date(2025, 3, 31)


def _audit(source: str, batch: str, delivered: date | None) -> dict:
    return {"source": source, "batch_id": batch, "delivery_date": delivered}


def test_retention_drops_batches_delivered_before_the_lakes_latest_delivery_minus_the_days() -> None:
    audit = [
        _audit("web_orders", "web_orders-000001", D - timedelta(days=10)),
        _audit("web_orders", "web_orders-000002", D - timedelta(days=3)),  # exactly at the cutoff: kept
        _audit("web_orders", "web_orders-000003", D),
        _audit("crm_members", "crm_members-000001", D - timedelta(days=4)),
        _audit("orders_import", "orders_import-000001", None),  # header-only batch: no date, never dropped
    ]
    plan = retention_plan(audit, days=3)
    assert plan == RetentionPlan(
        D - timedelta(days=3), {"web_orders": ["web_orders-000001"], "crm_members": ["crm_members-000001"]}
    )
    assert retention_plan(audit, days=None) == RetentionPlan(None, {})  # conf null: bronze kept forever
    assert retention_plan([], days=3) == RetentionPlan(None, {})


def test_last_maintenance_is_the_latest_successful_one_per_table() -> None:
    t0 = datetime(2026, 1, 4, 5, tzinfo=UTC)
    rows = [
        {"table": "silver.orders", "status": "ok", "finished_at": t0},
        {"table": "silver.orders", "status": "ok", "finished_at": t0 + timedelta(days=7)},
        {"table": "silver.orders", "status": "failed", "finished_at": t0 + timedelta(days=14)},
        {"table": "gold.funnel", "status": "failed", "finished_at": t0},
    ]
    assert latest_ok(rows) == {"silver.orders": t0 + timedelta(days=7)}


def test_partitions_written_since_the_last_maintenance(tmp_path: Path) -> None:
    path = tmp_path / "t"
    rows = pa.table({"d": [date(2025, 1, 1), date(2025, 1, 2)], "v": [1, 2]})
    write_deltalake(str(path), rows, partition_by=["d"])
    assert partitions_written_since(path, None) == ("d", ["2025-01-01", "2025-01-02"])
    between = datetime.now(tz=UTC)
    later = datetime.fromtimestamp(between.timestamp() + 0.01, tz=UTC)
    assert partitions_written_since(path, later) == ("d", [])
    import time

    time.sleep(0.05)
    write_deltalake(str(path), pa.table({"d": [date(2025, 1, 2)], "v": [3]}), partition_by=["d"], mode="append")
    assert partitions_written_since(path, later) == ("d", ["2025-01-02"])
    assert needs_compaction(path, min_file_mb=1)  # 2025-01-02 holds two small files now
    facts = table_files(path)
    assert (facts.files, facts.disk_files, facts.version, facts.log_files) == (3, 3, 1, 2)
    assert facts.partition_columns == ("d",)
    flat = tmp_path / "flat"
    write_deltalake(str(flat), pa.table({"v": [1]}))
    assert partitions_written_since(flat, None) is None  # not partitioned: the whole table is compacted
    assert not needs_compaction(flat, min_file_mb=1)  # one file
    write_deltalake(str(flat), pa.table({"v": [2]}), mode="append")
    assert needs_compaction(flat, min_file_mb=1)


def test_one_file_a_partition_needs_no_compaction(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_deltalake(str(path), pa.table({"d": [date(2025, 1, 1), date(2025, 1, 2)], "v": [1, 2]}), partition_by=["d"])
    assert not needs_compaction(path, min_file_mb=1)


def test_vacuum_under_deltas_safety_window_needs_the_conf_to_say_so(tmp_path: Path) -> None:
    env = {"OMNILAKE_HOME": str(tmp_path), "OMNILAKE__MAINTENANCE__VACUUM_RETENTION_HOURS": "24"}
    with pytest.raises(ConfigError, match=r"'maintenance': .*24 is below Delta's safety window of 168 h"):
        load_config("local", environ=env)
    allowed = load_config("local", environ={**env, "OMNILAKE__MAINTENANCE__ALLOW_BELOW_SAFETY": "true"})
    assert allowed.maintenance.vacuum_retention_hours == 24
    assert load_config("local", environ={"OMNILAKE_HOME": str(tmp_path)}).maintenance.vacuum_retention_hours == 168
