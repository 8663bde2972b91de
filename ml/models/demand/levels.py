"""Category / store / total forecasts whose means add up and whose quantiles are quantiles of the aggregate.

Summing P90s would claim every series is at its own P90 on the same day. Instead each series-day gets
`n_samples` scenarios drawn from a distribution that has exactly its P10 / P50 / P90 (a piecewise-linear
quantile function through them, the upper tail sized so its mean equals the series' mean where possible), the
scenarios are summed per level key and day, and P10 / P50 / P90 are read off the summed scenarios. Series are
drawn independently (conditional on the model, the residuals of different series are treated as independent),
so the aggregate band is narrower than the sum of bands. `mean` is the exact sum of the series means; the
scenario totals are shifted onto it so the band is centred on the same number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

LEVEL_COLUMNS = ("level", "key", "date", "mean", "p10", "p50", "p90")
LEVEL_KEYS = {"total": None, "category": "category", "store": "store_id"}
_KNOTS = np.array([0.0, 0.1, 0.5, 0.9, 1.0])


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
    seg = np.clip(np.searchsorted(_KNOTS, u, side="right") - 1, 0, len(_KNOTS) - 2)
    lo_v = np.take_along_axis(knots, seg, axis=1)
    hi_v = np.take_along_axis(knots, seg + 1, axis=1)
    frac = (u - _KNOTS[seg]) / (_KNOTS[seg + 1] - _KNOTS[seg])
    return lo_v + frac * (hi_v - lo_v)


def _aggregate_day(day: pd.DataFrame, draws: np.ndarray) -> list[pd.DataFrame]:
    out = []
    for level, col in LEVEL_KEYS.items():
        keys = np.full(len(day), "total", dtype=object) if col is None else day[col].astype(str).to_numpy()
        codes, uniques = pd.factorize(keys, sort=True)
        onehot = sparse.csr_matrix((np.ones(len(day)), (codes, np.arange(len(day)))), shape=(len(uniques), len(day)))
        mean = onehot @ day["mean"].to_numpy(dtype=float)
        totals = onehot @ draws
        totals = totals + (mean - totals.mean(axis=1))[:, None]
        q = np.maximum(np.quantile(totals, [0.1, 0.5, 0.9], axis=1), 0.0)
        out.append(
            pd.DataFrame(
                {
                    "level": level,
                    "key": uniques,
                    "date": day["date"].iloc[0],
                    "mean": mean,
                    "p10": q[0],
                    "p50": q[1],
                    "p90": q[2],
                }
            )
        )
    return out


def aggregate_levels(
    forecast: pd.DataFrame, *, catalog: pd.DataFrame, n_samples: int = 1000, seed: int = 7
) -> pd.DataFrame:
    """level (total | category | store), key, date, mean, p10, p50, p90 from a series forecast.

    forecast: store_id, sku, date, mean, p10, p50, p90 (as from `forecast`); catalog: sku, category (SKUs
    missing from it fall in category "unknown"). Deterministic for a given seed and input.
    """
    if n_samples < 10:
        raise ValueError("n_samples must be >= 10")
    cats = catalog[["sku", "category"]].drop_duplicates("sku")
    rows = forecast.merge(cats, on="sku", how="left").fillna({"category": "unknown"})
    rows = rows.sort_values(["date", "store_id", "sku"], ignore_index=True)
    rng = np.random.default_rng(seed)
    parts: list[pd.DataFrame] = []
    for _, day in rows.groupby("date", sort=True):
        cols = [day[c].to_numpy(dtype=float) for c in ("mean", "p10", "p50", "p90")]
        parts += _aggregate_day(day, sample_series(_quantile_knots(*cols), n_samples, rng))
    if not parts:
        return pd.DataFrame(columns=list(LEVEL_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["level", "key", "date"], ignore_index=True)[list(LEVEL_COLUMNS)]
