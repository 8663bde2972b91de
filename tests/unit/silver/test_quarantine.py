"""Quarantine rows (one reason each, PII masked in the kept record) and the per-batch lineage audit."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.silver.contracts import apply_contract
from jobs.silver.quarantine import audit_counts, quarantine_rows, unbalanced
from jobs.sources.contracts import ColumnRule, Contract

KEY = b"unit-test-key"
CONTRACT = Contract(
    source="web_orders",
    format="csv",
    keys=("id",),
    pii={"phone": "phone"},
    columns=(ColumnRule("id", "string"), ColumnRule("qty", "int", required=True, min=1), ColumnRule("phone", "string")),
)
META = "_source_file string, _batch_id string, _batch_no int, _row_id long, _ingested_at timestamp"
QUARANTINE = (
    "source string, batch_id string, source_file string, row_id long, reason_code string, column string, "
    "detail string, record string, quarantined_at timestamp, line_no long"
)
AT = datetime(2025, 3, 2, 6, 0)
VIOLATION = "struct<code:string,column:string,detail:string>"


def token(kind: str, value: str) -> str:
    """The keyed hash the pipeline stores for a normalised PII value, computed with Python's hmac."""
    return hmac.new(KEY, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def test_each_broken_row_is_kept_once_with_its_reason_and_pii_masked(spark) -> None:
    raw = spark.createDataFrame(
        [
            ("a", "2", "(415) 555-0101", "web_orders/2025-03-01/f.csv", "web_orders-000001", 1, 0, AT),  # valid
            ("", "1", None, "web_orders/2025-03-01/f.csv", "web_orders-000001", 1, 1, AT),
            ("c", "x", "415-555-0102", "web_orders/2025-03-01/f.csv", "web_orders-000001", 1, 2, AT),
            ("d", None, None, "web_orders/2025-03-01/f.csv", "web_orders-000001", 1, 3, AT),
            ("e", "0", "+44 20 7946 0000", "web_orders/2025-03-01/f.csv", "web_orders-000001", 1, 4, AT),
        ],
        f"id string, qty string, phone string, {META}",
    )
    checked = apply_contract(raw, contract=CONTRACT)
    got = quarantine_rows(checked, contract=CONTRACT, key=KEY, country_code="1", national_digits=10)
    f, b = "web_orders/2025-03-01/f.csv", "web_orders-000001"
    # a 10-digit national number gets the country code; a longer one is kept as its digits
    t2, t4 = token("phone", "14155550102"), token("phone", "442079460000")
    expected = spark.createDataFrame(
        [
            ("web_orders", b, f, 1, "MISSING_KEY", "id", "key column id is empty",
             '{"id":"","qty":"1","phone":null}', AT, None),
            ("web_orders", b, f, 2, "BAD_TYPE", "qty", "qty=x is not a valid int",
             f'{{"id":"c","qty":"x","phone":"token:{t2}"}}', AT, None),
            ("web_orders", b, f, 3, "NULL_REQUIRED", "qty", "required column qty is empty",
             '{"id":"d","qty":null,"phone":null}', AT, None),
            ("web_orders", b, f, 4, "OUT_OF_RANGE", "qty", "qty=0 < 1",
             f'{{"id":"e","qty":"0","phone":"token:{t4}"}}', AT, None),
        ],
        QUARANTINE,
    )  # fmt: skip
    assertDataFrameEqual(got, expected)


def test_an_unparsable_line_is_kept_only_as_its_hash_with_its_line_number(spark) -> None:
    """Values Spark split from a broken line may be shifted into any column: none of them is kept (defect 7)."""
    raw = spark.createDataFrame(
        [("a", "Jane Roe", "555", 'x,"Jane Roe,555-0101,,', "f.csv", "b", 1, 7, AT, 9)],
        f"id string, qty string, phone string, _corrupt_record string, {META}, _line_no long",
    )
    got = quarantine_rows(
        apply_contract(raw, contract=CONTRACT), contract=CONTRACT, key=KEY, country_code="1", national_digits=10
    )
    digest = hashlib.sha256(b'x,"Jane Roe,555-0101,,').hexdigest()
    expected = spark.createDataFrame(
        [
            (
                "web_orders",
                "b",
                "f.csv",
                7,
                "MALFORMED",
                "_corrupt_record",
                "unbalanced quote: a quoted field must end on its line",
                f'{{"_corrupt_record":"sha256:{digest}"}}',
                AT,
                9,
            )
        ],
        QUARANTINE,
    )
    assertDataFrameEqual(got, expected)


NAME_WORDS = {"email": ("email", "e_mail"), "phone": ("phone", "mobile"), "name": ("name",)}
PEOPLE = Contract(
    source="crm",
    format="csv",
    keys=("id",),
    pii={"email": "email"},
    columns=(ColumnRule("id", "string"), ColumnRule("city", "string"), ColumnRule("qty", "int")),
)


def test_no_raw_pii_is_quarantined_whatever_the_rows_shape(spark) -> None:
    """Issue 11, defect 7: a renamed header ('Email', 'Mobile No'), a shifted row (an email in `city`), a phone in an
    unknown column and a raw phone in a BAD_TYPE detail are all masked; dates, amounts and ids are kept."""
    meta = ("f.csv", "b", 1)
    raw = spark.createDataFrame(
        [
            ("1", "Lyon", "x", "Ann.Lee@Example.com", "+1 (415) 555-0101", "call 415.555.0102 after 6", "2025-03-01",
             *meta, 1, AT),
            ("2", "bob@example.org", "y", None, None, "ref 100000008 paid 1234567.50", "2025-03-01T10:00:00Z",
             *meta, 2, AT),
            ("3", "Paris", "(212) 555-0100", None, None, "20250301", "+44 20 7946 0958", *meta, 3, AT),
        ],
        f"id string, city string, qty string, Email string, `Mobile No` string, notes string, seen string, {META}",
    )  # fmt: skip
    got = quarantine_rows(
        apply_contract(raw, contract=PEOPLE),
        contract=PEOPLE,
        key=KEY,
        country_code="1",
        national_digits=10,
        name_words=NAME_WORDS,
    ).select("row_id", "detail", "record")
    email1, phone1 = token("email", "ann.lee@example.com"), token("phone", "14155550101")

    def record(id_: str, city: str, qty: str, email: str | None, mobile: str | None, notes: str, seen: str) -> str:
        values = {"id": id_, "city": city, "qty": qty, "Email": email, "Mobile No": mobile, "notes": notes}
        return json.dumps({**values, "seen": seen}, separators=(",", ":"))

    expected = spark.createDataFrame(
        [
            (1, "qty=x is not a valid int", record(
                "1", "Lyon", "x", f"token:{email1}", f"token:{phone1}", "call <phone> after 6", "2025-03-01")),
            (2, "qty=y is not a valid int", record(
                "2", "<email>", "y", None, None, "ref 100000008 paid 1234567.50", "2025-03-01T10:00:00Z")),
            (3, "qty=<phone> is not a valid int", record(
                "3", "Paris", "<phone>", None, None, "20250301", "<phone>")),
        ],
        "row_id long, detail string, record string",
    )  # fmt: skip
    assertDataFrameEqual(got, expected)


def test_audit_counts_add_up_per_batch_with_the_delivery_date(spark) -> None:
    bronze = spark.createDataFrame(
        [
            ("s-000001", "s/2025-03-01/a.csv", AT),
            ("s-000001", "s/2025-03-01/a.csv", AT),
            ("s-000001", "s/2025-03-02/b.csv", AT),
            ("s-000002", "/home/user/export.csv", datetime(2025, 3, 5, 23, 0)),  # an import: no delivery folder
            ("s-000002", "/home/user/export.csv", datetime(2025, 3, 5, 23, 0)),
        ],
        "_batch_id string, _source_file string, _ingested_at timestamp",
    )
    bad = ("BAD_TYPE", "qty", "qty=x is not a valid int")
    checked = spark.createDataFrame(
        [("s-000001", None), ("s-000001", None), ("s-000001", bad), ("s-000002", None), ("s-000002", None)],
        f"_batch_id string, _violation {VIOLATION}",
    )
    classified = spark.createDataFrame(
        [("s-000001", "loaded"), ("s-000001", "duplicate"), ("s-000002", "loaded"), ("s-000002", "superseded")],
        "_batch_id string, _outcome string",
    )
    schema = (
        "source string, batch_id string, bronze_rows long, loaded long, superseded long, duplicate long, "
        "quarantined long, delivery_date date"
    )
    expected = spark.createDataFrame(
        [("s", "s-000001", 3, 1, 0, 1, 1, date(2025, 3, 2)), ("s", "s-000002", 2, 1, 1, 0, 0, date(2025, 3, 5))],
        schema,
    )
    got = audit_counts("s", bronze=bronze, checked=checked, classified=classified)
    assertDataFrameEqual(got, expected)
    assert unbalanced(got).count() == 0
    # no classified rows (every row of the batch quarantined): the outcomes are zero, not null
    imported = bronze.where("_batch_id = 's-000002'")
    all_bad = imported.select("_batch_id", F.struct(*[F.lit(v) for v in bad]).cast(VIOLATION).alias("_violation"))
    assertDataFrameEqual(
        audit_counts("s", bronze=imported, checked=all_bad, classified=None),
        spark.createDataFrame([("s", "s-000002", 2, 0, 0, 0, 2, date(2025, 3, 5))], schema),
    )


def test_unbalanced_lists_batches_whose_outcomes_do_not_add_up(spark) -> None:
    audit = spark.createDataFrame(
        [("s", "ok", 5, 3, 1, 0, 1), ("s", "lost", 5, 3, 1, 0, 0), ("s", "extra", 2, 2, 0, 1, 0)],
        "source string, batch_id string, bronze_rows long, loaded long, superseded long, duplicate long, "
        "quarantined long",
    )
    assertDataFrameEqual(unbalanced(audit), audit.where("batch_id != 'ok'"))
