"""LTV models (pure): the BG/NBD + Gamma-Gamma baseline and a LightGBM model, same inputs and outputs.

Both predict, per customer, expected_purchases (purchase days) and expected_revenue in the next `horizon_days`;
p_alive comes only from the probabilistic model (NaN from LightGBM, null in the output table). Frames are the
customer frames of ml/training/frames.py: bg_* summary columns, numeric features, label_* targets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.models.ltv.probabilistic import (
    BgNbdParams,
    GammaGammaParams,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    p_alive,
)
from ml.training.lgbm import fit_booster

SUMMARY_INPUTS = ["bg_x", "bg_t_x", "bg_T", "bg_m_x"]
OUTPUT_COLUMNS = ["expected_purchases", "p_alive", "expected_revenue"]


def fit_bgnbd_frame(frame: pd.DataFrame) -> BgNbdParams:
    """BG/NBD maximum-likelihood fit on the frame's (bg_x, bg_t_x, bg_T)."""
    return fit_bgnbd(frame["bg_x"].to_numpy(), frame["bg_t_x"].to_numpy(), frame["bg_T"].to_numpy())


def _fit_spend(frame: pd.DataFrame) -> tuple[GammaGammaParams | None, float]:
    """Gamma-Gamma on repeat customers with positive spend, and the population mean spend per purchase day as
    the fallback when the fit is impossible or does not converge."""
    repeat = frame[(frame["bg_x"] >= 1) & (frame["bg_m_x"] > 0)]
    mean_spend = float(repeat["bg_m_x"].mean()) if len(repeat) else float("nan")
    if len(repeat) < 10:
        return None, mean_spend
    try:
        params = fit_gamma_gamma(repeat["bg_x"].to_numpy(), repeat["bg_m_x"].to_numpy())
    except ValueError:
        return None, mean_spend
    return (params if params.converged else None), mean_spend


@dataclass
class ProbabilisticLtv:
    """BG/NBD purchases x Gamma-Gamma spend per purchase day (the label-free baseline)."""

    bgnbd: BgNbdParams
    spend: GammaGammaParams | None
    mean_spend: float
    horizon_days: int
    input_columns: list[str]

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        x, t_x, T = (frame[c].to_numpy(dtype=float) for c in ("bg_x", "bg_t_x", "bg_T"))
        m_x = frame["bg_m_x"].to_numpy(dtype=float)
        alive = p_alive(self.bgnbd, x, t_x, T)
        with np.errstate(invalid="ignore", over="ignore"):
            purchases = expected_purchases(self.bgnbd, self.horizon_days, x, t_x, T)
        # A fit at the no-dropout boundary (short histories: b -> 1e6) can overflow the 2F1 term; its limit is the
        # Gamma-Poisson expectation of an alive customer, (r + x) t / (alpha + T).
        limit = alive * (self.bgnbd.r + x) * self.horizon_days / (self.bgnbd.alpha + T)
        purchases = np.where(np.isfinite(purchases), purchases, limit)
        spend = np.full(len(frame), self.mean_spend)
        if self.spend is not None:
            fitted = expected_spend(self.spend, x, np.where(np.isfinite(m_x) & (m_x > 0), m_x, 0.0))
            usable = np.isfinite(fitted) & ((x == 0) | (m_x > 0))
            spend = np.where(usable, fitted, self.mean_spend)
        return pd.DataFrame({"expected_purchases": purchases, "p_alive": alive, "expected_revenue": purchases * spend})


def fit_probabilistic(frame: pd.DataFrame, *, horizon_days: int) -> ProbabilisticLtv:
    """Fit the baseline on the frame's BG/NBD summary (no labels needed)."""
    spend, mean_spend = _fit_spend(frame)
    return ProbabilisticLtv(
        bgnbd=fit_bgnbd_frame(frame),
        spend=spend,
        mean_spend=mean_spend,
        horizon_days=horizon_days,
        input_columns=list(SUMMARY_INPUTS),
    )


@dataclass
class LgbmLtv:
    """Two boosters on the customer features: purchase days (Poisson) and revenue (Tweedie)."""

    purchases: lgb.Booster
    revenue: lgb.Booster
    input_columns: list[str]

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        X = frame.loc[:, self.input_columns].astype(float)
        return pd.DataFrame(
            {
                "expected_purchases": self.purchases.predict(X),
                "p_alive": np.nan,
                "expected_revenue": self.revenue.predict(X),
            }
        )


def train(X: pd.DataFrame, y: pd.DataFrame, params: Mapping[str, Any]) -> LgbmLtv:
    """LightGBM LTV: `y` has label_purchases and label_revenue for the rows of `X` (features only)."""
    X = X.astype(float)
    purchases = fit_booster(X, y["label_purchases"].to_numpy(), params, objective="poisson")
    revenue = fit_booster(X, np.maximum(y["label_revenue"].to_numpy(), 0.0), params, objective="tweedie")
    return LgbmLtv(purchases=purchases, revenue=revenue, input_columns=list(X.columns))
