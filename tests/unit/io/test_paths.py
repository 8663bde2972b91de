"""The one name -> path resolver, shared by Spark, delta-rs readers and DAG files (no Spark needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.common.config import Config
from jobs.io.lake import append_arrow, lake_path, read_arrow
from jobs.io.paths import TableError, is_table, table_path
from jobs.io.schemas import arrow_schema
from jobs.orchestration.assets import asset_uri


def test_table_path_is_zone_then_table_under_the_warehouse() -> None:
    assert table_path("/w", "silver.order_lines") == "/w/silver/order_lines"
    assert table_path("/w/", "gold.daily_sales", ("gold",)) == "/w/gold/daily_sales"


@pytest.mark.parametrize("bad", ["orders", "silver.Orders", "silver.orders.x", "../etc.passwd", "silver.a b", ""])
def test_malformed_names_never_become_paths(bad: str) -> None:
    with pytest.raises(TableError, match="bad table name"):
        table_path("/w", bad)


def test_zones_when_given_are_enforced() -> None:
    with pytest.raises(TableError, match=r"with zone in \('silver',\)"):
        table_path("/w", "gold.daily_sales", ("silver",))


def test_spark_delta_rs_and_assets_agree(cfg: Config) -> None:
    from jobs.io.tables import Catalog

    name = "gold.inventory_health"
    expected = table_path(cfg.paths.warehouse, name, cfg.zones.all)
    assert str(lake_path(cfg, name)) == expected
    assert Catalog(None, cfg.paths.warehouse, cfg.zones.all).path(name) == expected  # type: ignore[arg-type]
    assert asset_uri(cfg.paths.warehouse.rstrip("/") + "/", name) == f"file://{expected}"
    with pytest.raises(TableError):
        lake_path(cfg, "nozone.t")


def test_delta_rs_append_and_read(cfg: Config) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    name = "ops.schema_changes"
    assert read_arrow(cfg, name) is None
    rows = [{"source": "web_orders", "column": "coupon", "batch_id": "b1", "action": "ignored"}]
    append_arrow(cfg, name, pa.Table.from_pylist(rows, schema=arrow_schema(name)))
    append_arrow(cfg, name, pa.Table.from_pylist([{**rows[0], "column": "tip"}], schema=arrow_schema(name)))
    got = read_arrow(cfg, name, columns=["column"], where=pc.field("column") == "tip")
    assert got is not None and got.to_pylist() == [{"column": "tip"}]
    assert (Path(lake_path(cfg, name)) / "_delta_log").is_dir()


def test_a_log_folder_without_a_commit_is_no_table_yet(tmp_path: Path) -> None:
    """What another process is creating right now (its _delta_log folder made, its first commit not yet written)
    reads as absent, as before the folder existed."""
    log = tmp_path / "t" / "_delta_log"
    assert not is_table(tmp_path / "t")
    log.mkdir(parents=True)
    (log / ".00000000000000000000.json.tmp").write_text("{}")
    assert not is_table(tmp_path / "t")
    (log / "00000000000000000000.json").write_text("{}")
    assert is_table(tmp_path / "t")
