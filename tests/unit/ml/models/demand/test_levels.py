"""Category / store / total levels: additive means, ordered quantiles that are quantiles of the aggregate."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from ml.models.demand.levels import _quantile_knots, aggregate_levels, sample_series
from ml.models.demand.model import nb_quantiles

DAY = date(2024, 6, 1)


def _forecast(n_stores: int = 5, n_skus: int = 8, days: int = 3, dispersion: float = 0.2, seed: int = 1):
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame(
        [
            (f"S{s}", f"K{k}", DAY + timedelta(days=d))
            for s in range(n_stores)
            for k in range(n_skus)
            for d in range(days)
        ],
        columns=["store_id", "sku", "date"],
    )
    rows["mean"] = rng.lognormal(1.0, 0.8, len(rows))
    return rows.assign(**nb_quantiles(rows["mean"].to_numpy(), dispersion))


CATALOG = pd.DataFrame({"sku": [f"K{k}" for k in range(8)], "category": ["a", "a", "a", "b", "b", "c", "c", "c"]})


@pytest.fixture(scope="module")
def levels() -> pd.DataFrame:
    return aggregate_levels(_forecast(), catalog=CATALOG, n_samples=2000, seed=3)


def test_shape_and_keys(levels):
    assert list(levels.columns) == ["level", "key", "date", "mean", "p10", "p50", "p90"]
    assert levels.groupby("level")["key"].nunique().to_dict() == {"category": 3, "store": 5, "total": 1}
    assert len(levels) == 3 * (1 + 3 + 5)


def test_means_add_up_across_levels(levels):
    fc = _forecast()
    total = levels[levels["level"] == "total"].set_index("date")["mean"]
    pd.testing.assert_series_equal(total, fc.groupby("date")["mean"].sum(), check_names=False)
    for level in ("category", "store"):
        by_day = levels[levels["level"] == level].groupby("date")["mean"].sum()
        pd.testing.assert_series_equal(by_day, total, check_names=False)


def test_quantiles_ordered_and_not_sums_of_quantiles(levels):
    assert (levels["p10"] <= levels["p50"]).all() and (levels["p50"] <= levels["p90"]).all()
    assert (levels["p10"] >= 0).all()
    fc = _forecast()
    width_sum = (fc["p90"] - fc["p10"]).groupby(fc["date"]).sum()
    total = levels[levels["level"] == "total"].set_index("date")
    assert ((total["p90"] - total["p10"]) < 0.5 * width_sum).all()
    assert ((total["p10"] < total["mean"]) & (total["mean"] < total["p90"])).all()


def test_total_of_independent_poisson_series_matches_the_exact_law():
    """Poisson series (dispersion -> 0) sum to Poisson(sum of means): compare the sampled total's quantiles."""
    means = np.full(60, 2.0)
    fc = pd.DataFrame(
        {
            "store_id": [f"S{i % 3}" for i in range(60)],
            "sku": [f"K{i}" for i in range(60)],
            "date": DAY,
            "mean": means,
            **nb_quantiles(means, 1e-6),
        }
    )
    catalog = pd.DataFrame({"sku": fc["sku"], "category": "x"})
    total = aggregate_levels(fc, catalog=catalog, n_samples=4000, seed=5).query("level == 'total'").iloc[0]
    exact = poisson(means.sum())
    assert total["mean"] == pytest.approx(120.0)
    for q, col in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
        assert total[col] == pytest.approx(exact.ppf(q), abs=3.0), (col, total[col], exact.ppf(q))


def test_series_draws_honour_their_quantiles_and_mean():
    mean, p10, p50, p90 = (np.array([v]) for v in (3.4, 1.0, 3.0, 6.0))
    draws = sample_series(_quantile_knots(mean, p10, p50, p90), 200_000, np.random.default_rng(0))[0]
    assert np.quantile(draws, [0.1, 0.5, 0.9]) == pytest.approx([1.0, 3.0, 6.0], abs=0.05)
    assert draws.mean() == pytest.approx(3.4, abs=0.02)


def test_deterministic_for_a_seed():
    a = aggregate_levels(_forecast(), catalog=CATALOG, n_samples=200, seed=9)
    b = aggregate_levels(_forecast(), catalog=CATALOG, n_samples=200, seed=9)
    pd.testing.assert_frame_equal(a, b)
