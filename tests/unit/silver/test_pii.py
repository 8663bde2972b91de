from __future__ import annotations

import hashlib
import hmac

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.silver.pii import hmac_token, normalize_email, normalize_phone, pii_vault_rows, tokenize

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
        spark.createDataFrame([("14155550123",), (None,)], "v string")
        .select(hmac_token(F.col("v"), key=KEY, kind="phone").alias("t"))
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
