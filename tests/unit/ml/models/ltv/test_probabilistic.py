"""Tests for the BG/NBD and Gamma-Gamma models in ml.models.ltv.probabilistic (pure numpy/scipy, no Spark)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import betaln

from ml.models.ltv.probabilistic import (
    BgNbdParams,
    GammaGammaParams,
    bgnbd_log_likelihood,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    p_alive,
    prob_no_purchase,
    simulate_bgnbd,
    simulate_gamma_gamma,
    summarise_transactions,
)

TRUE_BG = BgNbdParams(r=0.5, alpha=20.0, a=0.8, b=2.5)
TRUE_GG = GammaGammaParams(p=6.0, q=4.0, v=15.0)
BG_NAMES = ("r", "alpha", "a", "b")
GG_NAMES = ("p", "q", "v")


def _simulate_bg(params: BgNbdParams, n: int, seed: int, t_future: float | None = None):
    rng = np.random.default_rng(seed)
    return simulate_bgnbd(params, n, rng.uniform(60.0, 365.0, size=n), rng, t_future=t_future)


@pytest.fixture(scope="module")
def bg_sample():
    return _simulate_bg(TRUE_BG, 8000, seed=20240501)


@pytest.fixture(scope="module")
def gg_sample():
    rng = np.random.default_rng(20240502)
    return simulate_gamma_gamma(TRUE_GG, 1 + rng.poisson(2.0, size=8000), rng)


# ----------------------------------------------------------------------------------------- parameter recovery


def test_bgnbd_recovers_true_parameters_within_two_standard_errors(bg_sample):
    fit = fit_bgnbd(bg_sample.x, bg_sample.t_x, bg_sample.T)
    assert fit.converged and fit.n == 8000
    for name in BG_NAMES:
        estimate, se = getattr(fit, name), fit.se[name]
        assert 0 < se < estimate, name
        assert abs(estimate - getattr(TRUE_BG, name)) < 2 * se, name
    # the maximum is at least as high as the likelihood at the generating parameters
    assert fit.loglik >= bgnbd_log_likelihood(TRUE_BG, bg_sample.x, bg_sample.t_x, bg_sample.T)


def test_gamma_gamma_recovers_true_parameters_within_two_standard_errors(gg_sample):
    fit = fit_gamma_gamma(gg_sample.x, gg_sample.m_x)
    assert fit.converged
    for name in GG_NAMES:
        estimate, se = getattr(fit, name), fit.se[name]
        assert 0 < se < estimate, name
        assert abs(estimate - getattr(TRUE_GG, name)) < 2 * se, name
    assert fit.loglik >= gamma_gamma_log_likelihood(TRUE_GG, gg_sample.x, gg_sample.m_x)


def test_bgnbd_converges_with_seventy_percent_zero_repeaters():
    heavy_zero = BgNbdParams(r=0.25, alpha=60.0, a=0.8, b=2.5)  # P(x = 0) ~ 0.70 for T ~ U[60, 365]
    sample = _simulate_bg(heavy_zero, 8000, seed=7)
    assert 0.67 < np.mean(sample.x == 0) < 0.73
    fit = fit_bgnbd(sample.x, sample.t_x, sample.T)
    assert fit.converged
    assert all(np.isfinite(fit.se[name]) and fit.se[name] > 0 for name in BG_NAMES)
    assert fit.loglik >= bgnbd_log_likelihood(heavy_zero, sample.x, sample.t_x, sample.T)
    for name in BG_NAMES:
        assert abs(getattr(fit, name) - getattr(heavy_zero, name)) < 3 * fit.se[name], name


def test_bgnbd_without_any_repeat_purchase_reports_non_convergence():
    fit = fit_bgnbd(np.zeros(50), np.zeros(50), np.full(50, 200.0))
    assert not fit.converged  # r -> 0: the likelihood has no interior maximum


def test_compressed_weights_give_the_same_fit_as_expanded_rows(bg_sample, gg_sample):
    rows = np.column_stack([bg_sample.x, np.round(bg_sample.t_x), np.round(bg_sample.T)])
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    assert len(unique) < len(rows)
    expanded = fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2])
    weighted = fit_bgnbd(unique[:, 0], unique[:, 1], unique[:, 2], weights=counts)
    assert weighted.n == expanded.n == len(rows)
    assert weighted.loglik == pytest.approx(expanded.loglik, rel=1e-10)
    for name in BG_NAMES:
        assert getattr(weighted, name) == pytest.approx(getattr(expanded, name), rel=1e-6)
        assert weighted.se[name] == pytest.approx(expanded.se[name], rel=1e-4)

    counts_gg = np.random.default_rng(3).integers(1, 4, size=500)
    x, m = gg_sample.x[:500], gg_sample.m_x[:500]
    spend_weighted = fit_gamma_gamma(x, m, weights=counts_gg)
    spend_expanded = fit_gamma_gamma(np.repeat(x, counts_gg), np.repeat(m, counts_gg))
    assert spend_weighted.loglik == pytest.approx(spend_expanded.loglik, rel=1e-10)
    for name in GG_NAMES:
        assert getattr(spend_weighted, name) == pytest.approx(getattr(spend_expanded, name), rel=1e-5)


# ------------------------------------------------------------------------------------ hand-checked values


def _direct_bgnbd_loglik(r, alpha, a, b, rows) -> float:
    """FHL (2005) eq. (6) as printed, one customer at a time."""
    total = 0.0
    for x, t_x, T in rows:
        nbd = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
        like = math.exp(betaln(a, b + x) - betaln(a, b)) * nbd / (alpha + T) ** (r + x)
        if x > 0:
            like += math.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * nbd / (alpha + t_x) ** (r + x)
        total += math.log(like)
    return total


SMALL_RFM = [(0, 0.0, 38.86), (1, 30.43, 38.86), (2, 1.71, 38.86), (0, 0.0, 38.86), (5, 30.0, 35.5), (12, 36.9, 37.0)]


@pytest.mark.parametrize("params", [(0.243, 4.414, 0.793, 2.426), (1.5, 60.0, 3.0, 0.4)])
def test_bgnbd_log_likelihood_matches_direct_formula(params):
    x, t_x, T = (np.array(column) for column in zip(*SMALL_RFM, strict=True))
    weights = np.array([1, 2, 1, 3, 1, 2])
    direct = sum(w * _direct_bgnbd_loglik(*params, [row]) for w, row in zip(weights, SMALL_RFM, strict=True))
    assert bgnbd_log_likelihood(BgNbdParams(*params), x, t_x, T, weights=weights) == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize(("x", "t_x", "expected"), [(0, 0.0, -0.59947382), (200, 38.0, 100.7957)])
def test_bgnbd_log_likelihood_published_values(x, t_x, expected):
    """Fader & Hardie (2013) note 027 example (r=.25, alpha=4, a=.8, b=2.5, T=40); eq. (6) as printed overflows."""
    value = bgnbd_log_likelihood(BgNbdParams(0.25, 4.0, 0.8, 2.5), [x], [t_x], [40.0])
    assert value == pytest.approx(expected, abs=1e-4)


def test_gamma_gamma_log_likelihood_matches_direct_formula():
    p, q, v = 6.25, 3.74, 15.44
    rows = [(1, 20.0), (2, 35.5), (6, 12.25), (14, 80.0)]
    direct = 0.0
    for x, m in rows:
        direct += (
            math.lgamma(p * x + q)
            - math.lgamma(p * x)
            - math.lgamma(q)
            + q * math.log(v)
            + (p * x - 1) * math.log(m)
            + p * x * math.log(x)
            - (p * x + q) * math.log(v + x * m)
        )
    x, m = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    assert gamma_gamma_log_likelihood(GammaGammaParams(p, q, v), x, m) == pytest.approx(direct, rel=1e-12)


# -------------------------------------------------------------------------------------------- predictions


def _quadrature_expectation(r, alpha, a, b, t, x, t_x, T) -> float:
    """eq. (10) from its definition: P_alive * E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p], p ~ Beta(a, b+x)."""
    s, k = r + x, t / (alpha + T)

    def integrand(p: float) -> float:
        return -math.expm1(-s * math.log1p(p * k)) / p if p > 0 else s * k

    value, _ = quad(integrand, 0.0, 1.0, weight="alg", wvar=(a - 1, b + x - 1), epsabs=0, epsrel=1e-10, limit=200)
    alive = p_alive(BgNbdParams(r, alpha, a, b), x, t_x, T)
    return float(alive * value / math.exp(betaln(a, b + x)))


# quad flags possible roundoff for the sharply peaked Beta(a, b + x) weights at x >= 300; agreement is still ~1e-12
@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_expected_purchases_matches_quadrature_over_typical_retail_values():
    histories = [(0, 0.0, 30.0), (2, 50.0, 365.0), (15, 300.0, 1000.0), (300, 990.0, 1000.0), (1000, 995.0, 1000.0)]
    grid = itertools.product([0.2, 0.7, 2.0], [1.0, 20.0, 100.0], [0.1, 0.8, 3.0, 10.0], [0.1, 2.5, 10.0])
    horizons = np.array([7.0, 90.0, 365.0])
    worst = 0.0
    for r, alpha, a, b in grid:
        params = BgNbdParams(r, alpha, a, b)
        for x, t_x, T in histories:
            closed = expected_purchases(params, horizons, x, t_x, T)
            reference = [_quadrature_expectation(r, alpha, a, b, t, x, t_x, T) for t in horizons]
            worst = max(worst, float(np.max(np.abs(closed / reference - 1))))
    assert worst < 1e-7


@pytest.mark.parametrize(
    ("params", "history", "t"),
    [
        ((0.5, 20.0, 1.0, 2.5), (3, 80.0, 100.0), 90.0),  # a = 1: removable 0/0
        ((0.5, 20.0, 1.0 + 1e-7, 2.5), (3, 80.0, 100.0), 90.0),  # cancellation next to a = 1
        ((0.5, 20.0, 0.4, 0.6), (0, 0.0, 100.0), 90.0),  # a + b = 1 and x = 0: 2F1 pole times zero
        ((2.0, 0.5, 3.0, 0.1), (1, 0.0, 0.0), 365.0),  # r - a integer, z near 1: scipy's hyp2f1 returns inf
    ],
)
def test_expected_purchases_is_guarded_at_singular_dropout_shapes(params, history, t):
    value = expected_purchases(BgNbdParams(*params), t, *history)
    assert np.isfinite(value)
    assert float(value) == pytest.approx(_quadrature_expectation(*params, t, *history), rel=1e-8)


def test_predictions_are_calibrated_against_the_simulator():
    """Tower property: within groups of histories, mean prediction = mean simulated outcome (4 MC standard errors)."""
    horizon = 90.0
    sample = _simulate_bg(TRUE_BG, 200_000, seed=11, t_future=horizon)
    predictions = {
        "purchases": (sample.future, expected_purchases(TRUE_BG, horizon, sample.x, sample.t_x, sample.T)),
        "alive": (sample.alive, p_alive(TRUE_BG, sample.x, sample.t_x, sample.T)),
        "no purchase": (sample.future == 0, prob_no_purchase(TRUE_BG, horizon, sample.x, sample.t_x, sample.T)),
    }
    groups = {"x=0": sample.x == 0, "x=1-2": (sample.x >= 1) & (sample.x <= 2), "x>=3": sample.x >= 3}
    for (label, (outcome, prediction)), (group, mask) in itertools.product(predictions.items(), groups.items()):
        residual = outcome[mask] - prediction[mask]
        standard_error = residual.std() / math.sqrt(mask.sum())
        assert abs(residual.mean()) <= 4 * standard_error, (label, group, residual.mean(), standard_error)


def test_p_alive_is_one_without_repeat_purchases():
    T = np.array([0.0, 10.0, 365.0, 1000.0])
    np.testing.assert_array_equal(p_alive(TRUE_BG, np.zeros(4), np.zeros(4), T), np.ones(4))
    assert 0 < p_alive(TRUE_BG, 3, 10.0, 365.0) < p_alive(TRUE_BG, 3, 360.0, 365.0) < 1


def test_prob_no_purchase_is_a_probability_decreasing_in_t():
    t = np.linspace(0.0, 365.0, 74)
    for x, t_x, T in [(0, 0.0, 5.0), (0, 0.0, 900.0), (1, 2.0, 300.0), (8, 100.0, 120.0), (40, 30.0, 400.0)]:
        values = prob_no_purchase(TRUE_BG, t, x, t_x, T)
        assert values[0] == pytest.approx(1.0)
        assert np.all((values >= 0) & (values <= 1))
        assert np.all(np.diff(values) <= 0)
        purchases = expected_purchases(TRUE_BG, t, x, t_x, T)
        assert purchases[0] == 0 and np.all(np.diff(purchases) >= 0)
        if p_alive(TRUE_BG, x, t_x, T) > 1e-6:  # for a customer almost surely gone both curves are flat
            assert np.all(np.diff(values) < 0) and np.all(np.diff(purchases) > 0)


def test_simulated_histories_are_consistent(bg_sample):
    assert np.all(bg_sample.x >= 0) and np.all(bg_sample.t_x <= bg_sample.T)
    np.testing.assert_array_equal(bg_sample.t_x == 0, bg_sample.x == 0)
    assert np.all(bg_sample.alive[bg_sample.x == 0])  # dropout happens only right after a repeat purchase
    assert bg_sample.future is None


def test_expected_spend_is_calibrated_and_shrinks_to_the_population_mean(gg_sample):
    prediction = expected_spend(TRUE_GG, gg_sample.x, gg_sample.m_x)
    for x_value in (1, 2, 3):
        residual = (gg_sample.mean_spend - prediction)[gg_sample.x == x_value]
        assert abs(residual.mean()) < 4 * residual.std() / math.sqrt(residual.size), x_value
    population = TRUE_GG.p * TRUE_GG.v / (TRUE_GG.q - 1)
    assert expected_spend(TRUE_GG, 0, np.nan) == pytest.approx(population)
    assert expected_spend(TRUE_GG, 1, 100.0) == pytest.approx((6 * (15 + 100)) / (6 + 3))
    assert np.isinf(expected_spend(GammaGammaParams(0.5, 0.8, 10.0), 0, np.nan))


# ---------------------------------------------------------------------------------------------- summary


def test_summarise_transactions_one_purchase_per_day_and_inclusive_as_of():
    rows = [
        ("A", "2024-01-01 09:00", 10.0),
        ("A", "2024-01-01 18:30", 5.0),  # same day: merged with the first purchase
        ("A", "2024-01-03 12:00", 20.0),
        ("A", "2024-01-10 08:00", 30.0),
        ("A", "2024-01-10 23:59", 12.0),  # on the as-of day: included
        ("A", "2024-01-11 00:01", 99.0),  # after as-of: ignored
        ("B", "2024-01-05 10:00", 7.5),
        ("C", "2024-01-12 10:00", 3.0),  # only after as-of: no row
    ]
    ids, dates, amounts = zip(*rows, strict=True)
    summary = summarise_transactions(ids, pd.to_datetime(list(dates)), amounts, as_of="2024-01-10")
    assert list(summary.columns) == ["customer_id", "x", "t_x", "T", "m_x"]
    assert summary["customer_id"].tolist() == ["A", "B"]
    assert summary[["x", "t_x", "T"]].to_numpy().tolist() == [[2, 9, 9], [0, 0, 5]]
    assert summary["m_x"].iloc[0] == pytest.approx((20.0 + 42.0) / 2)
    assert np.isnan(summary["m_x"].iloc[1])
    assert all(summary[column].dtype == np.int64 for column in ("x", "t_x", "T"))


def test_summarise_transactions_rejects_bad_input():
    with pytest.raises(ValueError, match="equal lengths"):
        summarise_transactions(["A", "B"], ["2024-01-01"], [1.0, 2.0], as_of="2024-02-01")
    with pytest.raises(ValueError, match="missing"):
        summarise_transactions(["A", None], ["2024-01-01", "2024-01-02"], [1.0, 2.0], as_of="2024-02-01")
    empty = summarise_transactions(["A"], ["2024-03-01"], [1.0], as_of="2024-02-01")
    assert empty.empty and list(empty.columns) == ["customer_id", "x", "t_x", "T", "m_x"]
