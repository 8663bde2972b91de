from __future__ import annotations

import hashlib
import hmac

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.silver.pii import hmac_token, keyed, normalize_email, normalize_phone, pii_vault_rows, tokenize

KEY = b"test-key"


def test_phone_and_email_normalisation(spark) -> None:
    df = spark.createDataFrame(
        [("(415) 555-0123", " Ann@Example.COM "), ("+1 415 555 0123", None), ("415.555.0123", ""), ("", "x@y.z")],
        "phone string, email string",
    )
    got = df.select(
        normalize_phone(F.col("phone"), country_code="1", national_digits=10).alias("p"),
        normalize_email(F.col("email")).alias("e"),
    )
    expected = spark.createDataFrame(
        [("14155550123", "ann@example.com"), ("14155550123", None), ("14155550123", None), (None, "x@y.z")],
        "p string, e string",
    )
    assertDataFrameEqual(got, expected)


def test_token_is_real_hmac_sha256(spark) -> None:
    got = (
        keyed(spark.createDataFrame([("14155550123",), (None,)], "v string"), KEY)
        .select(hmac_token(F.col("v"), kind="phone").alias("t"))
        .collect()
    )
    want = hmac.new(KEY, b"phone:14155550123", hashlib.sha256).hexdigest()
    assert [r.t for r in got] == [want, None]


def test_tokenize_drops_raw_and_vault_keeps_it(spark) -> None:
    df = spark.createDataFrame([("a", "Ann@x.com"), ("b", "ann@x.com ")], "id string, email string")
    out = tokenize(df, pii={"email": "email"}, key=KEY, country_code="1", national_digits=10)
    assert out.columns == ["id", "email_token"]
    assert out.select("email_token").distinct().count() == 1
    vault = pii_vault_rows(df, pii={"email": "email"}, key=KEY, country_code="1", national_digits=10)
    token = hmac.new(KEY, b"email:ann@x.com", hashlib.sha256).hexdigest()
    assertDataFrameEqual(
        vault, spark.createDataFrame([(token, "email", "ann@x.com")], "token string, pii_type string, value string")
    )


def test_the_key_is_not_in_the_plan(spark) -> None:
    """The key (and its HMAC pads) reach the executors as data of a broadcast row, never as plan literals that
    EXPLAIN, the Spark UI or event logs print."""
    key = b"0123456789abcdef-secret-key-material"
    df = spark.createDataFrame([("a", "ann@x.com")], "id string, email string")
    out = tokenize(df, pii={"email": "email"}, key=key, country_code="1", national_digits=10)
    vault = pii_vault_rows(df, pii={"email": "email"}, key=key, country_code="1", national_digits=10)
    pads = [bytes(k ^ pad for k in key.ljust(64, b"\0")) for pad in (0x36, 0x5C)]
    for frame in (out, vault):
        plans = frame._jdf.queryExecution().toString()  # parsed, analyzed, optimized and physical plans
        assert key.hex() not in plans.lower() and key.decode() not in plans
        assert not any(p.hex() in plans.lower() for p in pads)
    token = hmac.new(key, b"email:ann@x.com", hashlib.sha256).hexdigest()
    assert [r.email_token for r in out.collect()] == [token]
