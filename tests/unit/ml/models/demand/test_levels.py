"""Category / store / total levels: additive means, ordered quantiles that are quantiles of the aggregate,
the same law whatever the chunking."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual
from scipy.stats import norm, poisson

from ml.models.demand.levels import _chunked, _quantile_knots, aggregate_levels, chunk_sums, sample_series
from ml.models.demand.model import nb_quantiles

DAY = date(2024, 6, 1)
DDL = "store_id string, sku string, category string, date date, mean double, p10 double, p50 double, p90 double"
CATEGORIES = {f"K{k}": c for k, c in enumerate(["a", "a", "a", "b", "b", "c", "c", None])}  # K7: no category


def _forecast(n_stores: int = 5, n_skus: int = 8, days: int = 3, dispersion: float = 0.2, seed: int = 1):
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame(
        [
            (f"S{s}", f"K{k}", CATEGORIES[f"K{k}"], DAY + timedelta(days=d))
            for s in range(n_stores)
            for k in range(n_skus)
            for d in range(days)
        ],
        columns=["store_id", "sku", "category", "date"],
    )
    rows["mean"] = rng.lognormal(1.0, 0.8, len(rows))
    return rows.assign(**nb_quantiles(rows["mean"].to_numpy(), dispersion))


def _levels(spark, fc: pd.DataFrame, *, n_samples: int, seed: int = 3, chunk: int = 4) -> pd.DataFrame:
    out = aggregate_levels(spark.createDataFrame(fc, DDL), n_samples=n_samples, seed=seed, series_per_chunk=chunk)
    return out.toPandas().sort_values(["level", "key", "date"], ignore_index=True)


@pytest.fixture(scope="module")
def levels(spark) -> pd.DataFrame:
    return _levels(spark, _forecast(), n_samples=2000)


def test_shape_and_keys(levels):
    assert list(levels.columns) == ["level", "key", "date", "mean", "p10", "p50", "p90"]
    keys = levels.groupby("level")["key"].unique().map(sorted).to_dict()
    assert keys == {"category": ["a", "b", "c", "unknown"], "store": [f"S{s}" for s in range(5)], "total": ["total"]}
    assert len(levels) == 3 * (1 + 4 + 5)


def test_means_are_the_exact_sums_of_the_series_means(levels):
    fc = _forecast().fillna({"category": "unknown"})
    for level, cols in (("total", []), ("category", ["category"]), ("store", ["store_id"])):
        expected = fc.groupby(["date", *cols])["mean"].sum()
        got = levels[levels["level"] == level].set_index(["date", *(["key"] if cols else [])])["mean"]
        np.testing.assert_allclose(got.sort_index().to_numpy(), expected.sort_index().to_numpy(), rtol=1e-12)


def test_quantiles_ordered_and_not_sums_of_quantiles(levels):
    assert (levels["p10"] <= levels["p50"]).all() and (levels["p50"] <= levels["p90"]).all()
    assert (levels["p10"] >= 0).all()
    fc = _forecast()
    width_sum = (fc["p90"] - fc["p10"]).groupby(fc["date"]).sum()
    total = levels[levels["level"] == "total"].set_index("date")
    assert ((total["p90"] - total["p10"]) < 0.5 * width_sum).all()
    assert ((total["p10"] < total["mean"]) & (total["mean"] < total["p90"])).all()


def test_total_of_independent_poisson_series_matches_the_exact_law(spark):
    """Poisson series (dispersion -> 0) sum to Poisson(sum of means): compare the sampled total's quantiles."""
    means = np.full(60, 2.0)
    fc = pd.DataFrame(
        {
            "store_id": [f"S{i % 3}" for i in range(60)],
            "sku": [f"K{i}" for i in range(60)],
            "category": "x",
            "date": DAY,
            "mean": means,
            **nb_quantiles(means, 1e-6),
        }
    )
    total = _levels(spark, fc, n_samples=4000, seed=5, chunk=7).query("level == 'total'").iloc[0]
    exact = poisson(means.sum())
    assert total["mean"] == pytest.approx(120.0)
    for q, col in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
        assert total[col] == pytest.approx(exact.ppf(q), abs=3.0), (col, total[col], exact.ppf(q))


def _moments(knots: np.ndarray) -> tuple[float, float]:
    """Mean and variance of the piecewise-linear quantile function through `knots` at u = 0, .1, .5, .9, 1."""
    u = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    w, a, b = np.diff(u), knots[:-1], knots[1:]
    mean = float((w * (a + b) / 2).sum())
    return mean, float((w * (a * a + a * b + b * b) / 3).sum()) - mean**2


IDENTICAL = {"mean": 3.4, "p10": 1.0, "p50": 3.0, "p90": 6.0}


def _identical(n_series: int, n_stores: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store_id": [f"S{i % n_stores}" for i in range(n_series)],
            "sku": [f"K{i}" for i in range(n_series)],
            "category": "x",
            "date": DAY,
            **IDENTICAL,
        }
    )


def test_sum_of_many_identical_series_has_their_summed_mean_and_variance(spark):
    """400 iid series: the total is close to Normal(400 m, 400 v) with m, v of one series' quantile function."""
    n, stores = 400, 4
    m, v = _moments(_quantile_knots(*(np.array([IDENTICAL[c]]) for c in ("mean", "p10", "p50", "p90")))[0])
    assert m == pytest.approx(3.4)  # the upper tail is sized so the series' draws have its mean
    out = _levels(spark, _identical(n, stores), n_samples=4000, seed=11, chunk=30).set_index("level")
    for level, count in (("total", n), ("store", n // stores)):
        rows = out.loc[[level]]
        sd = np.sqrt(count * v)
        assert rows["mean"].to_numpy() == pytest.approx(count * m)
        for q, col in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
            # sampling error of a quantile of 4000 draws ~0.03 sd; the CLT's skew error at 100 series < 0.05 sd
            np.testing.assert_allclose(rows[col].to_numpy(), count * m + norm.ppf(q) * sd, atol=0.12 * sd)


def test_chunking_changes_the_draw_not_the_law(spark):
    """One chunk per day vs chunks of 3 series: same means, quantiles equal within sampling noise."""
    fc = _forecast(n_stores=6, n_skus=8, days=2)
    one = _levels(spark, fc, n_samples=4000, seed=2, chunk=10_000)
    small = _levels(spark, fc, n_samples=4000, seed=2, chunk=3)
    pd.testing.assert_frame_equal(small[["level", "key", "date"]], one[["level", "key", "date"]])
    np.testing.assert_allclose(small["mean"], one["mean"], rtol=1e-12)
    # a quantile of 4000 draws is off by ~0.012 x (p90 - p10) (sd); the two runs differ by ~0.017 x the width
    width = (one["p90"] - one["p10"]).to_numpy()
    for col in ("p10", "p50", "p90"):
        assert (np.abs(small[col] - one[col]).to_numpy() <= 0.1 * width).all(), col
    assert not np.allclose(small["p50"], one["p50"])  # really another draw


def test_deterministic_for_a_seed_and_chunk_size(spark):
    frame = spark.createDataFrame(_forecast(), DDL)
    a = aggregate_levels(frame, n_samples=200, seed=9, series_per_chunk=5)
    b = aggregate_levels(frame.orderBy(F.rand(1)).repartition(3), n_samples=200, seed=9, series_per_chunk=5)
    assertDataFrameEqual(a, b, checkRowOrder=False, rtol=1e-12)


def test_chunks_keep_small_stores_whole_and_split_big_ones(spark):
    """Chunks of ~10 series: a day's chunk count is ceil(series / 10); a store under 10 series sits in one chunk,
    a store of 40 is split (by SKU hash) into at most 4 parts."""
    fc = pd.concat([_identical(40, 1), _identical(6, 1).assign(store_id="T1"), _identical(3, 1).assign(store_id="T2")])
    chunks = _chunked(spark.createDataFrame(fc, DDL), size=10).toPandas()
    assert chunks["_chunk"].between(0, 4).all()  # ceil(49 / 10) = 5 chunks
    per_store = chunks.groupby("store_id")["_chunk"].nunique().to_dict()
    assert per_store["T1"] == 1 and per_store["T2"] == 1 and 2 <= per_store["S0"] <= 4
    assert len(chunks) == len(fc)


def test_chunk_sums_are_the_series_draws_summed_per_key_in_any_block_size():
    """chunk_sums against a direct computation: one draw matrix for all series, summed per key with pandas."""
    fc = _forecast(days=1).fillna({"category": "unknown"}).sample(frac=1.0, random_state=0)
    rows = fc.sort_values(["store_id", "sku"], ignore_index=True)
    knots = _quantile_knots(*(rows[c].to_numpy(float) for c in ("mean", "p10", "p50", "p90")))
    draws = pd.DataFrame(sample_series(knots, 50, np.random.default_rng(4)))
    for block in (1, 7, 1000):
        got = chunk_sums(fc, n_samples=50, rng=np.random.default_rng(4), block_rows=block).set_index(["level", "key"])
        for level, col in (("total", None), ("category", "category"), ("store", "store_id")):
            keys = rows[col] if col else pd.Series("total", index=rows.index)
            expected = draws.groupby(keys.to_numpy()).sum()
            for key, values in expected.iterrows():
                np.testing.assert_allclose(got.loc[(level, key), "draws"], values.to_numpy(), rtol=1e-12)
                assert got.loc[(level, key), "mean"] == pytest.approx(rows.loc[keys == key, "mean"].sum())
        assert len(got) == 1 + 4 + 5


def test_series_draws_honour_their_quantiles_and_mean():
    mean, p10, p50, p90 = (np.array([v]) for v in (3.4, 1.0, 3.0, 6.0))
    draws = sample_series(_quantile_knots(mean, p10, p50, p90), 200_000, np.random.default_rng(0))[0]
    assert np.quantile(draws, [0.1, 0.5, 0.9]) == pytest.approx([1.0, 3.0, 6.0], abs=0.05)
    assert draws.mean() == pytest.approx(3.4, abs=0.02)


def test_rejects_too_few_samples_or_an_empty_chunk(spark):
    frame = spark.createDataFrame(_forecast(), DDL)
    with pytest.raises(ValueError, match="n_samples"):
        aggregate_levels(frame, n_samples=5, seed=1, series_per_chunk=10)
    with pytest.raises(ValueError, match="series_per_chunk"):
        aggregate_levels(frame, n_samples=100, seed=1, series_per_chunk=0)
