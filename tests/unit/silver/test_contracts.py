from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.testing import assertDataFrameEqual

from jobs.common.clock import DateRange
from jobs.silver.contracts import apply_contract, unknown_columns
from jobs.sources.contracts import ColumnRule, Contract, load_contracts

CONTRACT = Contract(
    source="s",
    format="csv",
    keys=("id",),
    version="ts",
    pii={"phone": "phone"},
    columns=(
        ColumnRule("id", "string"),
        ColumnRule("qty", "int", required=True, min=1, max=100),
        ColumnRule("price", "decimal(12,2)", min=0),
        ColumnRule("status", "string", enum=("paid", "shipped")),
        ColumnRule("ts", "timestamp", format="iso", required=True),
        ColumnRule("phone", "string"),
    ),
)
RAW = "id string, qty string, price string, status string, ts string, phone string, _batch_id string, _row_id long"


def test_each_rule_gives_its_reason(spark) -> None:
    rows = [
        ("a", "2", "9.50", "paid", "2025-03-01T10:00:00-05:00", "555 0101", "b1", 1),
        ("", "2", "1", "paid", "2025-03-01T10:00:00Z", None, "b1", 2),
        ("c", "three", "1", "paid", "2025-03-01T10:00:00Z", None, "b1", 3),
        ("d", "0", "1", "paid", "2025-03-01T10:00:00Z", None, "b1", 4),
        ("e", "1", "1", "shiped", "2025-03-01T10:00:00Z", None, "b1", 5),
        ("f", None, "12,50", "paid", "2025-03-01T10:00:00Z", None, "b1", 6),
        ("g", "1", "1", "paid", "2025-03-01T15:00:00.250+08:00", None, "b1", 7),
    ]
    out = apply_contract(spark.createDataFrame(rows, RAW), contract=CONTRACT)
    got = out.selectExpr("_row_id", "_violation.code as code", "_violation.column as col", "qty", "ts")
    expected = spark.createDataFrame(
        [
            (1, None, None, 2, dt.datetime(2025, 3, 1, 15, 0)),
            (2, "MISSING_KEY", "id", 2, dt.datetime(2025, 3, 1, 10, 0)),
            (3, "BAD_TYPE", "qty", None, dt.datetime(2025, 3, 1, 10, 0)),
            (4, "OUT_OF_RANGE", "qty", 0, dt.datetime(2025, 3, 1, 10, 0)),
            (5, "BAD_ENUM", "status", 1, dt.datetime(2025, 3, 1, 10, 0)),
            (6, "BAD_TYPE", "price", None, dt.datetime(2025, 3, 1, 10, 0)),  # BAD_TYPE outranks NULL_REQUIRED
            (7, None, None, 1, dt.datetime(2025, 3, 1, 7, 0, 0, 250000)),
        ],
        "_row_id long, code string, col string, qty int, ts timestamp",
    )
    assertDataFrameEqual(got, expected)
    assert out.where("_row_id = 1").first()["price"] == Decimal("9.50")


def test_pii_values_never_appear_in_details(spark) -> None:
    contract = Contract(
        source="s",
        format="csv",
        keys=("id",),
        pii={"phone": "phone"},
        columns=(ColumnRule("id", "string"), ColumnRule("phone", "int")),
    )
    df = spark.createDataFrame([("a", "(415) 555-0101")], "id string, phone string")
    detail = apply_contract(df, contract=contract).first()["_violation"]["detail"]
    assert detail == "phone=<pii> is not a valid int"


def test_new_column_is_reported_not_fatal(spark) -> None:
    df = spark.createDataFrame([("a", "x")], "id string, gift_wrap string")
    assert unknown_columns(df, contract=CONTRACT) == ["gift_wrap"]


def test_repository_contracts_load() -> None:
    contracts = load_contracts("conf/contracts")
    assert {
        "web_orders",
        "app_orders",
        "marketplace_orders",
        "pos_transactions",
        "crm_members",
        "products",
        "stores",
        "web_events",
        "app_events",
        "inventory",
        "marketing_spend",
        "returns",
    } <= set(contracts)
    assert contracts["app_orders"].version == "version"


DATES = DateRange(floor=dt.date(2000, 1, 1), ceiling=dt.date(2025, 3, 3))  # today 2025-03-01 + 2 days
DATED = Contract(
    source="s",
    format="csv",
    keys=("id",),
    pii={"born": "birth_date"},
    columns=(
        ColumnRule("id", "string"),
        ColumnRule("ts", "timestamp", format="iso", required=True),
        ColumnRule("day", "date"),
        ColumnRule("born", "date", min_date=dt.date(1900, 1, 1)),
    ),
)


def test_dates_out_of_the_accepted_range_are_quarantined_naming_the_column(spark) -> None:
    """Issue 11, defect 3: a far-future (or pre-floor) date in any date or timestamp column is DATE_OUT_OF_RANGE;
    the bounds are inclusive, a timestamp counts by its UTC date, and a column's own min_date replaces the floor."""
    rows = [
        (1, "a", "2025-03-03T23:59:59Z", "2025-03-03", "1950-06-01"),  # on the ceiling; born before 2000: own floor
        (2, "b", "2026-03-01T10:00:00Z", "2025-03-01", None),  # next year
        (3, "c", "2025-03-04T00:00:00Z", None, None),  # the day after the ceiling
        (4, "d", "2025-03-04T01:00:00+05:00", "2025-03-01", None),  # 2025-03-03 20:00 UTC: accepted
        (5, "e", "2025-03-01T10:00:00Z", "2052-03-01", None),  # a typo in a date column
        (6, "f", "1999-12-31T23:00:00Z", "2000-01-01", None),
        (7, "g", "2025-03-01T10:00:00Z", "2025-03-01", "1899-12-31"),
        (8, "h", "2025-03-01T10:00:00Z", "2025-03-01", "2025-03-05"),  # a birth date in the future
    ]
    raw = "_row_id long, id string, ts string, day string, born string"
    out = apply_contract(spark.createDataFrame(rows, raw), contract=DATED, dates=DATES)
    got = out.selectExpr("_row_id", "_violation.code as code", "_violation.column as col", "_violation.detail as d")
    future = "is in the future (accepted: 2000-01-01 .. 2025-03-03)"
    expected = spark.createDataFrame(
        [
            (1, None, None, None),
            (2, "DATE_OUT_OF_RANGE", "ts", f"ts=2026-03-01T10:00:00Z {future}"),
            (3, "DATE_OUT_OF_RANGE", "ts", f"ts=2025-03-04T00:00:00Z {future}"),
            (4, None, None, None),
            (5, "DATE_OUT_OF_RANGE", "day", f"day=2052-03-01 {future}"),
            (6, "DATE_OUT_OF_RANGE", "ts", "ts=1999-12-31T23:00:00Z is too old (accepted: 2000-01-01 .. 2025-03-03)"),
            (7, "DATE_OUT_OF_RANGE", "born", "born=<pii> is too old (accepted: 1900-01-01 .. 2025-03-03)"),
            (8, "DATE_OUT_OF_RANGE", "born", "born=<pii> is in the future (accepted: 1900-01-01 .. 2025-03-03)"),
        ],
        "_row_id long, code string, col string, d string",
    )
    assertDataFrameEqual(got, expected)
    unbounded = apply_contract(spark.createDataFrame(rows, raw), contract=DATED)  # no range: dates not checked
    assert unbounded.where("_violation IS NOT NULL").count() == 0


def test_every_date_floor_of_the_repository_contracts_is_a_date() -> None:
    contracts = load_contracts("conf/contracts")
    floors = {(s, r.name): r.min_date for s, c in contracts.items() for r in c.columns if r.min_date is not None}
    assert floors == {
        ("crm_members", "birth_date"): dt.date(1900, 1, 1),
        ("crm_members", "joined_at"): dt.date(1900, 1, 1),
        ("stores", "opened_at"): dt.date(1900, 1, 1),
        ("products", "launched_at"): dt.date(1900, 1, 1),
    }


def test_an_epoch_ms_value_out_of_timestamp_range_is_a_bad_type_not_a_failed_job(spark) -> None:
    """Issue 11, defect 2a: timestamp_millis(99999999999999999) overflowed and failed every ingest of the batch."""
    contract = Contract(
        source="s",
        format="json",
        keys=("id",),
        columns=(ColumnRule("id", "string"), ColumnRule("ts", "timestamp", format="epoch_ms")),
    )
    rows = [
        ("a", "1740823200000"),
        ("b", "99999999999999999"),  # overflows micros
        ("c", "253402300800000"),  # 10000-01-01: past Spark's last timestamp
        ("d", "0"),
        ("e", "12x"),
    ]
    out = apply_contract(spark.createDataFrame(rows, "id string, ts string"), contract=contract)
    expected = spark.createDataFrame(
        [
            ("a", dt.datetime(2025, 3, 1, 10, 0), None),
            ("b", None, "BAD_TYPE"),
            ("c", None, "BAD_TYPE"),
            ("d", dt.datetime(1970, 1, 1), None),
            ("e", None, "BAD_TYPE"),
        ],
        "id string, ts timestamp, code string",
    )
    assertDataFrameEqual(out.selectExpr("id", "ts", "_violation.code as code"), expected)
