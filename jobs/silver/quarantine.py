"""Quarantine rows (PII masked) and the per-batch lineage audit. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.silver.contracts import VIOLATION, Contract
from jobs.silver.dedup import DUPLICATE, LOADED, SUPERSEDED
from jobs.silver.pii import hmac_token, keyed, normalize

AUDIT_COLUMNS = (
    "source",
    "batch_id",
    "bronze_rows",
    "loaded",
    "superseded",
    "duplicate",
    "quarantined",
    "delivery_date",
)
# `<source>/<YYYY-MM-DD>/<file>`: the delivery folder's date of a landing-relative path
DELIVERY_DATE = r"/(\d{4}-\d{2}-\d{2})/[^/]+$"


# Values that look like PII wherever they are (a shifted row, a renamed or unknown column, a violation's detail).
EMAIL = r"(?i)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
EMAIL_MASK, PHONE_MASK = "<email>", "<phone>"


def phone_pattern(*, country_code: str, national_digits: int) -> str:
    """A phone number inside any text: 7-15 digits with a leading '+' or with separators (spaces, dashes, dots,
    parentheses), or bare digits as many as a national number (optionally after the country code). Not dates, amounts
    with decimals, ids that merely end in digits, or other bare numbers (epoch milliseconds, order ids, counts)."""
    return (
        r"(?<![\w.+-])"  # not the tail of an id, a number or a word
        r"(?!\d{4}-\d\d-\d\d)"  # not an ISO date or timestamp
        r"(?!\d\d?\.\d\d?\.\d{4}(?!\d))"  # not dd.MM.yyyy
        r"(?!\d+\.\d\d?(?![\d\s().-]))"  # not an amount with decimals
        r"(?:\+\s?\d(?:[\s().-]{0,2}\d){6,14}"  # +<country code> and 7-15 digits in all
        r"|(?=\(?\d[\d\s().-]*[\s().-]\d)\(?\d(?:[\s().-]{0,2}\d){6,14}"  # 7-15 digits with separators
        rf"|(?:{re.escape(country_code)})?\d{{{national_digits}}})"  # a bare national number
        r"(?!\w)"
    )


def mask_text(text: Column, *, country_code: str, national_digits: int) -> Column:
    """`text` with every email and phone number in it replaced by <email> / <phone>."""
    phone = phone_pattern(country_code=country_code, national_digits=national_digits)
    return F.regexp_replace(F.regexp_replace(text, EMAIL, EMAIL_MASK), phone, PHONE_MASK)


def _name_words(name: Column) -> Column:
    """A column name as lower-case words joined by '_': 'E-Mail' -> 'e_mail', 'customerPhone' -> 'customer_phone'."""
    snake = F.regexp_replace(name, "([a-z0-9])([A-Z])", "$1_$2")
    return F.lower(F.regexp_replace(snake, "[^A-Za-z0-9]+", "_"))


def _words_pattern(words: Sequence[str]) -> str:
    norm = sorted({re.sub(r"[^a-z0-9]+", "_", w.lower()).strip("_") for w in words} - {""})
    return f"(^|_)({'|'.join(map(re.escape, norm))})(_|$)"


def _masked_record(
    contract: Contract,
    *,
    country_code: str,
    national_digits: int,
    name_words: Mapping[str, Sequence[str]],
) -> Column:
    """The raw record as JSON with no raw PII, whatever the row's shape (issue 11, defect 7): a contract PII
    column's value -> its vault token; a column the contract does not know (new, or renamed: 'Email') whose name has
    a PII word of `name_words` (kind -> words, conf `ingest.pii_name_words`) -> the token of that kind; any other
    value with its emails and phone numbers masked (<email>, <phone>). A line that does not parse (its values may
    be shifted anywhere) is kept only as the hash of the line. The raw row stays in bronze (restricted), found by
    batch_id and row_id (or the file's line_no)."""
    norm = {"country_code": country_code, "national_digits": national_digits}

    def token(v: Column, kind: str) -> Column:
        return F.concat(F.lit("token:"), hmac_token(normalize(v, kind, **norm), kind=kind))

    def mask(k: Column, v: Column) -> Column:
        out = F.when(k == "_corrupt_record", F.concat(F.lit("sha256:"), F.sha2(v, 256)))
        for column, kind in contract.pii.items():
            out = out.when(k == column, token(v, kind))
        unknown = ~k.isin(*contract.column_names)
        for kind, words in name_words.items():
            if words:
                out = out.when(unknown & _name_words(k).rlike(_words_pattern(words)), token(v, kind))
        return out.otherwise(mask_text(v, **norm))

    line = F.try_element_at(F.col("_raw_record"), F.lit("_corrupt_record"))
    return F.when(
        line.isNotNull(),
        F.to_json(F.create_map(F.lit("_corrupt_record"), F.concat(F.lit("sha256:"), F.sha2(line, 256)))),
    ).otherwise(F.to_json(F.transform_values(F.col("_raw_record"), mask)))


def quarantine_rows(
    checked: DataFrame,
    *,
    contract: Contract,
    key: bytes,
    country_code: str,
    national_digits: int,
    name_words: Mapping[str, Sequence[str]] = MappingProxyType({}),
) -> DataFrame:
    """Rows of `checked` (apply_contract output) that broke the contract, ready for silver.quarantine: the reason,
    its detail with emails and phones masked, the masked record, and the row's line in its file (CSV; else null)."""
    record = _masked_record(contract, country_code=country_code, national_digits=national_digits, name_words=name_words)
    line_no = F.col("_line_no") if "_line_no" in checked.columns else F.lit(None).cast("long")
    return (
        keyed(checked.where(F.col(VIOLATION).isNotNull()), key)
        .select(
            F.lit(contract.source).alias("source"),
            "_batch_id",
            F.col("_source_file").alias("source_file"),
            F.col("_row_id").alias("row_id"),
            F.col(f"{VIOLATION}.code").alias("reason_code"),
            F.col(f"{VIOLATION}.column").alias("column"),
            mask_text(F.col(f"{VIOLATION}.detail"), country_code=country_code, national_digits=national_digits).alias(
                "detail"
            ),
            record.alias("record"),
            F.col("_ingested_at").alias("quarantined_at"),
            line_no.alias("line_no"),
        )
        .withColumnRenamed("_batch_id", "batch_id")
    )


def audit_counts(
    source: str,
    *,
    bronze: DataFrame,
    checked: DataFrame,
    classified: DataFrame | None,
    batches: Sequence[str] = (),
) -> DataFrame:
    """Per batch: bronze rows and their outcomes (they add up to bronze_rows), and the batch's delivery date: its
    latest delivery folder (an imported file, which has none: the day it was ingested, UTC). Every batch id in
    `batches` gets a row, so a batch of header-only files (no bronze rows) is audited with zeros and not left pending
    forever (issue 11, defect 5); its delivery date is null."""
    folder = F.to_date(F.nullif(F.regexp_extract("_source_file", DELIVERY_DATE, 1), F.lit("")))
    totals = bronze.groupBy(F.col("_batch_id").alias("batch_id")).agg(
        F.count(F.lit(1)).alias("bronze_rows"),
        F.coalesce(F.max(folder), F.to_date(F.max("_ingested_at"))).alias("delivery_date"),
    )
    if batches:
        expected = bronze.sparkSession.createDataFrame([(b,) for b in batches], "batch_id string")
        totals = expected.join(totals, on="batch_id", how="left").withColumn(
            "bronze_rows", F.coalesce("bronze_rows", F.lit(0)).cast("long")
        )
    quarantined = (
        checked.where(F.col(VIOLATION).isNotNull())
        .groupBy(F.col("_batch_id").alias("batch_id"))
        .agg(F.count(F.lit(1)).alias("quarantined"))
    )
    out = totals.join(quarantined, on="batch_id", how="left")
    if classified is not None:
        outcomes = classified.groupBy(F.col("_batch_id").alias("batch_id")).agg(
            *[F.sum((F.col("_outcome") == o).cast("long")).alias(o) for o in (LOADED, SUPERSEDED, DUPLICATE)]
        )
        out = out.join(outcomes, on="batch_id", how="left")
    for name in ("quarantined", LOADED, SUPERSEDED, DUPLICATE):  # (not delivery_date: from totals)
        out = out.withColumn(
            name, F.coalesce(F.col(name) if name in out.columns else F.lit(None), F.lit(0)).cast("long")
        )
    return out.select(F.lit(source).alias("source"), *AUDIT_COLUMNS[1:])


def unbalanced(audit: DataFrame) -> DataFrame:
    """Audit rows whose outcomes do not add up (must be empty)."""
    total = F.col("loaded") + F.col("superseded") + F.col("duplicate") + F.col("quarantined")
    return audit.where(total != F.col("bronze_rows"))
