from __future__ import annotations

from pyspark.testing import assertDataFrameEqual

from jobs.silver.dedup import classify_rows

ROWS = "k string, v string, _version long, _batch_no int, _row_id long"


def test_latest_version_wins_and_every_row_has_an_outcome(spark) -> None:
    rows = spark.createDataFrame(
        [
            ("a", "old", 1, 2, 0),
            ("a", "new", 3, 2, 1),
            ("a", "new-again", 3, 2, 2),  # update + exact dup
            ("b", "late-old", 1, 2, 3),  # table already has version 2
            ("c", "same", 5, 2, 4),  # table already has version 5 (re-delivered)
            ("d", "fresh", 1, 2, 5),
        ],
        ROWS,
    )
    existing = spark.createDataFrame([("b", 2), ("c", 5)], "k string, _version long")
    got = classify_rows(rows, existing=existing, keys=["k"]).select("k", "v", "_outcome")
    expected = spark.createDataFrame(
        [
            ("a", "old", "superseded"),
            ("a", "new", "loaded"),
            ("a", "new-again", "duplicate"),
            ("b", "late-old", "superseded"),
            ("c", "same", "duplicate"),
            ("d", "fresh", "loaded"),
        ],
        "k string, v string, _outcome string",
    )
    assertDataFrameEqual(got, expected)
