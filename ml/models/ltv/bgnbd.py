"""BG/NBD purchase model: maximum-likelihood fit, conditional predictions and a simulator.

Reference: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to the Pareto/NBD
Model", Marketing Science 24(2), 275-284 (FHL 2005). Per customer: x repeat purchases (one per day at most),
recency t_x (first to last purchase) and age T (first purchase to the as-of date), all in days. The model is in
continuous time; daily data is its usual approximation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import digamma, expit, gammaln

from ml.models.ltv._mle import fit_positive

PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: lambda ~ Gamma(shape r, rate alpha), dropout p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    se: dict[str, float] = field(default_factory=dict)
    loglik: float = float("nan")
    n: int = 0
    converged: bool = False


@dataclass(frozen=True)
class BgNbdSample:
    """Simulated histories; `future` counts purchases in (T, T+t] when a horizon was requested."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    alive: np.ndarray
    future: np.ndarray | None = None


def _rfm_arrays(x, t_x, T, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    x, t_x, T = np.broadcast_arrays(x, t_x, T)
    w = np.ones(x.shape) if weights is None else np.broadcast_to(np.asarray(weights, dtype=float), x.shape)
    if not all(np.all(np.isfinite(v)) for v in (x, t_x, T, w)):
        raise ValueError("x, t_x, T and weights must be finite")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("x must be a non-negative whole number of repeat purchases")
    if np.any(t_x < 0) or np.any(t_x > T * (1 + 1e-12)) or np.any(w < 0):
        raise ValueError("need 0 <= t_x <= T and non-negative weights")
    return x.ravel(), t_x.ravel(), T.ravel(), w.ravel()


def _compress(x, t_x, T, w) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge identical (x, t_x, T) rows, summing their weights; t_x is irrelevant (set to 0) when x = 0."""
    keep = w > 0
    rows = np.column_stack([x[keep], np.where(x[keep] > 0, t_x[keep], 0.0), T[keep]])
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=w[keep], minlength=len(unique))
    return unique[:, 0], unique[:, 1], unique[:, 2], counts


def _loglik_terms(theta, x, t_x, T, *, with_grad: bool):
    """Per-row log-likelihood (FHL 2005 eq. 6, log form of Fader-Hardie note 004 / 027) and its gradient."""
    r, alpha, a, b = theta
    repeat = x > 0
    b_x1 = b + np.maximum(x, 1.0) - 1.0  # b + x - 1, only used where x > 0
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b_x1) - (r + x) * np.log(alpha + t_x)
    ll = a1 + a2 + np.where(repeat, np.logaddexp(a3, a4), a3)
    if not with_grad:
        return ll, None
    w = np.where(repeat, expit(a4 - a3), 0.0)  # posterior weight of "dropped out after the last purchase"
    d_ab = digamma(a + b) - digamma(a + b + x)
    grad = np.stack(
        [
            digamma(r + x) - digamma(r) + np.log(alpha) - (1 - w) * np.log(alpha + T) - w * np.log(alpha + t_x),
            r / alpha - (r + x) * ((1 - w) / (alpha + T) + w / (alpha + t_x)),
            d_ab + w / a,
            d_ab + digamma(b + x) - digamma(b) - w / b_x1,
        ]
    )
    return ll, grad


def log_likelihood(params: BgNbdParams, x, t_x, T, *, weights=None) -> float:
    """Total (weighted) BG/NBD log-likelihood, FHL 2005 eq. (6) summed over customers."""
    x, t_x, T, w = _rfm_arrays(x, t_x, T, weights)
    ll, _ = _loglik_terms((params.r, params.alpha, params.a, params.b), x, t_x, T, with_grad=False)
    return float(np.sum(w * ll))


def _start_values(x, t_x, T, w) -> list[list[float]]:
    """Moment-based start for (r, alpha) from per-customer rates x/T; a few spreads for the dropout Beta."""
    aged = T > 0
    rate = max(float(np.sum(w * x) / max(np.sum(w * T), 1e-12)), 1e-4)
    r0 = 1.0
    if np.sum(w[aged]) > 0:
        rates, wa = x[aged] / T[aged], w[aged]
        mean = np.average(rates, weights=wa)
        # Var(x/T) = Var(lambda) + E[lambda / T]; remove the Poisson part, then r = E[lambda]^2 / Var(lambda).
        excess = np.average((rates - mean) ** 2, weights=wa) - np.average(rates / T[aged], weights=wa)
        r0 = float(np.clip(mean**2 / excess, 0.05, 20.0)) if excess > 0 and mean > 0 else 1.0
    alpha0 = r0 / rate
    return [[r0, alpha0, 1.0, 3.0], [r0, alpha0, 0.3, 1.0], [1.0, 1.0 / rate, 3.0, 10.0], [0.2, 0.2 / rate, 1.0, 1.0]]


def fit_bgnbd(x, t_x, T, *, weights=None) -> BgNbdParams:
    """Maximum-likelihood BG/NBD fit (FHL 2005 eq. 6) in log-parameter space with restarts.

    `weights` are counts of identical (x, t_x, T) rows; identical rows are also merged internally, so one
    likelihood evaluation costs O(number of distinct histories). Standard errors: inverse numerical Hessian of the
    negative log-likelihood at the optimum, natural parameterisation. `converged` is False for boundary
    solutions (a parameter at 1e-6 or 1e6), non-stationary ends or a Hessian that is not positive definite.
    """
    xs, txs, Ts, ws = _compress(*_rfm_arrays(x, t_x, T, weights))
    n_obs = float(np.sum(ws))
    if n_obs <= 0:
        raise ValueError("no customers with positive weight")

    def negll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = _loglik_terms(theta, xs, txs, Ts, with_grad=True)
        return -float(np.sum(ws * ll)), -(grad @ ws)

    fit = fit_positive(negll, _start_values(xs, txs, Ts, ws), n_obs)
    r, alpha, a, b = (float(v) for v in fit.theta)
    se = {name: float(s) for name, s in zip(PARAM_NAMES, fit.se, strict=True)}
    return BgNbdParams(r, alpha, a, b, se=se, loglik=fit.loglik, n=int(round(n_obs)), converged=fit.converged)


def simulate_purchases(
    lam: np.ndarray, p: np.ndarray, start: np.ndarray, end: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The BG/NBD purchase process in calendar time, one customer per element (FHL 2005 section 2).

    From a first purchase at `start`, repeat purchases follow a Poisson process with rate `lam` until `end`
    (censoring); right after each repeat purchase the customer drops out with probability `p`. Returns the
    customer index and time of every repeat purchase before `end`, and each customer's dropout time (inf when the
    customer is still alive at `end`). tests/support/synthetic.py builds its transactions on it.
    """
    n = len(lam)
    end = np.asarray(end, dtype=float)
    dropout = np.full(n, np.inf)
    now, alive = np.asarray(start, dtype=float).copy(), np.ones(n, dtype=bool)
    ids, times = [], []
    while alive.any():
        now = np.where(alive, now + rng.exponential(1.0 / np.maximum(lam, 1e-9)), now)
        alive &= now < end
        ids.append(np.flatnonzero(alive))
        times.append(now[alive])
        drop = alive & (rng.random(n) < p)
        dropout = np.where(drop, now, dropout)
        alive &= ~drop
    return np.concatenate(ids), np.concatenate(times), dropout


def simulate_bgnbd(params: BgNbdParams, n: int, T, rng: np.random.Generator, *, t_future=None) -> BgNbdSample:
    """Simulate n histories of the BG/NBD story: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b), then
    simulate_purchases from a first purchase at time 0 through T (and T + t_future when a horizon is asked for),
    summarised as x (repeat purchases in (0, T]), t_x (the last one's time, 0 without any), alive at T, and the
    purchases in (T, T + t_future].
    """
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    horizon = np.zeros(n) if t_future is None else np.broadcast_to(np.asarray(t_future, dtype=float), (n,))
    who, when, dropout = simulate_purchases(lam, p, np.zeros(n), T + horizon, rng)
    seen = when <= T[who]
    x = np.bincount(who[seen], minlength=n)
    t_x = np.zeros(n)
    np.maximum.at(t_x, who[seen], when[seen])
    future = None if t_future is None else np.bincount(who[~seen], minlength=n)
    return BgNbdSample(x=x.astype(np.int64), t_x=t_x, T=T, alive=dropout > T, future=future)
