"""LightGBM training shared by the models: configuration params -> a deterministic native Booster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

# Keys of a candidate configuration that steer our code rather than LightGBM itself.
CONTROL_KEYS = frozenset({"num_boost_round", "calibration", "calibration_fraction"})


def fit_booster(X: pd.DataFrame, y: np.ndarray, params: Mapping[str, Any], *, objective: str) -> lgb.Booster:
    """Train `num_boost_round` rounds (default 100) with `objective`; deterministic for a given seed."""
    booster_params = {k: v for k, v in params.items() if k not in CONTROL_KEYS}
    booster_params |= {"objective": objective, "verbosity": -1, "deterministic": True, "force_row_wise": True}
    data = lgb.Dataset(X, label=np.asarray(y, dtype=float), feature_name=list(X.columns), free_raw_data=True)
    return lgb.train(booster_params, data, num_boost_round=int(params.get("num_boost_round", 100)))


def top_contributions(booster: lgb.Booster, X: pd.DataFrame, *, k: int) -> list[list[str]]:
    """Per row, the names of up to `k` features with the largest positive contribution (pred_contrib=True, in
    the model's raw score space), largest first."""
    if k <= 0 or X.empty:
        return [[] for _ in range(len(X))]
    contrib = np.asarray(booster.predict(X, pred_contrib=True))[:, :-1]  # last column: the expected value
    names = np.asarray(X.columns)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    return [[str(names[j]) for j in row if contrib[i, j] > 0] for i, row in enumerate(order)]
