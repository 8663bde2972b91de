"""Conform functions: contract-typed rows -> silver columns. UTC timestamps, business dates in the channel's (or the
store's) zone, channel keys, and what unknown or missing values become. Expected values are worked out by hand."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal as D

from pyspark.testing import assertDataFrameEqual

from jobs.silver import conform

TRACK = "_batch_id string, _batch_no int, _row_id long"
LINES = (
    "channel string, order_id string, line_no int, account_id string, store_id string, order_ts timestamp, "
    "order_date date, status string, sku string, quantity int, unit_price decimal(12,2), discount decimal(12,2), "
    "net_amount decimal(12,2), campaign_code string, device_id string, phone_token string, email_token string, "
    f"_version long, {TRACK}"
)
EVENTS = (
    "channel string, event_id string, event_ts timestamp, event_date date, session_id string, account_id string, "
    f"event_type string, sku string, campaign_code string, device_id string, platform string, _version long, {TRACK}"
)
NY = "America/New_York"


def ts(*parts: int) -> datetime:
    return datetime(*parts)


def micros(*parts: int) -> int:
    """unix micros of a UTC wall time, computed without Spark."""
    return int(datetime(*parts, tzinfo=UTC).timestamp()) * 1_000_000


def test_web_orders_date_in_the_channel_zone_and_missing_discount_is_zero(spark) -> None:
    rows = spark.createDataFrame(
        [
            ("W1", 1, "A1", "e1", "p1", ts(2025, 3, 1, 3, 30), "paid", "S1", 2, D("10.00"), D("1.50"), "C1",
             ts(2025, 3, 1, 3, 31), "b1", 1, 0),
            ("W2", 1, "A2", None, None, ts(2025, 3, 1, 15, 0), "shipped", "S2", 1, D("5.25"), None, None,
             ts(2025, 3, 2, 0, 0), "b1", 1, 1),
        ],
        "order_id string, line_no int, account_id string, email_token string, phone_token string, order_ts timestamp, "
        "status string, sku string, quantity int, unit_price decimal(12,2), discount decimal(12,2), "
        f"campaign_code string, updated_at timestamp, {TRACK}",
    )  # fmt: skip
    expected = spark.createDataFrame(
        [  # 03:30 UTC is 22:30 the evening before in New York (EST, UTC-5)
            ("web", "W1", 1, "A1", None, ts(2025, 3, 1, 3, 30), date(2025, 2, 28), "paid", "S1", 2, D("10.00"),
             D("1.50"), D("18.50"), "C1", None, "p1", "e1", micros(2025, 3, 1, 3, 31), "b1", 1, 0),
            ("web", "W2", 1, "A2", None, ts(2025, 3, 1, 15, 0), date(2025, 3, 1), "shipped", "S2", 1, D("5.25"),
             D("0.00"), D("5.25"), None, None, None, None, micros(2025, 3, 2), "b1", 1, 1),
        ],
        LINES,
    )  # fmt: skip
    assertDataFrameEqual(conform.web_orders(rows, tz=NY), expected)


def test_app_orders_take_user_id_qty_price_and_the_source_version(spark) -> None:
    rows = spark.createDataFrame(
        [("O1", 2, "U1", "p9", "M1", ts(2025, 3, 1, 16, 0), "created", "S3", 3, D("2.00"), None, "C7", 7, "app",
          "b2", 4, 9)],
        "order_id string, line_no int, user_id string, phone_token string, member_id string, order_ts timestamp, "
        "status string, sku string, qty int, price decimal(12,2), discount decimal(12,2), campaign_code string, "
        f"version long, platform string, {TRACK}",
    )  # fmt: skip
    expected = spark.createDataFrame(
        [  # 16:00 UTC is 01:00 the next day in Tokyo (UTC+9)
            ("app", "O1", 2, "U1", None, ts(2025, 3, 1, 16, 0), date(2025, 3, 2), "created", "S3", 3, D("2.00"),
             D("0.00"), D("6.00"), "C7", None, "p9", None, 7, "b2", 4, 9),
        ],
        LINES,
    )  # fmt: skip
    assertDataFrameEqual(conform.app_orders(rows, tz="Asia/Tokyo"), expected)


def test_marketplace_orders_use_order_time_and_the_buyer_phone(spark) -> None:
    rows = spark.createDataFrame(
        [
            ("K1", 1, "B1", "bp1", ts(2025, 3, 1, 4, 59, 59), "paid", "S1", 1, D("9.99"), D("1.00"),
             ts(2025, 3, 1, 6, 0), "b3", 2, 0),
            ("K2", 1, "B2", None, ts(2025, 3, 1, 5, 0), "cancelled", "S2", 4, D("1.25"), None,
             ts(2025, 3, 1, 6, 0), "b3", 2, 1),
        ],
        "order_id string, line_no int, buyer_id string, buyer_phone_token string, order_time timestamp, "
        "status string, sku string, quantity int, unit_price decimal(12,2), commission decimal(12,2), "
        f"updated_at timestamp, {TRACK}",
    )  # fmt: skip
    expected = spark.createDataFrame(
        [  # New York midnight is 05:00 UTC: one second before it is still Feb 28 there
            ("marketplace", "K1", 1, "B1", None, ts(2025, 3, 1, 4, 59, 59), date(2025, 2, 28), "paid", "S1", 1,
             D("9.99"), D("0.00"), D("9.99"), None, None, "bp1", None, micros(2025, 3, 1, 6), "b3", 2, 0),
            ("marketplace", "K2", 1, "B2", None, ts(2025, 3, 1, 5, 0), date(2025, 3, 1), "cancelled", "S2", 4,
             D("1.25"), D("0.00"), D("5.00"), None, None, None, None, micros(2025, 3, 1, 6), "b3", 2, 1),
        ],
        LINES,
    )  # fmt: skip
    assertDataFrameEqual(conform.marketplace_orders(rows, tz=NY), expected)


def test_pos_local_times_convert_with_the_store_zone_or_the_channel_fallback(spark) -> None:
    stores = spark.createDataFrame(
        [("ST1", "America/Los_Angeles"), ("ST2", "Asia/Tokyo")], "store_id string, timezone string"
    )
    rows = spark.createDataFrame(
        [
            ("T1", 1, "ST1", "M1", ts(2025, 3, 1, 9, 15), "S1", 3, D("4.00"), D("2.00"), "card", "b4", 1, 0),
            ("T2", 1, "ST2", None, ts(2025, 3, 1, 8, 0), "S2", 1, D("3.00"), None, "cash", "b4", 1, 1),
            ("T3", 1, "ST9", None, ts(2025, 3, 1, 20, 0), "S2", 2, D("3.00"), None, None, "b4", 1, 2),
        ],
        "txn_id string, line_no int, store_id string, member_id string, txn_ts timestamp, sku string, quantity int, "
        f"unit_price decimal(12,2), discount decimal(12,2), payment_type string, {TRACK}",
    )
    expected = spark.createDataFrame(
        [  # LA is UTC-8 before Mar 9; Tokyo UTC+9; unknown store ST9 uses the fallback (Chicago, UTC-6)
            ("pos", "T1", 1, "M1", "ST1", ts(2025, 3, 1, 17, 15), date(2025, 3, 1), "paid", "S1", 3, D("4.00"),
             D("2.00"), D("10.00"), None, None, None, None, 0, "b4", 1, 0),
            ("pos", "T2", 1, None, "ST2", ts(2025, 2, 28, 23, 0), date(2025, 3, 1), "paid", "S2", 1, D("3.00"),
             D("0.00"), D("3.00"), None, None, None, None, 0, "b4", 1, 1),
            ("pos", "T3", 1, None, "ST9", ts(2025, 3, 2, 2, 0), date(2025, 3, 1), "paid", "S2", 2, D("3.00"),
             D("0.00"), D("6.00"), None, None, None, None, 0, "b4", 1, 2),
        ],
        LINES,
    )  # fmt: skip
    assertDataFrameEqual(conform.pos_transactions(rows, stores=stores, tz="America/Chicago"), expected)


def test_web_events_platform_defaults_to_the_channel(spark) -> None:
    rows = spark.createDataFrame(
        [("E1", ts(2025, 3, 1, 4, 0), "s1", "A1", "view", "S1", None, "d1", "b5", 1, 0)],
        "event_id string, event_ts timestamp, session_id string, account_id string, event_type string, sku string, "
        f"campaign_code string, device_id string, {TRACK}",
    )
    expected = spark.createDataFrame(
        [("web", "E1", ts(2025, 3, 1, 4, 0), date(2025, 2, 28), "s1", "A1", "view", "S1", None, "d1", "web", 0,
          "b5", 1, 0)],
        EVENTS,
    )  # fmt: skip
    assertDataFrameEqual(conform.events(rows, channel="web", tz=NY), expected)


def test_app_events_take_user_id_and_keep_their_platform(spark) -> None:
    rows = spark.createDataFrame(
        [("E2", ts(2025, 3, 1, 12, 0), "s2", "U1", "cart", "S2", "C1", "d2", "mini_program", "b6", 1, 3)],
        "event_id string, event_ts timestamp, session_id string, user_id string, event_type string, sku string, "
        f"campaign_code string, device_id string, platform string, {TRACK}",
    )
    expected = spark.createDataFrame(
        [("app", "E2", ts(2025, 3, 1, 12, 0), date(2025, 3, 1), "s2", "U1", "cart", "S2", "C1", "d2",
          "mini_program", 0, "b6", 1, 3)],
        EVENTS,
    )  # fmt: skip
    assertDataFrameEqual(conform.events(rows, channel="app", tz=NY), expected)


def test_members_keep_tokens_the_birth_year_and_the_coarse_location_only(spark) -> None:
    rows = spark.createDataFrame(
        [("M1", "p1", "e1", "n1", "a1", "gold", True, None, 1980, ts(2020, 5, 1, 9, 0), "Chicago", "IL", "US",
          ts(2025, 1, 2, 3, 4), "b7", 1, 0)],
        "member_id string, phone_token string, email_token string, full_name_token string, address_token string, "
        "tier string, consent_email boolean, consent_sms boolean, _birth_year int, joined_at timestamp, "
        f"_city string, _state string, _country string, updated_at timestamp, {TRACK}",
    )  # fmt: skip
    expected = spark.createDataFrame(
        [("M1", "p1", "e1", "n1", "a1", "gold", True, None, 1980, ts(2020, 5, 1, 9, 0), "Chicago", "IL", "US",
          micros(2025, 1, 2, 3, 4), "b7", 1, 0)],
        "member_id string, phone_token string, email_token string, full_name_token string, address_token string, "
        "tier string, consent_email boolean, consent_sms boolean, birth_year int, joined_ts timestamp, "
        f"city string, state string, country string, _version long, {TRACK}",
    )  # fmt: skip
    assertDataFrameEqual(conform.members(rows), expected)


def test_stores_and_products_from_the_feed_are_known(spark) -> None:
    stores = spark.createDataFrame(
        [("ST1", "Downtown", "Austin", "South", "America/Chicago", date(2019, 4, 1), ts(2025, 1, 1), "b8", 1, 0)],
        "store_id string, store_name string, city string, region string, timezone string, opened_at date, "
        f"updated_at timestamp, {TRACK}",
    )
    assertDataFrameEqual(
        conform.stores(stores),
        spark.createDataFrame(
            [("ST1", "Downtown", "Austin", "South", "America/Chicago", date(2019, 4, 1), True, micros(2025, 1, 1),
              "b8", 1, 0)],
            "store_id string, store_name string, city string, region string, timezone string, opened_date date, "
            f"is_known boolean, _version long, {TRACK}",
        ),
    )  # fmt: skip
    products = spark.createDataFrame(
        [("S1", "Mug", "home", None, D("12.00"), D("4.50"), None, ts(2025, 2, 1, 8, 0), "b9", 1, 0)],
        "sku string, product_name string, category string, brand string, list_price decimal(12,2), "
        f"unit_cost decimal(12,2), launched_at date, updated_at timestamp, {TRACK}",
    )
    assertDataFrameEqual(
        conform.products(products),
        spark.createDataFrame(
            [("S1", "Mug", "home", None, D("12.00"), D("4.50"), None, True, ts(2025, 2, 1, 8, 0),
              micros(2025, 2, 1, 8), "b9", 1, 0)],
            "sku string, product_name string, category string, brand string, list_price decimal(12,2), "
            "unit_cost decimal(12,2), launched_date date, is_known boolean, updated_ts timestamp, _version long, "
            f"{TRACK}",
        ),
    )  # fmt: skip


def test_inventory_and_marketing_spend_missing_counts_are_zero(spark) -> None:
    inventory = spark.createDataFrame(
        [(date(2025, 3, 1), "ST1", "S1", 5, None, "b10", 1, 0), (date(2025, 3, 1), "ST1", "S2", 0, 12, "b10", 1, 1)],
        f"snapshot_date date, store_id string, sku string, on_hand int, on_order int, {TRACK}",
    )
    assertDataFrameEqual(
        conform.inventory(inventory),
        spark.createDataFrame(
            [
                (date(2025, 3, 1), "ST1", "S1", 5, 0, 0, "b10", 1, 0),
                (date(2025, 3, 1), "ST1", "S2", 0, 12, 0, "b10", 1, 1),
            ],
            f"snapshot_date date, store_id string, sku string, on_hand int, on_order int, _version long, {TRACK}",
        ),
    )
    spend = spark.createDataFrame(
        [(date(2025, 3, 1), "web", "C1", D("100.00"), None, 40, ts(2025, 3, 2), "b11", 1, 0)],
        "date date, channel string, campaign_id string, spend decimal(12,2), impressions long, clicks long, "
        f"updated_at timestamp, {TRACK}",
    )
    assertDataFrameEqual(
        conform.marketing_spend(spend),
        spark.createDataFrame(
            [(date(2025, 3, 1), "web", "C1", D("100.00"), 0, 40, micros(2025, 3, 2), "b11", 1, 0)],
            "spend_date date, channel string, campaign_id string, spend decimal(12,2), impressions long, "
            f"clicks long, _version long, {TRACK}",
        ),
    )


def test_returns_are_dated_in_the_given_zone(spark) -> None:
    rows = spark.createDataFrame(
        [("R1", "app", "O1", 2, "S3", 1, D("2.00"), "damaged", ts(2025, 3, 1, 2, 0), ts(2025, 3, 1, 2, 5),
          "b12", 1, 0)],
        "return_id string, channel string, order_id string, line_no int, sku string, quantity int, "
        f"refund_amount decimal(12,2), reason string, return_ts timestamp, updated_at timestamp, {TRACK}",
    )  # fmt: skip
    expected = spark.createDataFrame(
        [("R1", "app", "O1", 2, "S3", 1, D("2.00"), "damaged", ts(2025, 3, 1, 2, 0), date(2025, 2, 28),
          micros(2025, 3, 1, 2, 5), "b12", 1, 0)],
        "return_id string, channel string, order_id string, line_no int, sku string, quantity int, "
        "refund_amount decimal(12,2), reason string, return_ts timestamp, return_date date, _version long, "
        f"{TRACK}",
    )  # fmt: skip
    assertDataFrameEqual(conform.returns(rows, tz=NY), expected)


def test_imported_orders_keep_ids_derive_missing_ones_and_number_lines(spark) -> None:
    rows = spark.createDataFrame(
        [
            ("shop", "K1", ts(2025, 3, 1, 10, 0), D("20.00"), None, None, "S1", None, "p1", None, "b13", 3, 0),
            ("shop", "K2", ts(2025, 3, 1, 11, 0), D("30.00"), 3, "O9", "S2", "ST1", None, "e2", "b13", 3, 1),
            ("shop", "K2", ts(2025, 3, 1, 11, 0), D("5.00"), 2, "O9", "S1", "ST1", None, "e2", "b13", 3, 2),
        ],
        "channel string, customer_id string, order_ts timestamp, amount decimal(12,2), quantity int, "
        f"order_id string, sku string, store_id string, phone_token string, email_token string, {TRACK}",
    )
    # a row without an order id is its own order, named by a hash of its content
    derived = "IMP-" + hashlib.sha256(b"shop|K1|2025-03-01 10:00:00|S1|20.00").hexdigest()[:16]
    expected = spark.createDataFrame(
        [  # line numbers follow sku within an order; the amount is the line's net amount, price = amount / qty
            ("shop", derived, 1, "K1", None, ts(2025, 3, 1, 10, 0), date(2025, 3, 1), "paid", "S1", 1, D("20.00"),
             D("0.00"), D("20.00"), None, None, "p1", None, 3, "b13", 3, 0),
            ("shop", "O9", 2, "K2", "ST1", ts(2025, 3, 1, 11, 0), date(2025, 3, 1), "paid", "S2", 3, D("10.00"),
             D("0.00"), D("30.00"), None, None, None, "e2", 3, "b13", 3, 1),
            ("shop", "O9", 1, "K2", "ST1", ts(2025, 3, 1, 11, 0), date(2025, 3, 1), "paid", "S1", 2, D("2.50"),
             D("0.00"), D("5.00"), None, None, None, "e2", 3, "b13", 3, 2),
        ],
        LINES,
    )  # fmt: skip
    assertDataFrameEqual(conform.imported_orders(rows, tz="UTC"), expected)


def test_imported_interactions_and_sales_fill_unknown_weight_and_promo(spark) -> None:
    inter = spark.createDataFrame(
        [("K1", "I1", ts(2025, 3, 1, 9, 0), None, "/in/x.csv", "b14", 2, 0),
         ("K1", "I2", ts(2025, 3, 1, 9, 5), 2.5, "/in/x.csv", "b14", 2, 1)],
        f"customer_id string, item_id string, ts timestamp, weight double, _source_file string, {TRACK}",
    )  # fmt: skip
    assertDataFrameEqual(
        conform.imported_interactions(inter),
        spark.createDataFrame(
            [("K1", "I1", ts(2025, 3, 1, 9, 0), 1.0, "/in/x.csv", 2, "b14", 2, 0),
             ("K1", "I2", ts(2025, 3, 1, 9, 5), 2.5, "/in/x.csv", 2, "b14", 2, 1)],
            "customer_id string, item_id string, interaction_ts timestamp, weight double, source_file string, "
            f"_version long, {TRACK}",
        ),
    )  # fmt: skip
    sales = spark.createDataFrame(
        [("ST1", "S1", date(2025, 3, 1), 4.0, D("3.00"), None, "b15", 5, 0),
         ("ST1", "S2", date(2025, 3, 1), 1.0, None, True, "b15", 5, 1)],
        f"store_id string, sku string, date date, units double, price decimal(12,2), promo boolean, {TRACK}",
    )  # fmt: skip
    assertDataFrameEqual(
        conform.imported_sales(sales),
        spark.createDataFrame(
            [("ST1", "S1", date(2025, 3, 1), 4.0, D("3.00"), False, 5, "b15", 5, 0),
             ("ST1", "S2", date(2025, 3, 1), 1.0, None, True, 5, "b15", 5, 1)],
            "store_id string, sku string, sales_date date, units double, price decimal(12,2), promo boolean, "
            f"_version long, {TRACK}",
        ),
    )  # fmt: skip
