"""Gamma-Gamma model of average spend per transaction: maximum-likelihood fit, prediction and a simulator.

References: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", Journal
of Marketing Research 42(4), 415-430; Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value",
brucehardie.com note 025 (equation numbers below refer to that note). Spend per transaction z ~ Gamma(shape p,
rate nu), nu ~ Gamma(shape q, rate v) across customers; m_x is the mean of a customer's x repeat transactions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import digamma, gammaln

from ml.models.ltv._mle import fit_positive

PARAM_NAMES = ("p", "q", "v")


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: z ~ Gamma(p, rate nu), nu ~ Gamma(q, rate v)."""

    p: float
    q: float
    v: float
    se: dict[str, float] = field(default_factory=dict)
    loglik: float = float("nan")
    converged: bool = False


@dataclass(frozen=True)
class GammaGammaSample:
    """Simulated mean repeat spend m_x for given x, with each customer's true mean spend p / nu."""

    x: np.ndarray
    m_x: np.ndarray
    mean_spend: np.ndarray


def _spend_arrays(x, m_x, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, m_x = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(m_x, dtype=float))
    w = np.ones(x.shape) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), x.shape)
    if not all(np.all(np.isfinite(v)) for v in (x, m_x, w)):
        raise ValueError("x, m_x and weights must be finite (drop customers without repeat purchases)")
    if np.any(x < 1) or np.any(m_x <= 0) or np.any(w < 0):
        raise ValueError("the Gamma-Gamma fit needs x >= 1, m_x > 0 and non-negative weights")
    return x.ravel(), m_x.ravel(), w.ravel()


def _loglik_terms(theta, x, m, *, with_grad: bool):
    """Per-customer log density of m_x (note 025 eq. 1a, rearranged with log1p) and its gradient in (p, q, v)."""
    p, q, v = theta
    px = p * x
    log1p_v = np.log1p(v / (x * m))  # log((v + x m) / (x m))
    log1p_xm = np.log1p(x * m / v)  # log((v + x m) / v)
    ll = gammaln(px + q) - gammaln(px) - gammaln(q) - px * log1p_v - q * log1p_xm - np.log(m)
    if not with_grad:
        return ll, None
    psi = digamma(px + q)
    grad = np.stack(
        [
            x * (psi - digamma(px) - log1p_v),
            psi - digamma(q) - log1p_xm,
            q / v - (px + q) / (v + x * m),
        ]
    )
    return ll, grad


def gamma_gamma_log_likelihood(params: GammaGammaParams, x, m_x, *, weights=None) -> float:
    """Total (weighted) Gamma-Gamma log-likelihood of the observed mean spends (note 025 eq. 1a)."""
    x, m, w = _spend_arrays(x, m_x, weights)
    ll, _ = _loglik_terms((params.p, params.q, params.v), x, m, with_grad=False)
    return float(np.sum(w * ll))


def _start_values(x, m, w) -> list[list[float]]:
    """Starts that match the population mean spend p v / (q - 1) to the weighted mean of m_x."""
    mean = float(np.average(m, weights=w))
    return [[p0, q0, mean * (q0 - 1.0) / p0] for p0, q0 in ((2.0, 3.0), (6.0, 4.0), (1.0, 2.0), (15.0, 10.0))]


def fit_gamma_gamma(x, m_x, *, weights=None) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit (note 025 eq. 1a) on customers with x >= 1, log-parameter space.

    Standard errors from the inverse numerical Hessian of the negative log-likelihood (natural parameters).
    `weights` are counts of identical (x, m_x) rows.
    """
    xs, ms, ws = _spend_arrays(x, m_x, weights)
    n_obs = float(np.sum(ws))
    if n_obs <= 0:
        raise ValueError("no customers with positive weight")

    def negll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _loglik_terms(theta, xs, ms, with_grad=True)
        return -float(np.sum(ws * ll)), -(grad @ ws)

    fit = fit_positive(negll, _start_values(xs, ms, ws), n_obs)
    p, q, v = (float(t) for t in fit.theta)
    se = {name: float(s) for name, s in zip(PARAM_NAMES, fit.se, strict=True)}
    return GammaGammaParams(p, q, v, se=se, loglik=fit.loglik, converged=fit.converged)


def expected_spend(params: GammaGammaParams, x, m_x) -> np.ndarray:
    """E[spend per transaction | x, m_x] = p (v + x m_x) / (p x + q - 1)  (note 025 eq. 5).

    A credibility-weighted mix of the population mean p v / (q - 1) and m_x. Customers with x = 0 (m_x may be
    NaN) get the population mean. inf where p x + q <= 1: the posterior mean of 1 / nu does not exist there.
    """
    x, m_x = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(m_x, dtype=float))
    total = np.where(x > 0, x * np.where(x > 0, m_x, 0.0), 0.0)
    denominator = params.p * x + params.q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        value = params.p * (params.v + total) / denominator
    return np.where(denominator > 0, value, np.inf)


def simulate_gamma_gamma(params: GammaGammaParams, x, rng: np.random.Generator) -> GammaGammaSample:
    """Draw nu ~ Gamma(q, rate v) per customer and m_x = Gamma(p x, rate nu) / x (sum of x Gamma(p, nu) spends).

    Customers with x = 0 get m_x = NaN (no repeat purchase to average).
    """
    x = np.asarray(x, dtype=np.int64)
    if np.any(x < 0):
        raise ValueError("x must be non-negative")
    nu = rng.gamma(params.q, 1.0 / params.v, size=x.shape)
    totals = rng.gamma(params.p * np.maximum(x, 1), 1.0 / nu)
    m_x = np.where(x > 0, totals / np.maximum(x, 1), np.nan)
    return GammaGammaSample(x=x, m_x=m_x, mean_spend=params.p / nu)
