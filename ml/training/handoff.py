"""The one Spark -> pandas hand-off every model uses: counted, capped and, above the cap, hash-sampled by key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from jobs.common.config.ml import HandOff
from jobs.common.log import event

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

_BUCKETS = 1_000_000


@dataclass(frozen=True)
class Bounded:
    """A pandas frame from Spark, with how many rows there were and whether it was sampled."""

    frame: pd.DataFrame
    source_rows: int
    sampled: bool

    def describe(self) -> dict[str, int | bool]:
        return {"rows": len(self.frame), "source_rows": self.source_rows, "sampled": self.sampled}


def sample_keys(df: DataFrame, *, key: Sequence[str], limits: HandOff, rows: int) -> DataFrame:
    """`df` when its `rows` fit `limits.max_rows`; else the rows of whole keys kept by a seeded hash of `key`,
    aimed at 95% of the cap (the same keys on every run and for every frame that shares the key)."""
    if rows <= limits.max_rows:
        return df
    keep = int(_BUCKETS * min(1.0, 0.95 * limits.max_rows / rows))
    bucket = F.pmod(F.xxhash64(F.lit(limits.seed), *[F.col(k) for k in key]), F.lit(_BUCKETS))
    return df.where(bucket < keep)


def canonical_order(frame: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """`frame` sorted by `key`, then by every other column of scalar values, with a fresh index. toPandas returns
    rows in the order of the partitions, which the number of executors and partitions changes; a fit that sees rows
    in another order (bagging draws, an optimizer's sums) gives another model. Sorted, the same data gives the same
    model in local mode and on any cluster."""
    columns = [*key, *(c for c in frame.columns if c not in key and _scalar(frame[c]))]
    return frame.sort_values(columns, kind="stable", na_position="last").reset_index(drop=True)


def _scalar(column: pd.Series) -> bool:
    """False for a column of arrays, lists or mappings (not orderable)."""
    if column.dtype != object:
        return True
    values = column.dropna()
    return values.empty or not isinstance(values.iloc[0], list | tuple | dict) and not hasattr(values.iloc[0], "shape")


def to_pandas_bounded(df: DataFrame, *, key: Sequence[str], limits: HandOff, what: str) -> Bounded:
    """`df` as pandas with at most `limits.max_rows` rows.

    Above the cap, whole keys (e.g. customers) are kept by a seeded hash of `key` (sample_keys), so the sample is
    the same on every run and for every frame that shares the key. The hash aims at 95% of the cap, so the final
    cap (a limit, which may cut a key) rarely applies.
    """
    df = df.persist()
    try:
        rows = df.count()
        sampled = rows > limits.max_rows
        df_out = sample_keys(df, key=key, limits=limits, rows=rows).limit(limits.max_rows) if sampled else df
        frame = canonical_order(df_out.toPandas(), key)
    finally:
        df.unpersist()
    event("ml.handoff", what=what, rows=len(frame), source_rows=rows, sampled=sampled)
    return Bounded(frame=frame, source_rows=rows, sampled=sampled)
