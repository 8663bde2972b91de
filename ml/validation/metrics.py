"""Evaluation metrics shared by the models (numpy in, floats out)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score


def count_errors(predicted: np.ndarray, actual: np.ndarray, *, prefix: str) -> dict[str, float]:
    """Per-row MAE and RMSE, and the relative error of the total: |sum predicted - sum actual| / sum actual."""
    predicted, actual = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    total = float(actual.sum())
    return {
        f"mae_{prefix}": float(np.mean(np.abs(predicted - actual))),
        f"rmse_{prefix}": float(np.sqrt(np.mean((predicted - actual) ** 2))),
        f"total_{prefix}_error": abs(float(predicted.sum()) - total) / total if total > 0 else float("nan"),
        f"total_{prefix}_predicted": float(predicted.sum()),
        f"total_{prefix}_actual": total,
    }


def expected_calibration_error(probability: np.ndarray, outcome: np.ndarray, *, bins: int = 10) -> float:
    """Row-weighted mean |mean predicted - observed rate| over `bins` equal-width probability bins."""
    probability, outcome = np.asarray(probability, dtype=float), np.asarray(outcome, dtype=float)
    index = np.clip((probability * bins).astype(int), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            error += inside.sum() * abs(probability[inside].mean() - outcome[inside].mean())
    return float(error / max(len(probability), 1))


def classification(score: np.ndarray, outcome: np.ndarray, *, is_probability: bool) -> dict[str, float]:
    """AUC for any score; Brier, log loss and calibration error only when the score is a probability."""
    outcome = np.asarray(outcome, dtype=int)
    score = np.asarray(score, dtype=float)
    both = len(np.unique(outcome)) == 2
    out = {
        "auc": float(roc_auc_score(outcome, score)) if both else float("nan"),
        "positive_rate": float(outcome.mean()) if len(outcome) else float("nan"),
    }
    if is_probability:
        clipped = np.clip(score, 1e-6, 1 - 1e-6)
        out |= {
            "brier": float(brier_score_loss(outcome, score)),
            "log_loss": float(log_loss(outcome, clipped, labels=[0, 1])),
            "ece": expected_calibration_error(score, outcome),
            "mean_probability": float(score.mean()),
        }
    return out
