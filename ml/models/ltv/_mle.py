"""Maximum-likelihood machinery shared by the BG/NBD and Gamma-Gamma fits.

Parameters are strictly positive. The optimiser (L-BFGS-B) works on log-parameters with an analytic gradient;
standard errors come from the inverse of the Hessian of the negative log-likelihood in the natural
parameterisation, obtained by central differences of the analytic gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.optimize import minimize

# Total negative log-likelihood and its gradient, both at natural (positive) parameters.
NegLogLik = Callable[[np.ndarray], tuple[float, np.ndarray]]

LOG_LOWER, LOG_UPPER = np.log(1e-6), np.log(1e6)
_AT_BOUND = 1e-3  # log-parameter this close to a bound counts as a boundary solution
_GRAD_TOL = 1e-5  # max |d(mean NLL)/d log(theta)| accepted as a stationary point
_HESSIAN_STEP = 1e-5  # relative central-difference step


@dataclass(frozen=True)
class MleFit:
    """Result of one maximum-likelihood fit: estimates, standard errors, total log-likelihood."""

    theta: np.ndarray
    se: np.ndarray
    loglik: float
    converged: bool


def fit_positive(negll: NegLogLik, starts: Sequence[Sequence[float]], n_obs: float) -> MleFit:
    """Minimise `negll` from each start in turn until one converges; return the best fit found.

    `n_obs` (total weight) rescales the objective to a per-customer mean so that the optimiser tolerances
    do not depend on the sample size.
    """
    if not starts:
        raise ValueError("at least one start value is required")
    best: MleFit | None = None
    for start in starts:
        fit = _single_run(negll, np.asarray(start, dtype=float), n_obs)
        if best is None or _score(fit) > _score(best):
            best = fit
        if fit.converged:
            break
    assert best is not None
    return best


def _score(fit: MleFit) -> float:
    return fit.loglik if np.isfinite(fit.loglik) else -np.inf


def _single_run(negll: NegLogLik, start: np.ndarray, n_obs: float) -> MleFit:
    scale = 1.0 / max(float(n_obs), 1.0)

    def objective(log_theta: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(log_theta)
        value, grad = negll(theta)
        return value * scale, grad * theta * scale

    u0 = np.clip(np.log(start), LOG_LOWER + 1.0, LOG_UPPER - 1.0)
    result = minimize(
        objective,
        u0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(LOG_LOWER, LOG_UPPER)] * u0.size,
        options={"maxiter": 3000, "ftol": 1e-14, "gtol": 1e-10},
    )
    log_theta = np.asarray(result.x, dtype=float)
    theta = np.exp(log_theta)
    value, grad = negll(theta)
    interior = bool(np.all(log_theta - LOG_LOWER > _AT_BOUND) and np.all(LOG_UPPER - log_theta > _AT_BOUND))
    stationary = bool(np.all(np.isfinite(grad)) and np.max(np.abs(grad * theta)) * scale < _GRAD_TOL)
    cov = covariance(negll, theta) if interior and np.isfinite(value) else None
    se = np.sqrt(np.diag(cov)) if cov is not None else np.full(theta.size, np.nan)
    converged = interior and stationary and cov is not None
    return MleFit(theta=theta, se=se, loglik=-float(value), converged=converged)


def numerical_hessian(negll: NegLogLik, theta: np.ndarray) -> np.ndarray:
    """Symmetrised central-difference Hessian of `negll` from its analytic gradient (natural parameters)."""
    k = theta.size
    hessian = np.empty((k, k))
    for j in range(k):
        step = _HESSIAN_STEP * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += step
        down[j] -= step
        hessian[:, j] = (negll(up)[1] - negll(down)[1]) / (2.0 * step)
    return 0.5 * (hessian + hessian.T)


def covariance(negll: NegLogLik, theta: np.ndarray) -> np.ndarray | None:
    """Inverse observed information at `theta`, or None when the Hessian is not positive definite."""
    hessian = numerical_hessian(negll, theta)
    if not np.all(np.isfinite(hessian)):
        return None
    try:
        factor = cho_factor(hessian)
    except LinAlgError:
        return None
    return cho_solve(factor, np.eye(theta.size))
