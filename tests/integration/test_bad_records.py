"""Issue 11, defect 2: one bad record or file wedged every later run (bronze and the registry were committed, so each
rerun failed the same way). (a) an epoch-ms order_ts far out of range overflowed timestamp_millis; (b) a Parquet
file with a column of another type failed the bronze read/append. Now (a) is a BAD_TYPE quarantine row and (b) a
`rejected` registry row with its reason; the rest of the batch loads."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.common.config import Config
from jobs.io.tables import Catalog

pytestmark = pytest.mark.integration


def _next_day(landing: Path, source: str) -> Path:
    day = max(date.fromisoformat(p.name) for p in (landing / source).iterdir()) + timedelta(days=1)
    folder = landing / source / day.isoformat()
    folder.mkdir()
    return folder


def test_an_overflowing_epoch_ms_and_a_retyped_parquet_file_are_set_aside_and_the_rest_loads(
    spark, cfg: Config, seed_home
) -> None:
    seed_home(customers=20, days=2, seed=3)  # generated and ingested
    landing = Path(cfg.paths.landing)
    line = json.loads(next((landing / "app_orders").rglob("*.jsonl")).read_text().splitlines()[0])
    good = {**line, "order_id": "A-GOOD", "version": 1}
    bad = {**line, "order_id": "A-BAD", "order_ts": 99999999999999999}
    (_next_day(landing, "app_orders") / "app_orders_bad_ts.jsonl").write_text(
        f"{json.dumps(good)}\n{json.dumps(bad)}\n"
    )
    stock = pq.read_table(next((landing / "inventory").rglob("*.parquet")))
    folder = _next_day(landing, "inventory")
    on_hand = stock.schema.get_field_index("on_hand")
    retyped = stock.set_column(on_hand, "on_hand", pc.cast(stock["on_hand"], pa.string()))  # bronze has int
    pq.write_table(retyped, folder / "inventory_retyped.parquet")
    pq.write_table(
        stock.set_column(on_hand, "on_hand", pc.cast(pc.add(stock["on_hand"], 1), pa.int32())),
        folder / "inventory_ok.parquet",
    )

    assert main(["ingest"]) == 0
    catalog = Catalog.from_config(spark, cfg)
    registry = {r["file"].rsplit("/", 1)[-1]: r for r in catalog.read("ops.file_registry").collect()}
    assert registry["inventory_retyped.parquet"]["status"] == "rejected"
    assert registry["inventory_retyped.parquet"]["reason"] == (
        "column types differ from the source's: on_hand is string, expected int"
    )
    assert (registry["inventory_ok.parquet"]["status"], registry["inventory_ok.parquet"]["reason"]) == ("loaded", None)
    audit = catalog.read("ops.batch_audit").where(F.col("batch_id") == registry["inventory_ok.parquet"]["batch_id"])
    assert [r["bronze_rows"] for r in audit.collect()] == [stock.num_rows]  # the good file's rows only

    quarantine = catalog.read("silver.quarantine").where(F.col("source_file").endswith("app_orders_bad_ts.jsonl"))
    assert [(r["reason_code"], r["column"]) for r in quarantine.collect()] == [("BAD_TYPE", "order_ts")]
    orders = catalog.read("silver.order_lines").where(F.col("order_id").isin("A-GOOD", "A-BAD"))
    assert [r["order_id"] for r in orders.collect()] == ["A-GOOD"]
    assert main(["ingest"]) == 0  # nothing left pending, nothing failing
