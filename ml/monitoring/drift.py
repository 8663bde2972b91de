"""Population stability in Spark: reference histograms, current histograms on the same edges, and the PSI.

Values are compared at DIGITS significant digits (a price stored as 0.79994 or 0.80001 of its normal is 0.8 on both
sides). A reference histogram holds a column's edges (its deciles by default, each moved halfway up to the next
distinct value, so a point mass such as "no zero days" or "at the normal price" never straddles an edge), the
share of its non-missing values in each bin and its missing share. Training logs one per registered version
(reference_profile.json, ml/training/train.py); monitoring bins the current frame on the same edges (one
aggregation for every column; only counts come back) and compares:
PSI = sum over bins of (current - reference) x ln(current / reference), shares floored at 1e-4.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

FLOOR = 1e-4  # share floor of the PSI: an empty bin counts as 0.01%
DIGITS = 3  # significant digits at which values are binned


@dataclass(frozen=True)
class Histogram:
    """Shares of the non-missing values per bin (len(edges) + 1 bins), the missing share, and the rows seen."""

    edges: tuple[float, ...]
    shares: tuple[float, ...]
    missing: float
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"edges": list(self.edges), "shares": list(self.shares), "missing": self.missing, "rows": self.rows}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Histogram:
        return cls(tuple(raw["edges"]), tuple(raw["shares"]), float(raw["missing"]), int(raw["rows"]))


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """Population stability index of two share vectors over the same bins (0 when either side has no values)."""
    ref, cur = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
    if ref.size != cur.size:
        raise ValueError(f"histograms over different bins: {ref.size} vs {cur.size}")
    if ref.sum() <= 0 or cur.sum() <= 0:
        return 0.0
    ref, cur = np.maximum(ref, FLOOR), np.maximum(cur, FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def rounded(column: str) -> Column:
    """The column as a double at DIGITS significant digits (null, NaN and infinities stay not finite)."""
    x = F.col(column).cast("double")
    scale = F.pow(F.lit(10.0), F.floor(F.log10(F.abs(x))) - F.lit(DIGITS - 1))
    return F.when(x == 0, F.lit(0.0)).otherwise(F.round(x / scale) * scale)


def finite_values(df: DataFrame, columns: Sequence[str]) -> DataFrame:
    """Column i of `columns` as `v<i>`: its rounded value, null where it is not finite (null, NaN, infinite)."""

    def value(column: str) -> Column:
        x = rounded(column)
        return F.when(x.isNotNull() & ~F.isnan(x) & (F.abs(x) != F.lit(float("inf"))), x)

    return df.select(*[value(c).alias(f"v{i}") for i, c in enumerate(columns)])


def quantile_edges_spark(df: DataFrame, columns: Sequence[str], *, bins: int) -> dict[str, tuple[float, ...]]:
    """Edges of each column's reference histogram (see the module docstring): the quantiles of its rounded values,
    each moved up halfway to the next distinct value, so that no value lies on an edge. Two aggregations, one row
    each comes back."""
    if not columns or bins < 2:
        return {c: () for c in columns}
    fractions = [i / bins for i in range(1, bins)]
    values = finite_values(df, columns)
    row = values.agg(
        *[F.percentile_approx(f"v{i}", fractions, 100_000).alias(f"q{i}") for i in range(len(columns))]
    ).first()
    quantiles = {i: sorted({float(q) for q in (row[f"q{i}"] or []) if q is not None}) for i in range(len(columns))}
    nxt = values.agg(
        F.lit(0).alias("_"),
        *[
            F.min(F.when(F.col(f"v{i}") > F.lit(q), F.col(f"v{i}"))).alias(f"n{i}_{j}")
            for i, qs in quantiles.items()
            for j, q in enumerate(qs)
        ],
    ).first()
    out = {}
    for i, c in enumerate(columns):
        above = [(q, nxt[f"n{i}_{j}"]) for j, q in enumerate(quantiles[i])]
        out[c] = tuple(sorted({(q + float(n)) / 2.0 for q, n in above if n is not None}))
    return out


def histograms_spark(df: DataFrame, edges: Mapping[str, Sequence[float]]) -> dict[str, Histogram]:
    """The histogram of every column of `edges` in `df` (rounded values) on its edges: one aggregation, only the
    counts come back."""
    names = list(edges)
    values = finite_values(df, names)
    binned = values.select(
        *[
            F.when(F.col(f"v{i}").isNull(), F.lit(-1))
            .otherwise(sum((F.when(F.col(f"v{i}") > F.lit(float(e)), 1).otherwise(0) for e in edges[c]), F.lit(0)))
            .alias(f"b{i}")
            for i, c in enumerate(names)
        ]
    )
    counts = [F.count(F.lit(1)).alias("rows")]
    for i, c in enumerate(names):
        counts.append(F.sum((F.col(f"b{i}") == -1).cast("long")).alias(f"m{i}"))
        counts += [F.sum((F.col(f"b{i}") == b).cast("long")).alias(f"c{i}_{b}") for b in range(len(edges[c]) + 1)]
    row = binned.agg(*counts).first()
    rows = int(row["rows"])
    out = {}
    for i, c in enumerate(names):
        missing = int(row[f"m{i}"] or 0)
        bins = [int(row[f"c{i}_{b}"] or 0) for b in range(len(edges[c]) + 1)]
        valid = sum(bins)
        shares = tuple(b / valid for b in bins) if valid else tuple(0.0 for _ in bins)
        out[c] = Histogram(tuple(float(e) for e in edges[c]), shares, missing / rows if rows else 0.0, rows)
    return out


def finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
