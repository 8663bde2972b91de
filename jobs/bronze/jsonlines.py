"""JSON Lines files read one line per record, for landing ingest (issue 11, hostile input).

Spark's JSON reader infers one schema from every line of a batch, so a single odd line stops the whole read, and
with it this ingest and every later one: an object with a key twice (COLUMN_ALREADY_EXISTS), two spellings of a key
that differ only in case, a key Delta refuses as a column name. Here the files are read as text; the batch's
columns are the union of the keys its objects use, each a string, as delivered; and a line that is not one JSON
object whose keys are all distinct columns, or that holds bytes that are not UTF-8, keeps its
text in `_corrupt_record` and is quarantined as MALFORMED by the contract step. Blank lines are no records.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from jobs.bronze.csvlines import CORRUPT, DELTA_INVALID, META_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

ODD_LINE = "the line does not parse, or a key is no valid column name or differs from its column but for case"
RESERVED = frozenset(n.lower() for n in META_COLUMNS)  # a key spelled like one of bronze's is no column of the source


def column_names(keys: Mapping[str, int], preferred: Collection[str] = ()) -> list[str]:
    """The columns for these object keys (key -> number of lines using it), sorted (as Spark's inference orders
    them): a key Delta refuses as a column name, or spelled like one of bronze's columns, is none; of keys equal but
    for case, the `preferred` spelling (the contract's), else the one most lines use (a tie: the first in order)."""
    names: dict[str, str] = {}
    for key in sorted(keys, key=lambda k: (k not in preferred, -keys[k], k)):
        if key.strip() and key.lower() not in RESERVED and not any(ch in DELTA_INVALID for ch in key):
            names.setdefault(key.lower(), key)
    return sorted(names.values())


def malformed(value: Column, names: list[str]) -> Column:
    """True for a line that is not one JSON object whose keys are distinct (ignoring case), all in `names`, or that
    is not valid UTF-8 (the text reader keeps the bytes as they are)."""
    from pyspark.sql import functions as F

    keys = F.json_object_keys(value)  # null: not a JSON object
    known = F.forall(keys, lambda k: k.isin(names)) if names else F.size(keys) == 0
    return ~F.is_valid_utf8(value) | keys.isNull() | _repeated(keys) | ~known


def _repeated(keys: Column) -> Column:
    """True when a key of the array appears twice, ignoring case."""
    from pyspark.sql import functions as F

    return F.size(F.array_distinct(F.transform(keys, F.lower))) < F.size(keys)


def malformed_reason(line: Column) -> Column:
    """Why a JSON line is malformed, for the quarantine's detail."""
    from pyspark.sql import functions as F

    keys = F.json_object_keys(line)
    return (
        F.when(~F.is_valid_utf8(line), F.lit("the line is not valid UTF-8"))
        .when(keys.isNull(), F.lit("the line is not one JSON object"))
        .when(_repeated(keys), F.lit("a key appears twice in the object (or twice but for case)"))
        .otherwise(F.lit(ODD_LINE))
    )


def read_json_lines(spark: SparkSession, paths: list[str], *, preferred: Collection[str] = ()) -> DataFrame:
    """Files of JSON objects, one per line -> one row per non-blank line: a string column per key of the batch,
    `_corrupt_record` (the line, when malformed) and `_path` (the file's path). One Spark job counts the keys.
    `preferred`: the spellings that win over others equal but for case (column_names)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    lines = (
        spark.read.text(paths).select("value", F.col("_metadata.file_path").alias("_path")).where(F.trim("value") != "")
    )
    counted = lines.select(F.explode(F.json_object_keys("value")).alias("k")).groupBy("k").count()
    names = column_names({r["k"]: r["count"] for r in counted.collect()}, preferred)
    schema = StructType([*(StructField(n, StringType()) for n in names), StructField(CORRUPT, StringType())])
    parsed = F.from_json("value", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT})
    bad = parsed[CORRUPT].isNotNull() | malformed(F.col("value"), names)
    return lines.select(
        *[F.when(~bad, parsed[n]).alias(n) for n in names],
        F.when(bad, F.col("value")).alias(CORRUPT),
        "_path",
    )
