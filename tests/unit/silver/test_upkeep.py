"""Derived silver upkeep: identity merges move rows to the surviving customer_id; unknown references get
placeholders shaped like the real tables."""

from __future__ import annotations

from datetime import date

from pyspark.testing import assertDataFrameEqual

from jobs.io.schemas import ddl
from jobs.io.tables import Catalog
from jobs.silver.derived import unknown_products, unknown_stores
from jobs.silver.upkeep import MAP_VERSION, follow_identity_merges, moved_ids, unattached

ROWS = "channel string, account_id string, customer_id string"


MAP = "id_type string, id_value string, customer_id string"
NODE = ["id_type", "id_value"]


def test_moved_ids_are_the_feeds_updated_identifiers_with_their_current_customer(spark) -> None:
    feed = spark.createDataFrame(
        [
            ("web", "a1", "C1", "update_preimage"),
            ("web", "a1", "C5", "update_postimage"),  # moved twice: its customer now
            ("web", "a1", "C5", "update_preimage"),
            ("web", "a1", "C3", "update_postimage"),
            ("web", "a2", "C2", "insert"),  # a new identifier moved nobody
        ],
        f"{MAP}, _change_type string",
    )
    id_map = spark.createDataFrame([("web", "a1", "C3"), ("web", "a2", "C2"), ("app", "a1", "C4")], MAP)
    assertDataFrameEqual(moved_ids(feed, id_map=id_map), spark.createDataFrame([("web", "a1", "C3")], MAP))


def test_rows_follow_the_map_from_the_version_the_table_records(spark, catalog: Catalog) -> None:
    """Issue 11, defect 4: the move is driven by the map's change feed since the table's MAP_VERSION, so a run that
    died after merging the map (the next run starts with map_before = the merged version) still moves the rows."""
    lines = [("web", "a1", "C1"), ("pos", "m1", "C2"), ("imported:shop", "x1", "C3"), ("app", "a1", "C4")]
    catalog.merge(spark.createDataFrame(lines, ROWS), "silver.order_lines", ["channel", "account_id"])
    id_map = [("web", "a1", "C1"), ("member", "m1", "C2"), ("imported:shop", "x1", "C3"), ("app", "a1", "C4")]
    catalog.merge(spark.createDataFrame(id_map, MAP), "silver.identity_map", NODE)  # version 0
    follow_identity_merges(catalog, map_before=0, max_lag=3, tables=["silver.order_lines", "silver.events"])
    assert catalog.properties("silver.order_lines")[MAP_VERSION] == "0"  # no property yet: it starts from map_before
    assert not catalog.exists("silver.events")

    merged = [("web", "a1", "C9"), ("imported:shop", "x1", "C9"), ("web", "new", "C9")]  # version 1: the died run's
    catalog.merge(spark.createDataFrame(merged, MAP), "silver.identity_map", NODE)
    follow_identity_merges(catalog, map_before=1, max_lag=3, tables=["silver.order_lines"])
    expected = [("web", "a1", "C9"), ("pos", "m1", "C2"), ("imported:shop", "x1", "C9"), ("app", "a1", "C4")]
    assertDataFrameEqual(catalog.read("silver.order_lines"), spark.createDataFrame(expected, ROWS))
    assert catalog.properties("silver.order_lines")[MAP_VERSION] == "1"

    version = catalog.version("silver.order_lines")
    for n in range(2):  # new identifiers only (versions 2, 3): nothing moves, nothing is committed below the lag
        catalog.merge(spark.createDataFrame([("web", f"n{n}", f"N{n}")], MAP), "silver.identity_map", NODE)
        follow_identity_merges(catalog, map_before=2 + n, max_lag=3, tables=["silver.order_lines"])
    assert catalog.version("silver.order_lines") == version
    catalog.merge(spark.createDataFrame([("web", "n9", "N9")], MAP), "silver.identity_map", NODE)  # version 4
    follow_identity_merges(catalog, map_before=4, max_lag=3, tables=["silver.order_lines"])
    assert catalog.version("silver.order_lines") == version + 1  # the lag reached 3: the property advances alone
    assert catalog.properties("silver.order_lines")[MAP_VERSION] == "4"


def test_events_written_before_their_account_was_mapped_gain_its_customer_id(spark, catalog: Catalog) -> None:
    """An account browses before its first order (events are no identity source): once an order maps the account,
    its earlier events carry the customer_id, as when events and order arrive in one run (a killed-then-rerun
    ingest, a full reload)."""
    schema = f"{ROWS}, event_date date"
    day1, day2 = date(2025, 1, 1), date(2025, 1, 2)
    events = [
        ("web", "a1", None, day1),
        ("web", "a1", None, day2),
        ("app", "a1", None, day2),
        ("web", None, None, day1),
    ]
    catalog.merge(spark.createDataFrame(events, schema), "silver.events", ["channel", "account_id", "event_date"])
    catalog.merge(spark.createDataFrame([("web", "other", "C1")], MAP), "silver.identity_map", NODE)  # version 0
    follow_identity_merges(catalog, map_before=0, max_lag=5, tables=["silver.events"])
    catalog.merge(spark.createDataFrame([("web", "a1", "C7")], MAP), "silver.identity_map", NODE)  # the first order
    follow_identity_merges(catalog, map_before=1, max_lag=5, tables=["silver.events"])
    expected = [
        ("web", "a1", "C7", day1),
        ("web", "a1", "C7", day2),
        ("app", "a1", None, day2),
        ("web", None, None, day1),
    ]
    assertDataFrameEqual(catalog.read("silver.events"), spark.createDataFrame(expected, schema))
    assert catalog.properties("silver.events")[MAP_VERSION] == "1"
    version = catalog.version("silver.events")
    follow_identity_merges(catalog, map_before=1, max_lag=5, tables=["silver.events"])  # a rerun commits nothing
    assert catalog.version("silver.events") == version
    unattached_now = unattached(
        catalog.read("silver.events"),
        catalog.change_feed("silver.identity_map", 1, 1),
        id_map=catalog.read("silver.identity_map"),
        partition="event_date",
    )
    assert unattached_now.count() == 0


def test_unknown_references_are_placeholders_with_the_tables_schemas(spark) -> None:
    skus = spark.createDataFrame([("P1",), ("P9",), ("P9",), (None,)], "sku string")
    products = spark.createDataFrame([("P1",)], "sku string")
    placeholder = ("P9", None, "unknown", None, None, None, None, False, None, -1, "unknown-reference")
    assertDataFrameEqual(unknown_products(skus, products), spark.createDataFrame([placeholder], ddl("silver.products")))
    stores, known = (spark.createDataFrame(rows, "store_id string") for rows in ([("S1",), ("S2",)], [("S1",)]))
    store = ("S2", None, None, None, None, None, False, -1, "unknown-reference")
    assertDataFrameEqual(unknown_stores(stores, known), spark.createDataFrame([store], ddl("silver.stores")))
