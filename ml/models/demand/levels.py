"""Category / store / total forecasts whose means add up and whose quantiles are quantiles of the aggregate.

Summing P90s would claim every series is at its own P90 on the same day. Instead each series-day gets
`n_samples` scenarios drawn from a distribution that has exactly its P10 / P50 / P90 (a piecewise-linear
quantile function through them, the upper tail sized so its mean equals the series' mean where possible), the
scenarios are summed per level key and day, and P10 / P50 / P90 are read off the summed scenarios. Series are
drawn independently (conditional on the model, the residuals of different series are treated as independent),
so the aggregate band is narrower than the sum of bands. `mean` is the exact sum of the series means; the
scenario totals are shifted onto it so the band is centred on the same number.

Memory: a day's series are cut into chunks of about `series_per_chunk` series (whole stores, big stores split by a
hash of the SKU, chunks grouped by a hash of store and split), one applyInPandas group per (day, chunk). A group
draws at most `series_per_chunk` x `n_samples` scenarios at a time (about 70 bytes each while drawing) and returns
per level key of the chunk the partial sums: the means and an array of `n_samples` scenario totals. Spark adds the
arrays up per (level, key, day) (posexplode + sum) and reads the quantiles there (`percentile`, `n_samples` values
per group). No Python worker ever holds more than a chunk, whatever the number of series. Keeping a store in one
chunk keeps the partial sums few: a chunk has one row per store in it, not one per store of the day.
Each chunk draws from its own generator seeded by (seed, day, chunk): a fixed input and config give the same
result on every run; another chunk size gives the same distribution (another draw of it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from scipy import sparse

LEVEL_COLUMNS = ("level", "key", "date", "mean", "p10", "p50", "p90")
LEVEL_KEYS = {"total": None, "category": "category", "store": "store_id"}
SERIES_COLUMNS = ("store_id", "sku", "category", "date", "mean", "p10", "p50", "p90")
PARTS_DDL = "level string, key string, date date, mean double, draws array<double>"
QUANTILES = (0.1, 0.5, 0.9)
_KNOTS = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
_WIDTHS = np.diff(_KNOTS)


def _quantile_knots(mean: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> np.ndarray:
    """(rows, 5) values of the quantile function at u = 0, .1, .5, .9, 1 (non-decreasing, >= 0)."""
    p10, p50, p90 = np.maximum(p10, 0.0), np.maximum(p50, p10), np.maximum(p90, np.maximum(p50, p10))
    q0 = np.maximum(p10 - (p50 - p10), 0.0)
    body = 0.05 * (q0 + p10) + 0.2 * (p10 + p50) + 0.2 * (p50 + p90) + 0.05 * p90  # mean without the top term
    q1 = np.maximum((mean - body) / 0.05, p90)
    return np.column_stack([q0, p10, p50, p90, q1])


def sample_series(knots: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """(rows, n_samples) independent draws through each row's piecewise-linear quantile function."""
    u = rng.random((knots.shape[0], n_samples))
    seg = np.zeros(u.shape, dtype=np.int8)  # segment of u: inner knots <= u (cheaper than searchsorted)
    for knot in _KNOTS[1:-1]:
        seg += u >= knot
    lo_v = np.take_along_axis(knots, seg, axis=1)
    hi_v = np.take_along_axis(knots, seg + 1, axis=1)
    return lo_v + (u - _KNOTS[seg]) / _WIDTHS[seg] * (hi_v - lo_v)


def chunk_sums(chunk: pd.DataFrame, *, n_samples: int, rng: np.random.Generator, block_rows: int) -> pd.DataFrame:
    """level, key, date, mean, draws: per level key of one day's chunk of series, the sum of their means and the
    `n_samples` sums of their scenarios (drawn `block_rows` series at a time, in store_id, sku order)."""
    rows = chunk.sort_values(["store_id", "sku"], ignore_index=True)
    knots = _quantile_knots(*(rows[c].to_numpy(dtype=float) for c in ("mean", "p10", "p50", "p90")))
    levels = {}
    for level, col in LEVEL_KEYS.items():
        keys = np.full(len(rows), "total", dtype=object) if col is None else rows[col].astype(str).to_numpy()
        codes, uniques = pd.factorize(keys, sort=True)
        levels[level] = (codes, uniques, np.zeros((len(uniques), n_samples)))
    for start in range(0, len(rows), block_rows):
        draws = sample_series(knots[start : start + block_rows], n_samples, rng)
        for codes, uniques, totals in levels.values():
            block = codes[start : start + len(draws)]
            onehot = sparse.csr_matrix(
                (np.ones(len(block)), (block, np.arange(len(block)))), shape=(len(uniques), len(block))
            )
            totals += onehot @ draws
    out = [
        pd.DataFrame(
            {
                "level": level,
                "key": uniques,
                "date": rows["date"].iloc[0],
                "mean": np.bincount(codes, weights=rows["mean"].to_numpy(dtype=float), minlength=len(uniques)),
                "draws": list(totals),
            }
        )
        for level, (codes, uniques, totals) in levels.items()
    ]
    return pd.concat(out, ignore_index=True)


def _chunked(series: DataFrame, *, size: int) -> DataFrame:
    """`series` plus `_chunk`: a (day, _chunk) holds about `size` series, whole stores where a store has fewer."""
    per_day = series.groupBy("date").agg(F.count(F.lit(1)).alias("_day_rows"))
    store_rows = F.count(F.lit(1)).over(Window.partitionBy("date", "store_id"))
    part = F.pmod(F.xxhash64("sku"), F.ceil(store_rows / F.lit(size)))
    return (
        series.withColumn("_part", part)
        .join(F.broadcast(per_day), on="date", how="inner")
        .withColumn("_chunk", F.pmod(F.xxhash64("store_id", "_part"), F.ceil(F.col("_day_rows") / F.lit(size))))
        .drop("_part", "_day_rows")
    )


def _combine(parts: DataFrame) -> DataFrame:
    """Sum the chunks' scenario arrays per (level, key, date), then the quantiles of the shifted totals."""
    draws = parts.select("level", "key", "date", "mean", F.posexplode("draws").alias("i", "draw"))
    totals = draws.groupBy("level", "key", "date", "i").agg(
        F.sum("draw").alias("total"),
        F.sum(F.when(F.col("i") == 0, F.col("mean"))).alias("mean"),  # each chunk's mean counted once
    )
    stats = totals.groupBy("level", "key", "date").agg(
        F.sum("mean").alias("mean"),
        F.avg("total").alias("avg"),
        F.percentile("total", list(QUANTILES)).alias("q"),
    )
    # Shifting every total by mean - avg shifts each (linearly interpolated) quantile by the same amount.
    band = [F.greatest(F.col("q")[i] + F.col("mean") - F.col("avg"), F.lit(0.0)) for i in range(len(QUANTILES))]
    return stats.select(
        "level", "key", "date", "mean", *(b.alias(c) for b, c in zip(band, ("p10", "p50", "p90"), strict=True))
    )


def aggregate_levels(forecast: DataFrame, *, n_samples: int, seed: int, series_per_chunk: int) -> DataFrame:
    """level (total | category | store), key, date, mean, p10, p50, p90 from a series forecast.

    forecast: store_id, sku, category (null: "unknown"), date, mean, p10, p50, p90, one row per series and day.
    A Python worker holds one chunk of about `series_per_chunk` series (module docstring); deterministic for a
    given input, seed and chunk size.
    """
    if n_samples < 10:
        raise ValueError("n_samples must be >= 10")
    if series_per_chunk < 1:
        raise ValueError("series_per_chunk must be >= 1")
    series = forecast.select(*SERIES_COLUMNS).fillna({"category": "unknown"})

    def per_chunk(chunk: pd.DataFrame) -> pd.DataFrame:
        day, number = pd.Timestamp(chunk["date"].iloc[0]).toordinal(), int(chunk["_chunk"].iloc[0])
        rng = np.random.default_rng([seed, day, number])
        return chunk_sums(chunk, n_samples=n_samples, rng=rng, block_rows=series_per_chunk)

    parts = series.transform(_chunked, size=series_per_chunk).groupBy("date", "_chunk")
    return _combine(parts.applyInPandas(per_chunk, schema=PARTS_DDL)).select(*LEVEL_COLUMNS)
