"""Churn models (pure). Churn = no purchase in the next `horizon_days`.

- `train(X, y, params)`: LightGBM classifier fitted on most of the training rows; its probabilities are
  calibrated (isotonic or Platt) on a held-out slice of the same training window; top reasons per customer are
  the features with the largest positive contributions to the booster's log-odds (pred_contrib=True).
- ProbabilisticChurn: the BG/NBD's P(no purchase in H | history): label-free fallback and baseline.
- recency_score: days since the last purchase, the recency-only baseline (a ranking, not a probability).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from ml.models.ltv.model import fit_bgnbd_frame
from ml.models.ltv.probabilistic import BgNbdParams, prob_no_purchase
from ml.training.lgbm import fit_booster, top_contributions

OUTPUT_COLUMNS = ["churn_probability", "top_reasons"]
CALIBRATIONS = ("isotonic", "platt")


def recency_score(frame: pd.DataFrame) -> np.ndarray:
    """Days since the last purchase (T - t_x of the BG/NBD summary)."""
    return (frame["bg_T"] - frame["bg_t_x"]).to_numpy(dtype=float)


@dataclass
class Calibrator:
    """Maps raw booster probabilities to calibrated ones."""

    method: str
    model: IsotonicRegression | LogisticRegression

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if self.method == "isotonic":
            return np.clip(self.model.predict(raw), 0.0, 1.0)
        return self.model.predict_proba(_logit(raw).reshape(-1, 1))[:, 1]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_calibrator(raw: np.ndarray, y: np.ndarray, method: str) -> Calibrator:
    if method == "isotonic":
        return Calibrator(method, IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y))
    if method == "platt":
        return Calibrator(method, LogisticRegression().fit(_logit(raw).reshape(-1, 1), y))
    raise ValueError(f"unknown calibration '{method}': expected one of {CALIBRATIONS}")


@dataclass
class LgbmChurn:
    booster: lgb.Booster
    calibrator: Calibrator
    input_columns: list[str]
    top_reasons: int

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.calibrator(self.booster.predict(frame.loc[:, self.input_columns].astype(float)))

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        X = frame.loc[:, self.input_columns].astype(float)
        return pd.DataFrame(
            {
                "churn_probability": self.calibrator(self.booster.predict(X)),
                "top_reasons": top_contributions(self.booster, X, k=self.top_reasons),
            }
        )


def train(X: pd.DataFrame, y: np.ndarray, params: Mapping[str, Any], *, top_reasons: int = 3) -> LgbmChurn:
    """Fit on a random (1 - calibration_fraction) of the rows, calibrate on the rest (both from one window)."""
    y = np.asarray(y, dtype=int)
    rng = np.random.default_rng(int(params.get("seed", 0)))
    held_out = rng.random(len(X)) < float(params.get("calibration_fraction", 0.25))
    if held_out.all() or not held_out.any() or len(np.unique(y[~held_out])) < 2:
        raise ValueError("churn training needs both outcomes and rows on both sides of the calibration split")
    X = X.astype(float)
    booster = fit_booster(X[~held_out], y[~held_out], params, objective="binary")
    calibrator = fit_calibrator(booster.predict(X[held_out]), y[held_out], str(params.get("calibration", "isotonic")))
    return LgbmChurn(booster=booster, calibrator=calibrator, input_columns=list(X.columns), top_reasons=top_reasons)


@dataclass
class ProbabilisticChurn:
    params: BgNbdParams
    horizon_days: int
    input_columns: list[str]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        x, t_x, T = (frame[c].to_numpy(dtype=float) for c in ("bg_x", "bg_t_x", "bg_T"))
        return prob_no_purchase(self.params, self.horizon_days, x, t_x, T)

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        # The BG/NBD has no per-feature attribution: reasons stay empty rather than invented.
        return pd.DataFrame(
            {"churn_probability": self.predict_proba(frame), "top_reasons": [[] for _ in range(len(frame))]}
        )


def fit_probabilistic(frame: pd.DataFrame, *, horizon_days: int) -> ProbabilisticChurn:
    return ProbabilisticChurn(
        params=fit_bgnbd_frame(frame), horizon_days=horizon_days, input_columns=["bg_x", "bg_t_x", "bg_T"]
    )
