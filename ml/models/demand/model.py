"""The global demand model: one LightGBM point model (Tweedie) + a calibrated negative-binomial predictive law.

Why a point model + calibrated residual quantiles rather than one LightGBM per quantile:
- daily store x SKU units are counts, often intermittent; pinball-loss boosters on them give P10 = 0 almost
  everywhere, can cross (P10 > P50) and need three more models to train, log and serve;
- one mean model keeps `mean` unbiased (Tweedie / log link) and is what WAPE, bias and the additive levels use;
- a negative binomial NB(mean, dispersion) around it gives integer, non-crossing P10/P50/P90 whose spread grows
  with the level (var = mean + dispersion * mean^2), with one parameter fitted by maximum likelihood on a
  time-held-out block (the last `validation_days` of the training rows): the residuals are calibrated
  out of sample, and because every row's features are exactly `horizon` days old, one block speaks for all k.
The booster that serves is refitted on all rows with the early-stopped number of rounds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import gammaln
from scipy.stats import nbinom

from ml.models.demand.features import NUMERIC_FEATURES, PLANNED_FEATURES

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
PREDICTION_COLUMNS = ("mean", "p10", "p50", "p90")
_MIN_MEAN = 1e-6


@dataclass(frozen=True)
class DemandParams:
    """Learner settings (conf `demand.params`). `use_plan`: also use the target day's planned promo and price."""

    objective: str = "tweedie"
    tweedie_variance_power: float = 1.2
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.9
    lambda_l2: float = 1.0
    n_estimators: int = 400
    early_stopping_rounds: int = 40
    validation_days: int = 28
    use_plan: bool = False
    min_dispersion: float = 1e-3
    num_threads: int = 1  # OpenMP threads; >1 only on a machine not shared with Spark executors
    seed: int = 7

    def lgb_params(self) -> dict:
        """The LightGBM parameter dict (deterministic, quiet)."""
        out = {
            "objective": self.objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "lambda_l2": self.lambda_l2,
            "num_threads": self.num_threads,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        if self.objective == "tweedie":
            out["tweedie_variance_power"] = self.tweedie_variance_power
        return out


@dataclass(frozen=True)
class DemandModel:
    """A fitted demand model; `predict_frame` turns feature rows (build_*_frame) into mean / P10 / P50 / P90."""

    booster: lgb.Booster
    features: tuple[str, ...]
    categories: tuple[str, ...]
    horizon: int
    dispersion: float
    params: DemandParams
    best_iteration: int
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def input_columns(self) -> list[str]:
        """The feature-frame columns predict_frame reads (the rest of a frame is ignored)."""
        return ["horizon", *self.features]

    def design(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model matrix of feature rows built for this model's horizon."""
        return design_matrix(frame, features=self.features, categories=self.categories, horizon=self.horizon)

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """mean (expected units) and the negative-binomial P10 / P50 / P90, indexed like `frame`."""
        if self.params.use_plan and frame[list(PLANNED_FEATURES)].isna().all(axis=None) and not frame.empty:
            raise ValueError("model uses planned promo/price: build the forecast frame with a plan")
        if frame.empty:
            return pd.DataFrame({c: pd.Series(dtype=float) for c in PREDICTION_COLUMNS}, index=frame.index)
        mean = self.booster.predict(self.design(frame), num_iteration=self.best_iteration)
        return pd.DataFrame({"mean": mean, **nb_quantiles(mean, self.dispersion)}, index=frame.index)

    def save(self, path: str | Path) -> None:
        """booster.txt + meta.json in directory `path` (what the MLflow pyfunc wrapper ships as an artifact)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(path / "booster.txt"))
        meta = {
            "features": self.features,
            "categories": self.categories,
            "horizon": self.horizon,
            "dispersion": self.dispersion,
            "params": asdict(self.params),
            "best_iteration": self.best_iteration,
            "metrics": self.metrics,
        }
        (path / "meta.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, path: str | Path) -> DemandModel:
        """Read a directory written by `save`."""
        path = Path(path)
        meta = json.loads((path / "meta.json").read_text())
        return cls(
            booster=lgb.Booster(model_file=str(path / "booster.txt")),
            features=tuple(meta["features"]),
            categories=tuple(meta["categories"]),
            horizon=int(meta["horizon"]),
            dispersion=float(meta["dispersion"]),
            params=DemandParams(**meta["params"]),
            best_iteration=int(meta["best_iteration"]),
            metrics=meta["metrics"],
        )


def design_matrix(
    frame: pd.DataFrame, *, features: tuple[str, ...], categories: tuple[str, ...], horizon: int
) -> pd.DataFrame:
    """Numeric features as float and category as a code over the training categories (unknown -> missing)."""
    horizons = set(pd.unique(frame["horizon"])) if len(frame) else {horizon}
    if horizons != {horizon}:
        raise ValueError(f"feature frame built for horizon {sorted(horizons)}, model needs {horizon}")
    x = frame[[f for f in features if f != "category"]].astype("float64")
    codes = pd.Categorical(frame["category"], categories=list(categories)).codes
    x.insert(0, "category", np.where(codes >= 0, codes, np.nan))
    return x[list(features)]


def nb_quantiles(mean: np.ndarray, dispersion: float) -> dict[str, np.ndarray]:
    """P10 / P50 / P90 of NB(mean, dispersion): var = mean + dispersion * mean^2 (integers, never crossing)."""
    mu = np.maximum(np.asarray(mean, dtype=float), _MIN_MEAN)
    n = 1.0 / dispersion
    p = n / (n + mu)
    return {name: nbinom.ppf(q, n, p).astype(float) for name, q in QUANTILES.items()}


def nb_log_likelihood(y: np.ndarray, mean: np.ndarray, dispersion: float) -> float:
    """Sum of NB log densities (gamma form, so non-integer imported units are allowed)."""
    mu = np.maximum(mean, _MIN_MEAN)
    n = 1.0 / dispersion
    return float(
        np.sum(gammaln(y + n) - gammaln(n) - gammaln(y + 1) + n * np.log(n / (n + mu)) + y * np.log(mu / (n + mu)))
    )


def fit_dispersion(y: np.ndarray, mean: np.ndarray, *, floor: float) -> float:
    """Maximum-likelihood NB dispersion of held-out actuals around held-out predictions (log scale search)."""
    y, mean = np.asarray(y, dtype=float), np.asarray(mean, dtype=float)
    res = minimize_scalar(
        lambda la: -nb_log_likelihood(y, mean, float(np.exp(la))),
        bounds=(np.log(floor), np.log(50.0)),
        method="bounded",
    )
    return float(max(np.exp(res.x), floor))


def _dataset(x: pd.DataFrame, frame: pd.DataFrame) -> lgb.Dataset:
    return lgb.Dataset(x, label=frame["target"].to_numpy(dtype=float), categorical_feature=["category"])


def train_demand(frame: pd.DataFrame, *, params: DemandParams) -> DemandModel:
    """Fit on a (bounded) pandas training frame from build_training_frame. Pure: no I/O, no MLflow."""
    if frame.empty or frame["target"].isna().any():
        raise ValueError("training frame must be non-empty with observed targets (stock-out days excluded)")
    dates = pd.to_datetime(frame["date"])
    cutoff = dates.max() - pd.Timedelta(days=params.validation_days)
    fit_rows, val_rows = frame.loc[dates <= cutoff], frame.loc[dates > cutoff]
    if fit_rows.empty or val_rows.empty:
        raise ValueError(f"need more than {params.validation_days} days of training rows for the held-out block")
    features = ("category", *NUMERIC_FEATURES, *(PLANNED_FEATURES if params.use_plan else ()))
    categories = tuple(sorted(frame["category"].dropna().astype(str).unique()))
    horizon = int(frame["horizon"].iloc[0])

    def design(rows: pd.DataFrame) -> pd.DataFrame:
        return design_matrix(rows, features=features, categories=categories, horizon=horizon)

    x_val = design(val_rows)
    first = lgb.train(
        params.lgb_params(),
        _dataset(design(fit_rows), fit_rows),
        num_boost_round=params.n_estimators,
        valid_sets=[_dataset(x_val, val_rows)],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    rounds = max(int(first.best_iteration or params.n_estimators), 1)
    y_val = val_rows["target"].to_numpy(dtype=float)
    mean_val = first.predict(x_val, num_iteration=rounds)
    dispersion = fit_dispersion(y_val, mean_val, floor=params.min_dispersion)
    final = lgb.train(params.lgb_params(), _dataset(design(frame), frame), num_boost_round=rounds)
    q = nb_quantiles(mean_val, dispersion)
    metrics = {
        "val_wape": float(np.abs(y_val - mean_val).sum() / max(y_val.sum(), 1e-9)),
        "val_bias": float((mean_val - y_val).sum() / max(y_val.sum(), 1e-9)),
        "val_coverage_80": float(np.mean((y_val >= q["p10"]) & (y_val <= q["p90"]))),
        "val_rows": float(len(val_rows)),
        "train_rows": float(len(frame)),
    }
    return DemandModel(
        booster=final,
        features=features,
        categories=categories,
        horizon=horizon,
        dispersion=dispersion,
        params=params,
        best_iteration=rounds,
        metrics=metrics,
    )
