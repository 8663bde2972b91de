"""Who a forget request names and which rows are theirs (jobs/silver/erasure.py), and that a forgotten customer's
id is never handed out again (jobs/silver/identity.py fresh ids)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pyspark.testing import assertDataFrameEqual

from jobs.silver.erasure import (
    NEEDLES,
    Footprint,
    SubjectError,
    bronze_condition,
    bronze_id_columns,
    needles,
    normalize_value,
    quarantine_condition,
    retired_id_hash,
    row_condition,
    subject_hash,
    subject_value,
    suspect_columns,
    token_of,
)
from jobs.silver.identity import assign_customer_ids
from jobs.silver.pii import pii_vault_rows

KEY = b"k" * 32
NORM = {"country_code": "1", "national_digits": 10}


def test_python_twins_tokenize_as_silver_does(spark) -> None:
    """normalize_value / token_of give the very tokens and values silver writes to restricted.pii."""
    raw = [("(415) 555-0123", "  Ann.Lee@Example.COM ", "  Ann   Lee ")]
    df = spark.createDataFrame(raw, "phone string, email string, full_name string")
    pii = {"phone": "phone", "email": "email", "full_name": "name"}
    silver = pii_vault_rows(df, pii=pii, key=KEY, **NORM)
    ours = []
    for column, kind in pii.items():
        value = normalize_value(kind, dict(zip(pii, raw[0], strict=True))[column], **NORM)
        ours.append((token_of(value, key=KEY, kind=kind), kind, value))
    assert ours[0][2] == "14155550123" and ours[1][2] == "ann.lee@example.com" and ours[2][2] == "Ann Lee"
    assertDataFrameEqual(silver, spark.createDataFrame(ours, silver.schema))


def test_subject_value_and_hash() -> None:
    token = token_of("14155550123", key=KEY, kind="phone")
    assert subject_value("phone", "+1 (415) 555 0123", key=KEY, **NORM) == token
    assert subject_value("customer-id", " C123 ", key=KEY, **NORM) == "C123"
    expected = hmac.new(KEY, f"subject:phone:{token}".encode(), hashlib.sha256).hexdigest()
    assert subject_hash("phone", token, key=KEY) == expected
    assert subject_hash("token", token, key=KEY) != expected  # the kind is part of the subject
    assert "4155550123" not in expected and len(expected) == 64
    with pytest.raises(SubjectError, match="--by must be one of"):
        subject_value("ssn", "1", key=KEY, **NORM)
    with pytest.raises(SubjectError, match="empty"):
        subject_value("email", "   ", key=KEY, **NORM)


FP = Footprint(
    customer_ids=frozenset({"C1"}),
    nodes=frozenset({("web", "w1"), ("member", "M1"), ("email", "te"), ("phone", "tp")}),
    tokens=frozenset({"tn"}),
    raw={"email": frozenset({"ann@x.com"}), "phone": frozenset({"14155550123"})},
    orders=frozenset({("web", "o1")}),
)


def test_footprints_of_a_batch_are_erased_as_one() -> None:
    """forget joins the footprints of a requests file (jobs/orchestration/privacy.py): one erasure for all of them,
    and needles that name each of them; extended adds the tokens found in bronze the same way."""
    other = Footprint(
        customer_ids=frozenset({"C2"}),
        nodes=frozenset({("web", "w2")}),
        raw={"email": frozenset({"bob@x.com"})},
        orders=frozenset({("app", "o7")}),
    )
    both = Footprint.union([FP, other])
    assert both.customer_ids == {"C1", "C2"} and both.raw["email"] == {"ann@x.com", "bob@x.com"}
    assert set(needles(both)) == set(needles(FP)) | set(needles(other))
    assert Footprint.union([]).empty and Footprint.union([FP]) == FP
    grown = FP.extended(tokens=["t9"], raw={"phone": ["14155550999"]})
    assert grown.tokens == {"tn", "t9"} and grown.raw["phone"] == {"14155550123", "14155550999"}
    assert grown.raw["email"] == FP.raw["email"] and grown.orders == FP.orders


def _kept(spark, rows: list[tuple], ddl: str, on, bronze_rows=()) -> list[tuple]:
    """The rows that do not match the subject's needles on `on` (what an erasure keeps)."""
    df = spark.createDataFrame(rows, ddl)
    subject = spark.createDataFrame(needles(FP, bronze_rows=bronze_rows), NEEDLES)
    return sorted(tuple(r) for r in df.alias("t").join(subject.alias("s"), on=on, how="left_anti").collect())


def test_rows_of_the_subject_by_column_name(spark) -> None:
    lines = [
        ("C1", "web", "o1", "tp"),
        ("C2", "web", "o2", "tp2"),
        ("C2", "app", "o1", None),
        (None, "pos", "o9", "tp"),
    ]
    where = row_condition(["customer_id", "channel", "order_id", "phone_token"])
    # their customer_id, their token (a row another id may carry) go; another channel's o1 stays
    assert _kept(spark, lines, "customer_id string, channel string, order_id string, phone_token string", where) == [
        ("C2", "app", "o1", None),
        ("C2", "web", "o2", "tp2"),
    ]
    edges = [("web", "w1", "email", "te"), ("app", "w1", "email", "tz"), ("member", "M2", "phone", "tp")]
    where = row_condition(["src_type", "src_value", "dst_type", "dst_value"])
    assert _kept(spark, edges, "src_type string, src_value string, dst_type string, dst_value string", where) == [
        ("app", "w1", "email", "tz")
    ]
    returns = [("r1", "web", "o1"), ("r2", "web", "o2")]
    where = row_condition(["return_id", "channel", "order_id"])
    assert _kept(spark, returns, "return_id string, channel string, order_id string", where) == [("r2", "web", "o2")]
    assert row_condition(["business_date", "channel", "units"]) is None  # an aggregate: nothing to delete


def test_suspect_columns_flag_identifiers_no_rule_reads() -> None:
    assert suspect_columns(["customer_id", "phone_token", "buyer_ref", "customer_email", "product_name"]) == [
        "buyer_ref",
        "customer_email",
    ]


def test_bronze_rows_match_raw_ids_and_normalised_phone_email(spark) -> None:
    ddl = "account_id string, phone string, email string, full_name string, _corrupt_record string"
    rows = [
        ("w1", None, None, None, None),  # their account
        ("w9", "415.555.0123", None, None, None),  # their phone, written another way
        ("w8", None, " ANN@x.com", None, None),  # their email
        ("w7", None, None, "Ann Lee", None),  # a namesake: kept
        (None, None, None, None, "o5,w1,2025-01-01"),  # a line that did not parse, with their account id
        ("w6", "4155550000", "bob@x.com", "Bob", None),
    ]
    where = bronze_condition(
        ddl.replace(" string", "").split(", "),
        id_columns=bronze_id_columns("web_orders", ["account_id"]),
        pii={"phone": "phone", "email": "email", "full_name": "name"},
        **NORM,
    )
    assert _kept(spark, rows, ddl, where) == [
        ("w6", "4155550000", "bob@x.com", "Bob", None),
        ("w7", None, None, "Ann Lee", None),
    ]
    assert bronze_id_columns("app_events", ["user_id", "sku"]) == {"user_id": "app"}
    assert bronze_id_columns("pos_transactions", ["member_id"]) == {"member_id": "member"}


def test_quarantine_rows_of_the_subject(spark) -> None:
    ddl = "source string, batch_id string, row_id long, record string, detail string"
    rows = [
        ("web_orders", "b1", 3, '{"email":"token:te"}', "bad"),
        ("web_orders", "b1", 4, '{"sku":"x"}', "bad"),
        ("app_orders", "b2", 7, '{"sku":"y"}', "bad"),
    ]
    kept = _kept(spark, rows, ddl, quarantine_condition(), bronze_rows=[("app_orders", "b2", 7)])
    assert kept == [("web_orders", "b1", 4, '{"sku":"x"}', "bad")]


def test_a_forgotten_customer_id_is_never_given_again(spark) -> None:
    """The same identifiers coming back after a forget form the same component; it gets the next free id."""
    components = spark.createDataFrame(
        [("email", "te", "email|te"), ("web", "w1", "email|te"), ("web", "w2", "web|w2")],
        "id_type string, id_value string, component string",
    )
    existing = spark.createDataFrame([], "id_type string, id_value string, customer_id string")
    first = {r.id_value: r.customer_id for r in assign_customer_ids(components, existing=existing).collect()}
    assert first["te"] == "C" + hashlib.sha256(b"email|te").hexdigest()[:12]
    retired = spark.createDataFrame([(retired_id_hash(first["te"]),)], "id_hash string")
    again = {
        r.id_value: r.customer_id for r in assign_customer_ids(components, existing=existing, retired=retired).collect()
    }
    assert again["te"] == again["w1"] == "C" + hashlib.sha256(b"email|te#1").hexdigest()[:12]
    assert again["w2"] == first["w2"]  # everyone else keeps their id
