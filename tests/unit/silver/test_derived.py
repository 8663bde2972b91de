"""Silver tables derived from other silver tables: customer ids on rows, order headers, customers, and placeholder
catalog rows for SKUs and stores nobody described yet (the writing ones on tmp Delta tables)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

from delta.tables import DeltaTable
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.io.tables import Catalog
from jobs.silver.derived import customer_id_for, customers
from jobs.silver.upkeep import MAP_VERSION, add_unknown_references, build_customers, build_orders

MAP = "id_type string, id_value string, customer_id string"
ORDERS = (
    "channel string, order_id string, customer_id string, account_id string, store_id string, order_ts timestamp, "
    "order_date date, status string, lines long, units long, gross_amount decimal(14,2), discount decimal(14,2), "
    "net_amount decimal(14,2), campaign_code string, _version long"
)
CUSTOMERS = (
    "customer_id string, member_id string, phone_token string, email_token string, tier string, "
    "consent_email boolean, consent_sms boolean, birth_year int, joined_ts timestamp, channels array<string>, "
    "first_seen_ts timestamp, source string, city string, state string, country string"
)
JOINED = datetime(2020, 5, 1)
LOC, NOWHERE = ("Chicago", "IL", "US"), (None, None, None)  # a member's coarse location; none
MOVE = "channel string, order_id string, line_no int, c string"
T1, T2 = datetime(2025, 3, 1, 10, 0), datetime(2025, 3, 2, 9, 30)


def test_customer_id_for_uses_each_channels_account_type(spark) -> None:
    rows = spark.createDataFrame(
        [("web", "A1", "stale"), ("pos", "M1", None), ("shop", "K1", None), ("web", None, None), ("app", "U9", None)],
        "channel string, account_id string, customer_id string",
    )
    id_map = spark.createDataFrame(
        [
            ("web", "A1", "C1"),
            ("member", "M1", "C2"),  # POS accounts are member ids
            ("imported:shop", "K1", "K1"),  # an imported channel's ids
            ("app", "A1", "C9"),  # same value, other channel: not this row's
        ],
        MAP,
    )
    expected = spark.createDataFrame(
        [("A1", "web", "C1"), ("M1", "pos", "C2"), ("K1", "shop", "K1"), (None, "web", None), ("U9", "app", None)],
        "account_id string, channel string, customer_id string",
    )
    assertDataFrameEqual(customer_id_for(rows, id_map=id_map), expected)


def test_customers_collect_identifiers_channels_and_member_attributes(spark) -> None:
    id_map = spark.createDataFrame(
        [
            ("member", "M1", "C1"),
            ("phone", "p1", "C1"),
            ("web", "A1", "C1"),
            ("app", "U1", "C1"),
            ("email", "e2", "C2"),
            ("web", "A2", "C2"),
            ("imported:shop", "K1", "K1"),
            ("email", "e3", "K1"),
        ],
        MAP,
    )
    members = spark.createDataFrame(
        [("M1", "gold", True, False, 1980, datetime(2020, 5, 1), "Chicago", "IL", "US")],
        "member_id string, tier string, consent_email boolean, consent_sms boolean, birth_year int, "
        "joined_ts timestamp, city string, state string, country string",
    )
    first = spark.createDataFrame([("C1", T1), ("K1", T2)], "customer_id string, first_seen_ts timestamp")
    expected = spark.createDataFrame(
        [
            ("C1", "M1", "p1", None, "gold", True, False, 1980, JOINED, ["app", "web"], T1, "landing", *LOC),
            ("C2", None, None, "e2", None, None, None, None, None, ["web"], None, "landing", *NOWHERE),
            ("K1", None, None, "e3", None, None, None, None, None, ["imported:shop"], T2, "imported:shop", *NOWHERE),
        ],
        CUSTOMERS,
    )
    assertDataFrameEqual(customers(id_map, members, first), expected)


def _line(order_id: str, line_no: int, account: str, customer: str, qty: int, price: str, discount: str, **kw):
    net = D(price) * qty - D(discount)
    row = {
        "channel": "web",
        "order_id": order_id,
        "line_no": line_no,
        "account_id": account,
        "customer_id": customer,
        "order_ts": T1,
        "order_date": date(2025, 3, 1),
        "status": "paid",
        "sku": "S1",
        "quantity": qty,
        "unit_price": D(price),
        "discount": D(discount),
        "net_amount": net,
        "_version": 1,
        "_batch_id": "b1",
    }
    return row | kw


def test_build_orders_rebuilds_touched_orders_and_follows_identity_merges(catalog: Catalog, silver) -> None:
    spark = catalog.spark
    lines = silver(
        "silver.order_lines",
        [
            _line("W1", 1, "A1", "C1", 2, "10.00", "1.00", status="created", campaign_code="C5"),
            _line("W1", 2, "A1", "C1", 1, "5.00", "0.00", status="paid", _version=2, order_ts=T2),
            _line("W2", 1, "A2", "C2", 3, "2.00", "0.50", _batch_id="b0"),
        ],
    )
    catalog.overwrite(lines, "silver.order_lines", partition_by=["order_date"])
    catalog.merge(spark.createDataFrame([("web", "A1", "C1"), ("web", "A2", "C2")], MAP), "silver.identity_map", [])
    build_orders(catalog, batch_ids=["b1"], map_before=0, max_lag=20)
    # W1: status and customer of the latest version; gross = 2 x 10 + 1 x 5; W2 (batch b0) not touched
    w1 = ("web", "W1", "C1", "A1", None, T1, date(2025, 3, 1), "paid", 2, 3, D("25.00"), D("1.00"), D("24.00"), "C5", 2)
    assertDataFrameEqual(catalog.read("silver.orders"), spark.createDataFrame([w1], ORDERS))

    # a new link merged A1's customer into C9 (by a run that died before moving rows: this one starts from the map as
    # it found it): lines and headers follow the map's change feed, then W2's batch is rebuilt too
    catalog.merge(spark.createDataFrame([("web", "A1", "C9")], MAP), "silver.identity_map", ["id_type", "id_value"])
    build_orders(catalog, batch_ids=["b0"], map_before=1, max_lag=20)
    w2 = ("web", "W2", "C2", "A2", None, T1, date(2025, 3, 1), "paid", 1, 3, D("6.00"), D("0.50"), D("5.50"), None, 1)
    w1_moved = (*w1[:2], "C9", *w1[3:])
    assertDataFrameEqual(catalog.read("silver.orders"), spark.createDataFrame([w1_moved, w2], ORDERS))
    assertDataFrameEqual(
        catalog.read("silver.order_lines").select("order_id", "line_no", "customer_id"),
        spark.createDataFrame([("W1", 1, "C9"), ("W1", 2, "C9"), ("W2", 1, "C2")], "order_id string, line_no int, "
                              "customer_id string"),
    )  # fmt: skip


def test_unknown_skus_and_stores_of_this_run_get_placeholders(catalog: Catalog, silver) -> None:
    spark = catalog.spark
    catalog.overwrite(
        silver(
            "silver.order_lines",
            [
                _line("P1", 1, "M1", None, 1, "1.00", "0.00", sku="S1", store_id="ST1"),
                _line("P1", 2, "M1", None, 1, "1.00", "0.00", sku="S9", store_id="ST7"),
                _line("W3", 1, "A1", None, 1, "1.00", "0.00", sku="S9"),  # online: no store
                _line("OLD", 1, "A1", None, 1, "1.00", "0.00", sku="S5", _batch_id="b0"),  # not this run's
            ],
        ),
        "silver.order_lines",
    )
    catalog.overwrite(
        silver("silver.daily_sales_imported", [{"store_id": "ST1", "sku": "S8", "sales_date": date(2025, 3, 1)}])
        .withColumn("_batch_id", F.lit("b1")),
        "silver.daily_sales_imported",
    )  # fmt: skip
    products = (
        "sku string, product_name string, category string, brand string, list_price decimal(12,2), "
        "unit_cost decimal(12,2), launched_date date, is_known boolean, updated_ts timestamp, _version long, "
        "_batch_id string"
    )
    stores = (
        "store_id string, store_name string, city string, region string, timezone string, opened_date date, "
        "is_known boolean, _version long, _batch_id string"
    )
    mug = ("S1", "Mug", "home", "B", D("9.00"), D("3.00"), None, True, T1, 5, "p1")
    store = ("ST1", "Main", "Austin", "South", "America/Chicago", None, True, 5, "s1")
    catalog.overwrite(spark.createDataFrame([mug], products), "silver.products")
    catalog.overwrite(spark.createDataFrame([store], stores), "silver.stores")

    add_unknown_references(catalog, batch_ids=["b1"])
    unknown_sku = (None, "unknown", None, None, None, None, False, None, -1, "unknown-reference")
    assertDataFrameEqual(
        catalog.read("silver.products"),
        spark.createDataFrame([mug, ("S9", *unknown_sku), ("S8", *unknown_sku)], products),
    )
    unknown_store = (None, None, None, None, None, False, -1, "unknown-reference")
    assertDataFrameEqual(catalog.read("silver.stores"), spark.createDataFrame([store, ("ST7", *unknown_store)], stores))


def test_build_customers_writes_one_row_per_customer(catalog: Catalog, silver) -> None:
    spark = catalog.spark
    catalog.merge(
        spark.createDataFrame([("web", "A1", "C1"), ("phone", "p1", "C1"), ("marketplace", "B7", "C7")], MAP),
        "silver.identity_map",
        ["id_type", "id_value"],
    )
    catalog.overwrite(
        silver(
            "silver.order_lines",
            [
                _line("W1", 1, "A1", "C1", 1, "1.00", "0.00", order_ts=T2),
                _line("W0", 1, "A1", "C1", 1, "1.00", "0.00", order_ts=T1),
                _line("G1", 1, "guest", None, 1, "1.00", "0.00"),  # anonymous: no customer
            ],
        ),
        "silver.order_lines",
    )
    build_customers(catalog)  # no CRM members loaded yet: member attributes are null
    expected = spark.createDataFrame(
        [
            ("C1", None, "p1", None, None, None, None, None, None, ["web"], T1, "landing", *NOWHERE),
            ("C7", None, None, None, None, None, None, None, None, ["marketplace"], None, "landing", *NOWHERE),
        ],
        CUSTOMERS,
    )
    assertDataFrameEqual(catalog.read("silver.customers"), expected)


def test_build_customers_after_a_run_equals_a_rebuild(catalog: Catalog, silver) -> None:
    """Only the touched customers are recomputed (a new link merges C7 into C1, a new customer, an older line of
    C1 and a CRM row of this run), a retired id is deleted, and the table equals customers() over all of silver."""
    spark = catalog.spark
    first_map = [("web", "A1", "C1"), ("phone", "p1", "C1"), ("marketplace", "B7", "C7"), ("app", "U5", "C5")]
    catalog.merge(spark.createDataFrame(first_map, MAP), "silver.identity_map", ["id_type", "id_value"])
    first_lines = [
        _line("W1", 1, "A1", "C1", 1, "1.00", "0.00", order_ts=T2, _batch_id="b0"),
        _line("M1", 1, "B7", "C7", 1, "1.00", "0.00", channel="marketplace", _batch_id="b0"),
        _line("U1", 1, "U5", "C5", 1, "1.00", "0.00", channel="app", order_ts=T2, _batch_id="b0"),
    ]
    catalog.merge(silver("silver.order_lines", first_lines), "silver.order_lines", ["channel", "order_id", "line_no"])
    build_customers(catalog)
    untouched = catalog.read("silver.customers").where("customer_id = 'C5'").collect()

    run_map = [("marketplace", "B7", "C1"), ("phone", "p1", "C1"), ("member", "M9", "C9"), ("web", "A9", "C9")]
    catalog.merge(spark.createDataFrame(run_map, MAP), "silver.identity_map", ["id_type", "id_value"])
    run_lines = [
        _line("W0", 1, "A1", "C1", 1, "1.00", "0.00", order_ts=datetime(2025, 2, 1, 8, 0), _batch_id="b2"),
        _line("W9", 1, "A9", "C9", 1, "1.00", "0.00", _batch_id="b2"),
    ]
    catalog.merge(silver("silver.order_lines", run_lines), "silver.order_lines", ["channel", "order_id", "line_no"])
    catalog.merge(  # C7's line follows the merge (follow_identity_merges does this in a run)
        spark.createDataFrame([("marketplace", "M1", 1, "C1")], MOVE),
        "silver.order_lines",
        ["channel", "order_id", "line_no"],
        update_set={"customer_id": "s.c"},
        insert=False,
    )
    build_customers(catalog, batch_ids=["b2"])

    lines = catalog.read("silver.order_lines").where("customer_id IS NOT NULL")
    first = lines.groupBy("customer_id").agg(F.min("order_ts").alias("first_seen_ts"))
    members = catalog.read_or_empty("silver.members")
    expected = customers(catalog.read("silver.identity_map"), members, first)
    assertDataFrameEqual(catalog.read("silver.customers"), expected)
    assert {r["customer_id"] for r in catalog.read("silver.customers").collect()} == {"C1", "C5", "C9"}
    assert catalog.read("silver.customers").where("customer_id = 'C5'").collect() == untouched
    property_set, merge = DeltaTable.forPath(spark, catalog.path("silver.customers")).history(2).collect()
    assert merge["operation"] == "MERGE" and property_set["operation"] == "SET TBLPROPERTIES"
    assert int(merge["operationMetrics"]["numTargetRowsDeleted"]) == 1  # C7 retired
    assert int(merge["operationMetrics"]["numTargetRowsInserted"]) == 1  # C9
    assert int(merge["operationMetrics"]["numTargetRowsUpdated"]) == 1  # C1 (C5 was not touched)
    version = catalog.properties("silver.customers")[MAP_VERSION]
    assert version == str(catalog.version("silver.identity_map"))
