"""Deduplication by business key: "latest" is decided by the source's own version column, never by
ingestion time. Every candidate row gets an outcome for the lineage audit."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

LOADED, SUPERSEDED, DUPLICATE = "loaded", "superseded", "duplicate"


def classify_rows(rows: DataFrame, *, existing: DataFrame, keys: Sequence[str]) -> DataFrame:
    """Add `_outcome`: `loaded` (the newest row of its key and newer than the table's), `duplicate` (same
    version as the winner or as the table), or `superseded` (an older version than either).

    `rows` carry `_version`, `_batch_no`, `_row_id`; `existing` is the target table (keys + `_version`).
    """
    by_key = Window.partitionBy(*keys)
    ranked = rows.withColumn(
        "_rank", F.row_number().over(by_key.orderBy(F.col("_version").desc(), "_batch_no", "_row_id"))
    ).withColumn("_top_version", F.max("_version").over(by_key))
    # only the keys of `rows`: a day's rows look up a few keys of a table holding years, and the semi join (its small
    # side broadcast) filters the table where it is scanned instead of shuffling all of it into the left join
    batch_keys = rows.select(*keys).distinct()
    current = existing.join(batch_keys, on=list(keys), how="left_semi")
    current = current.select(*keys, F.col("_version").alias("_current_version"))
    joined = ranked.join(current, on=list(keys), how="left")
    outcome = (
        F.when((F.col("_rank") > 1) & (F.col("_version") == F.col("_top_version")), F.lit(DUPLICATE))
        .when(F.col("_rank") > 1, F.lit(SUPERSEDED))
        .when(F.col("_current_version").isNull() | (F.col("_version") > F.col("_current_version")), F.lit(LOADED))
        .when(F.col("_version") == F.col("_current_version"), F.lit(DUPLICATE))
        .otherwise(F.lit(SUPERSEDED))
    )
    return joined.withColumn("_outcome", outcome).drop("_rank", "_top_version", "_current_version")
