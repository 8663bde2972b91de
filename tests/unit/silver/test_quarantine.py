"""Quarantine rows (one reason each, PII masked in the kept record) and the per-batch lineage audit."""

from __future__ import annotations

import hashlib
import hmac
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
    "detail string, record string, quarantined_at timestamp"
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
             '{"id":"","qty":"1","phone":null}', AT),
            ("web_orders", b, f, 2, "BAD_TYPE", "qty", "qty=x is not a valid int",
             f'{{"id":"c","qty":"x","phone":"token:{t2}"}}', AT),
            ("web_orders", b, f, 3, "NULL_REQUIRED", "qty", "required column qty is empty",
             '{"id":"d","qty":null,"phone":null}', AT),
            ("web_orders", b, f, 4, "OUT_OF_RANGE", "qty", "qty=0 < 1",
             f'{{"id":"e","qty":"0","phone":"token:{t4}"}}', AT),
        ],
        QUARANTINE,
    )  # fmt: skip
    assertDataFrameEqual(got, expected)


def test_an_unparsable_line_is_kept_only_as_its_hash(spark) -> None:
    raw = spark.createDataFrame(
        [("a", "1", "555", "x,555-0101,,", "f.csv", "b", 1, 7, AT)],
        f"id string, qty string, phone string, _corrupt_record string, {META}",
    )
    got = quarantine_rows(
        apply_contract(raw, contract=CONTRACT), contract=CONTRACT, key=KEY, country_code="1", national_digits=10
    )
    digest = hashlib.sha256(b"x,555-0101,,").hexdigest()
    record = f'{{"id":"a","qty":"1","phone":"token:{token("phone", "555")}","_corrupt_record":"sha256:{digest}"}}'
    expected = spark.createDataFrame(
        [
            (
                "web_orders",
                "b",
                "f.csv",
                7,
                "MALFORMED",
                "_corrupt_record",
                "the line does not parse as a record of this source",
                record,
                AT,
            )
        ],
        QUARANTINE,
    )
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
