"""Probabilistic customer-lifetime-value models (pure numpy/scipy): BG/NBD purchases and Gamma-Gamma spend.

The implementation lives in `bgnbd` (fit, log-likelihood, simulator), `bgnbd_predict` (P(alive), P(no purchase),
conditional expected purchases), `gamma_gamma` and `summary`; this module is the public entry point.
"""

from __future__ import annotations

from ml.models.ltv.bgnbd import BgNbdParams, BgNbdSample, fit_bgnbd, simulate_bgnbd
from ml.models.ltv.bgnbd import log_likelihood as bgnbd_log_likelihood
from ml.models.ltv.bgnbd_predict import expected_purchases, p_alive, prob_no_purchase
from ml.models.ltv.gamma_gamma import (
    GammaGammaParams,
    GammaGammaSample,
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    simulate_gamma_gamma,
)
from ml.models.ltv.summary import summarise_transactions

__all__ = [
    "BgNbdParams",
    "BgNbdSample",
    "GammaGammaParams",
    "GammaGammaSample",
    "bgnbd_log_likelihood",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "p_alive",
    "prob_no_purchase",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "summarise_transactions",
]
