from __future__ import annotations

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs.io.tables import Catalog, TableError

SCHEMA = "id int, v string, d string"


def test_resolver_rejects_bad_names(catalog: Catalog) -> None:
    assert catalog.path("silver.orders").endswith("/warehouse/silver/orders")
    for bad in ("orders", "nozone.orders", "silver.Orders", "silver.orders; drop"):
        with pytest.raises(TableError, match="bad table name"):
            catalog.path(bad)
    with pytest.raises(TableError, match="does not exist"):
        catalog.read("silver.nothing")


def test_merge_is_idempotent_and_respects_condition(spark, catalog: Catalog) -> None:
    first = spark.createDataFrame([(1, "a", "x"), (2, "b", "x")], SCHEMA)
    catalog.merge(first, "silver.t", ["id"])
    update = spark.createDataFrame([(2, "b2", "x"), (3, "c", "y")], SCHEMA)
    catalog.merge(update, "silver.t", ["id"], update_condition="s.v > t.v")
    v = catalog.version("silver.t")
    catalog.merge(update, "silver.t", ["id"], update_condition="s.v > t.v")
    expected = spark.createDataFrame([(1, "a", "x"), (2, "b2", "x"), (3, "c", "y")], SCHEMA)
    assertDataFrameEqual(catalog.read("silver.t"), expected)
    # the rerun matched but updated nothing: content unchanged
    assertDataFrameEqual(catalog.read("silver.t"), expected)
    assert catalog.version("silver.t") >= v


def test_overwrite_where_replaces_only_that_slice(spark, catalog: Catalog) -> None:
    catalog.overwrite_where(
        spark.createDataFrame([(1, "a", "x"), (2, "b", "y")], SCHEMA), "gold.t", "d = 'x'", partition_by=["d"]
    )
    catalog.overwrite_where(spark.createDataFrame([(9, "z", "x")], SCHEMA), "gold.t", "d = 'x'")
    assertDataFrameEqual(catalog.read("gold.t"), spark.createDataFrame([(9, "z", "x"), (2, "b", "y")], SCHEMA))


def test_append_once_skips_repeated_transaction(spark, catalog: Catalog) -> None:
    df = spark.createDataFrame([(1, "a", "x")], SCHEMA)
    catalog.append_once(df, "bronze.t", app_id="batch", version=1)
    catalog.append_once(df, "bronze.t", app_id="batch", version=1)
    assert catalog.version("bronze.t") == 0
    assertDataFrameEqual(catalog.read("bronze.t"), df)
    assert catalog.list_tables() == ["bronze.t"]


def test_change_feed_zones_record_the_feed_from_the_creating_write(spark, catalog: Catalog) -> None:
    assert set(catalog.change_feed_zones) == {"silver", "ops"}  # conf/base.yaml zones.change_feed
    df = spark.createDataFrame([(1, "a", "x")], SCHEMA)
    catalog.merge(df, "silver.t", ["id"])
    catalog.append_once(df, "ops.t", app_id="a", version=1)
    catalog.overwrite_where(df, "gold.t", "d = 'x'")
    catalog.merge(spark.createDataFrame([(1, "b", "x")], SCHEMA), "silver.t", ["id"])

    def feed(name: str) -> str | None:
        detail = spark.sql(f"DESCRIBE DETAIL delta.`{catalog.path(name)}`").first()
        return detail["properties"].get("delta.enableChangeDataFeed")

    assert (feed("silver.t"), feed("ops.t"), feed("gold.t")) == ("true", "true", None)
    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", 0)
        .load(catalog.path("silver.t"))
        .select("id", "v", "_change_type", "_commit_version")
    )
    assertDataFrameEqual(
        changes,
        spark.createDataFrame(
            [(1, "a", "insert", 0), (1, "a", "update_preimage", 1), (1, "b", "update_postimage", 1)],
            "id int, v string, _change_type string, _commit_version long",
        ),
    )
