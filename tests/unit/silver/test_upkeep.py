"""Derived silver upkeep: identity merges move rows to the surviving customer_id; unknown references get
placeholders shaped like the real tables."""

from __future__ import annotations

from pyspark.testing import assertDataFrameEqual

from jobs.io.schemas import ddl
from jobs.io.tables import Catalog
from jobs.silver.derived import unknown_products, unknown_stores
from jobs.silver.upkeep import _reassign

ROWS = "channel string, account_id string, customer_id string"


def test_identity_merge_moves_only_the_rows_whose_customer_changed(spark, catalog: Catalog) -> None:
    lines = [("web", "a1", "C1"), ("pos", "m1", "C2"), ("imported:shop", "x1", "C3"), ("app", "a1", "C4")]
    catalog.merge(spark.createDataFrame(lines, ROWS), "silver.order_lines", ["channel", "account_id"])
    changed = spark.createDataFrame(
        [("web", "a1", "C9"), ("member", "m1", "C2"), ("imported:shop", "x1", "C9")],
        "id_type string, id_value string, customer_id string",
    )
    _reassign(catalog, changed, ["silver.order_lines", "silver.events"])  # silver.events absent: skipped
    expected = [("web", "a1", "C9"), ("pos", "m1", "C2"), ("imported:shop", "x1", "C9"), ("app", "a1", "C4")]
    assertDataFrameEqual(catalog.read("silver.order_lines"), spark.createDataFrame(expected, ROWS))
    assert catalog.last_commit_metrics("silver.order_lines")["numTargetRowsUpdated"] == "2"
    assert not catalog.exists("silver.events")


def test_unknown_references_are_placeholders_with_the_tables_schemas(spark) -> None:
    skus = spark.createDataFrame([("P1",), ("P9",), ("P9",), (None,)], "sku string")
    products = spark.createDataFrame([("P1",)], "sku string")
    placeholder = ("P9", None, "unknown", None, None, None, None, False, None, -1, "unknown-reference")
    assertDataFrameEqual(unknown_products(skus, products), spark.createDataFrame([placeholder], ddl("silver.products")))
    stores, known = (spark.createDataFrame(rows, "store_id string") for rows in ([("S1",), ("S2",)], [("S1",)]))
    store = ("S2", None, None, None, None, None, False, -1, "unknown-reference")
    assertDataFrameEqual(unknown_stores(stores, known), spark.createDataFrame([store], ddl("silver.stores")))
