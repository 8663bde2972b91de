"""JSON Lines read one line per record: an odd line (a key twice, a key in two cases, a key Delta refuses, no object
at all, bytes that are not UTF-8) is one malformed record, and every other line of the batch loads."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.bronze.jsonlines import column_names, malformed_reason, read_json_lines


def test_column_names_drop_reserved_invalid_and_case_twins() -> None:
    keys = {"b": 1, "a": 1, "A": 1, "_batch_no": 5, "x y": 1, "": 1, "c": 1, "C": 3, "d": 1, "D": 3}
    assert column_names(keys, preferred=["d"]) == ["A", "C", "b", "d"]


def test_every_odd_line_is_one_malformed_record(spark, tmp_path: Path) -> None:
    good = '{"id": "1", "qty": 2, "tags": {"k": 1}}'
    lines = [
        good,
        "",  # blank: no record
        '{"id": "2", "qty": 3, "id": "zzz"}',  # a key twice: Spark's reader fails the whole batch on it
        '{"id": "3", "QTY": 4}',  # the same key but for case
        '{"id": "4", "bad key": 1}',  # Delta refuses the name
        "[1, 2]",  # no object
        '{"id": "5", "qty": ',  # cut short
        '{"id": "6", "qty": 7.5}',
    ]
    path = tmp_path / "a.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "7", "name": "Jos\xe9"}\n')
    got = read_json_lines(spark, [str(path)]).drop("_path")
    assert got.columns == ["id", "name", "qty", "tags", "_corrupt_record"]
    rows = got.select("id", "qty", "tags", "_corrupt_record")
    expected = spark.createDataFrame(
        [
            ("1", "2", '{"k":1}', None),
            (None, None, None, lines[2]),
            (None, None, None, lines[3]),
            (None, None, None, lines[4]),
            (None, None, None, lines[5]),
            (None, None, None, lines[6]),
            ("6", "7.5", None, None),
            (None, None, None, '{"id": "7", "name": "Jos\ufffd"}'),  # as the test reads it back
        ],
        "id string, qty string, tags string, _corrupt_record string",
    )
    assertDataFrameEqual(rows, expected)
    reasons = [
        r[0]
        for r in got.where(F.col("_corrupt_record").isNotNull())
        .select(malformed_reason(F.col("_corrupt_record")))
        .collect()
    ]
    assert sorted(reasons) == sorted(
        [
            "a key appears twice in the object (or twice but for case)",
            "the line does not parse, or a key is no valid column name or differs from its column but for case",
            "the line does not parse, or a key is no valid column name or differs from its column but for case",
            "the line is not one JSON object",
            "the line is not one JSON object",
            "the line is not valid UTF-8",
        ]
    )
