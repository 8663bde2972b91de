"""PII normalisation and tokenization (HMAC-SHA256 with Spark built-ins, no Python UDF)."""

from __future__ import annotations

import hashlib

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

PII_KINDS = ("phone", "email", "name", "address", "birth_date")
_BLOCK = 64
PAD_COLUMNS = ("_pii_ipad", "_pii_opad")  # the key's HMAC pads, as columns of a `keyed` frame


def normalize_phone(col: Column, *, country_code: str, national_digits: int) -> Column:
    """Digits only, in international form without '+': '(415) 555-0123' -> '14155550123'."""
    digits = F.regexp_replace(col, r"[^0-9]", "")
    return F.when(F.length(digits) == national_digits, F.concat(F.lit(country_code), digits)).when(
        F.length(digits) > 0, digits
    )


def normalize_email(col: Column) -> Column:
    return F.when(F.trim(col) != "", F.lower(F.trim(col)))


def normalize_text(col: Column) -> Column:
    """Names and addresses: trimmed, inner white space folded."""
    return F.when(F.trim(col) != "", F.regexp_replace(F.trim(col), r"\s+", " "))


def normalize(col: Column, kind: str, *, country_code: str, national_digits: int) -> Column:
    if kind == "phone":
        return normalize_phone(col, country_code=country_code, national_digits=national_digits)
    if kind == "email":
        return normalize_email(col)
    return normalize_text(col.cast("string"))


def _pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer key pads (RFC 2104) for SHA-256."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(k ^ 0x36 for k in key), bytes(k ^ 0x5C for k in key)


def keyed(df: DataFrame, key: bytes) -> DataFrame:
    """`df` with the key's HMAC pads as two columns (PAD_COLUMNS) from a one-row broadcast frame, for hmac_token:
    the key reaches the executors as data, never as a literal of the plan (EXPLAIN, the Spark UI, event logs)."""
    ipad, opad = _pads(key)
    pads = df.sparkSession.createDataFrame([(ipad, opad)], f"{PAD_COLUMNS[0]} binary, {PAD_COLUMNS[1]} binary")
    return df.crossJoin(F.broadcast(pads))


def hmac_token(value: Column, *, kind: str) -> Column:
    """HMAC-SHA256(key, '<kind>:<value>') as hex over a `keyed` frame; null stays null. Same result as Python's
    hmac module."""
    message = F.encode(F.concat(F.lit(f"{kind}:"), value), "UTF-8")
    inner = F.unhex(F.sha2(F.concat(F.col(PAD_COLUMNS[0]), message), 256))
    return F.when(value.isNotNull(), F.sha2(F.concat(F.col(PAD_COLUMNS[1]), inner), 256))


def tokenize(df: DataFrame, *, pii: dict[str, str], key: bytes, country_code: str, national_digits: int) -> DataFrame:
    """Replace every PII column `c` by `c_token` (keyed hash of its normalised value)."""
    out = keyed(df, key)
    for column, kind in pii.items():
        norm = normalize(F.col(column), kind, country_code=country_code, national_digits=national_digits)
        out = out.withColumn(f"{column}_token", hmac_token(norm, kind=kind)).drop(column)
    return out.drop(*PAD_COLUMNS)


def pii_vault_rows(
    df: DataFrame, *, pii: dict[str, str], key: bytes, country_code: str, national_digits: int
) -> DataFrame:
    """(token, pii_type, value) for every non-null PII value in `df`, distinct: rows for restricted.pii."""
    parts = []
    df = keyed(df, key)
    for column, kind in pii.items():
        norm = normalize(F.col(column), kind, country_code=country_code, national_digits=national_digits)
        parts.append(
            df.select(
                hmac_token(norm, kind=kind).alias("token"),
                F.lit(kind).alias("pii_type"),
                norm.cast("string").alias("value"),
            )
        )
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.where(F.col("token").isNotNull()).dropDuplicates(["token"])
