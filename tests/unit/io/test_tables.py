"""Catalog, the one way Spark jobs read and write tables: what each write guarantees, and retries on conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from delta.exceptions import ConcurrentAppendException
from pyspark.sql import functions as F
from pyspark.sql.types import StringType
from pyspark.testing import assertDataFrameEqual

from jobs.io import tables
from jobs.io.schemas import ddl
from jobs.io.tables import Catalog, TableError

SCHEMA = "id int, v string, d string"


def test_names_resolve_under_the_warehouse_and_bad_names_are_refused(catalog: Catalog) -> None:
    assert catalog.path("silver.orders") == str(Path(catalog.warehouse) / "silver" / "orders")
    for bad in ("orders", "nozone.orders", "silver.Orders", "silver.orders; drop", "silver./etc"):
        with pytest.raises(TableError, match="bad table name"):
            catalog.path(bad)
    with pytest.raises(TableError, match="does not exist"):
        catalog.read("silver.nothing")
    assert catalog.version("silver.nothing") == -1


def test_read_or_empty_gives_the_registered_schema_before_the_first_write(spark, catalog: Catalog) -> None:
    empty = catalog.read_or_empty("ops.file_registry")
    assertDataFrameEqual(empty, spark.createDataFrame([], ddl("ops.file_registry")))
    with pytest.raises(KeyError):
        catalog.read_or_empty("silver.unregistered")


def test_merge_upserts_on_keys_and_update_condition_limits_updates(spark, catalog: Catalog) -> None:
    catalog.merge(spark.createDataFrame([(1, "b", "x"), (2, "b", "x")], SCHEMA), "silver.t", ["id"])
    newer_only = "s.v > t.v"
    update = spark.createDataFrame([(1, "a", "y"), (2, "c", "y"), (3, "c", "y")], SCHEMA)
    catalog.merge(update, "silver.t", ["id"], update_condition=newer_only)
    expected = spark.createDataFrame([(1, "b", "x"), (2, "c", "y"), (3, "c", "y")], SCHEMA)
    assertDataFrameEqual(catalog.read("silver.t"), expected)  # id 1: "a" is not newer than "b"

    catalog.merge(update, "silver.t", ["id"], update_condition=newer_only)  # a rerun changes no row
    assertDataFrameEqual(catalog.read("silver.t"), expected)
    metrics = catalog.last_commit_metrics("silver.t")
    assert (metrics["numTargetRowsUpdated"], metrics["numTargetRowsInserted"]) == ("0", "0")


def test_merge_with_own_condition_updates_only_the_set_columns_and_can_skip_inserts(spark, catalog: Catalog) -> None:
    catalog.merge(spark.createDataFrame([(1, "a", "x"), (2, "b", "y")], SCHEMA), "silver.t", ["id"])
    moves = spark.createDataFrame([("x", "moved"), ("nowhere", "lost")], "d string, v string")
    catalog.merge(moves, "silver.t", [], on="t.d = s.d", update_set={"v": "s.v"}, insert=False)
    assertDataFrameEqual(catalog.read("silver.t"), spark.createDataFrame([(1, "moved", "x"), (2, "b", "y")], SCHEMA))


def test_merge_deletes_unmatched_rows_only_where_told(spark, catalog: Catalog) -> None:
    catalog.merge(spark.createDataFrame([(1, "a", "x"), (2, "b", "x"), (3, "c", "y")], SCHEMA), "silver.t", ["id"])
    keep = spark.createDataFrame([(1, "a", "x")], SCHEMA)
    catalog.merge(keep, "silver.t", ["id"], delete_unmatched_where="t.d = 'x'")
    assertDataFrameEqual(catalog.read("silver.t"), spark.createDataFrame([(1, "a", "x"), (3, "c", "y")], SCHEMA))


def test_overwrite_where_replaces_only_matching_partitions(spark, catalog: Catalog) -> None:
    first = spark.createDataFrame([(1, "a", "x"), (2, "b", "y"), (3, "c", "z")], SCHEMA)
    catalog.overwrite_where(first, "gold.t", "d IN ('x', 'y', 'z')", partition_by=["d"])
    catalog.overwrite_where(spark.createDataFrame([(9, "n", "x"), (8, "m", "x")], SCHEMA), "gold.t", "d = 'x'")
    expected = spark.createDataFrame([(9, "n", "x"), (8, "m", "x"), (2, "b", "y"), (3, "c", "z")], SCHEMA)
    assertDataFrameEqual(catalog.read("gold.t"), expected)
    assert catalog.last_commit_metrics("gold.t")["numOutputRows"] == "2"

    version = catalog.version("gold.t")
    with pytest.raises(Exception, match="DELTA_REPLACE_WHERE_MISMATCH"):  # rows outside the slice: nothing written
        catalog.overwrite_where(spark.createDataFrame([(7, "q", "y")], SCHEMA), "gold.t", "d = 'x'")
    assert catalog.version("gold.t") == version
    assertDataFrameEqual(catalog.read("gold.t"), expected)


def test_overwrite_replaces_the_table_and_its_schema(spark, catalog: Catalog) -> None:
    catalog.overwrite(spark.createDataFrame([(1, "a", "x")], SCHEMA), "silver.ref")
    catalog.overwrite(spark.createDataFrame([("k", 2)], "key string, n int"), "silver.ref")
    assertDataFrameEqual(catalog.read("silver.ref"), spark.createDataFrame([("k", 2)], "key string, n int"))


def test_append_once_skips_a_repeated_transaction(spark, catalog: Catalog) -> None:
    df = spark.createDataFrame([(1, "a", "x")], SCHEMA)
    catalog.append_once(df, "bronze.t", app_id="batch", version=1)
    catalog.append_once(df, "bronze.t", app_id="batch", version=1)
    assert catalog.version("bronze.t") == 0
    assertDataFrameEqual(catalog.read("bronze.t"), df)
    catalog.append_once(df, "bronze.t", app_id="batch", version=2)
    assertDataFrameEqual(catalog.read("bronze.t"), df.unionByName(df))
    assert catalog.list_tables() == ["bronze.t"]


def test_change_feed_zones_record_the_feed_from_the_creating_write(spark, catalog: Catalog) -> None:
    assert set(catalog.change_feed_zones) == {"silver", "ops"}  # conf/base.yaml zones.change_feed
    df = spark.createDataFrame([(1, "a", "x")], SCHEMA)
    catalog.merge(df, "silver.t", ["id"])
    catalog.append_once(df, "ops.t", app_id="a", version=1)
    catalog.overwrite_where(df, "gold.t", "d = 'x'")
    catalog.merge(spark.createDataFrame([(1, "b", "x")], SCHEMA), "silver.t", ["id"])

    def feed(name: str) -> str | None:
        return catalog.properties(name).get("delta.enableChangeDataFeed")

    assert (feed("silver.t"), feed("ops.t"), feed("gold.t")) == ("true", "true", None)
    assertDataFrameEqual(
        catalog.change_feed("silver.t", 0, 1).select("id", "v", "_change_type", "_commit_version"),
        spark.createDataFrame(
            [(1, "a", "insert", 0), (1, "a", "update_preimage", 1), (1, "b", "update_postimage", 1)],
            "id int, v string, _change_type string, _commit_version long",
        ),
    )


def _racing(spark, catalog: Catalog, marker: Path):
    """gold.t with partitions x and y, and a frame for partition x whose evaluation (inside the write's
    transaction) first appends a row to partition x with delta-rs: another writer committing in between."""
    catalog.overwrite_where(
        spark.createDataFrame([(1, "a", "x"), (2, "b", "y")], SCHEMA), "gold.t", "d IN ('x', 'y')", partition_by=["d"]
    )
    path, flag = catalog.path("gold.t"), str(marker)

    @F.udf(StringType())
    def after_another_commit(v):  # unannotated: pyspark reads the hints to pick the kind of UDF
        import os

        if not os.path.exists(flag):  # only during the first attempt
            import pyarrow as pa
            from deltalake import write_deltalake

            open(flag, "w").close()
            row = pa.table({"id": pa.array([7], pa.int32()), "v": ["other"], "d": ["x"]})
            write_deltalake(path, row, mode="append", partition_by=["d"])
        return v

    return spark.createDataFrame([(9, "z", "x")], SCHEMA).withColumn("v", after_another_commit("v"))


def test_a_real_conflict_is_retried_on_a_fresh_snapshot(spark, catalog: Catalog, tmp_path: Path, monkeypatch) -> None:
    retried: list[dict] = []
    monkeypatch.setattr(tables, "event", lambda message, **fields: retried.append({"event": message, **fields}))
    df = _racing(spark, catalog, tmp_path / "raced")
    catalog.overwrite_where(df, "gold.t", "d = 'x'")
    assert retried == [
        {"event": "table.conflict_retry", "table": "gold.t", "attempt": 1, "error": "ConcurrentAppendException"}
    ]
    # the retry replaced partition x as it was after the other commit: its row is gone too, y is untouched
    assertDataFrameEqual(catalog.read("gold.t"), spark.createDataFrame([(9, "z", "x"), (2, "b", "y")], SCHEMA))


def test_a_conflict_surfaces_as_delta_exception_class_when_retries_run_out(spark, cfg, tmp_path: Path) -> None:
    once = Catalog(spark, cfg.paths.warehouse, cfg.zones.all, retries=1)
    df = _racing(spark, once, tmp_path / "raced")
    with pytest.raises(ConcurrentAppendException):
        once.overwrite_where(df, "gold.t", "d = 'x'")
    assertDataFrameEqual(
        once.read("gold.t"), spark.createDataFrame([(1, "a", "x"), (7, "other", "x"), (2, "b", "y")], SCHEMA)
    )


def test_only_delta_commit_conflicts_count_as_conflicts() -> None:
    from delta.exceptions import base
    from pyspark.errors import AnalysisException

    conflicts = [
        base.ConcurrentAppendException,
        base.ConcurrentDeleteReadException,
        base.ConcurrentDeleteDeleteException,
        base.ConcurrentTransactionException,
        base.ConcurrentWriteException,
        base.MetadataChangedException,
        base.ProtocolChangedException,
        base.DeltaConcurrentModificationException,
    ]
    assert all(tables.is_conflict(cls("conflict")) for cls in conflicts)
    # message text no longer decides: a non-conflict that mentions one is not retried
    assert not tables.is_conflict(AnalysisException("ConcurrentAppendException in the message"))
    assert not tables.is_conflict(RuntimeError("DELTA_CONCURRENT_APPEND"))
