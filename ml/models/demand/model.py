"""The global demand model: one LightGBM point model (Tweedie) + a calibrated negative-binomial predictive law.

Why a point model + calibrated residual quantiles rather than one LightGBM per quantile:
- daily store x SKU units are counts, often intermittent; pinball-loss boosters on them give P10 = 0 almost
  everywhere, can cross (P10 > P50) and need three more models to train, log and serve;
- one mean model keeps `mean` unbiased (Tweedie / log link) and is what WAPE, bias and the additive levels use;
- a negative binomial NB(mean, dispersion) around it gives non-crossing P10/P50/P90 whose spread grows with the
  level (var = mean + dispersion * mean^2). The dispersion is fitted by maximum likelihood per volume band (bands
  of the predicted mean, `interval_bands` of them) on a time-held-out block: the training rows whose origin is at
  or after the last `validation_days` before the last labelled day, scored by a booster fitted on the rows labelled
  before that day. So the residuals are out of sample, and a slow mover's band is not sized by the fast movers'.
- the quantiles are counts, so a slow mover's band holds more than 80% of its days by necessity (a series with
  P(0) = 0.9 has the band [0, 0]); calibration is measured with the randomized PIT (pit_coverage: about 0.8 when
  the law is right, for counts too), and the plain share inside [P10, P90] is logged beside it.
The booster that serves is refitted on all rows with the early-stopped number of rounds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
    interval_bands: int = 4  # volume bands of the predicted mean, one NB dispersion each
    min_band_rows: int = 200  # a band with fewer held-out rows shares its neighbour's dispersion
    use_plan: bool = False
    # The boosting starts from each row's recent level (log of this feature, at least base_floor) instead of one
    # global constant, so the trees learn multiplicative corrections to where the series is now (weekday, lead,
    # promotion, price): a tree cannot extrapolate, and a global model without it lags series whose level moves.
    # None: a global start (LightGBM's default). Needs a log-link objective (tweedie, poisson, gamma). On the
    # realistic fixture (tests/support/retail_shapes.py) bases ewm_7, ewm_28 and mean_28 were mixed against no base
    # (better at store x SKU on one panel, worse at total on another), so the default is None.
    base_feature: str | None = None
    base_floor: float = 0.02
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
    band_edges: tuple[float, ...]  # upper edges of the volume bands but the last (predicted mean)
    dispersions: tuple[float, ...]  # one per band: len(band_edges) + 1
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

    def dispersion_of(self, mean: np.ndarray) -> np.ndarray:
        """The NB dispersion of each predicted mean (its volume band's)."""
        return band_dispersion(self.band_edges, self.dispersions, mean)

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """mean (expected units) and the negative-binomial P10 / P50 / P90, indexed like `frame`."""
        if self.params.use_plan and frame[list(PLANNED_FEATURES)].isna().all(axis=None) and not frame.empty:
            raise ValueError("model uses planned promo/price: build the forecast frame with a plan")
        if frame.empty:
            return pd.DataFrame({c: pd.Series(dtype=float) for c in PREDICTION_COLUMNS}, index=frame.index)
        mean = predict_mean(self.booster, self.design(frame), frame, self.params, self.best_iteration)
        return pd.DataFrame({"mean": mean, **nb_quantiles(mean, self.dispersion_of(mean))}, index=frame.index)

    def save(self, path: str | Path) -> None:
        """booster.txt + meta.json in directory `path` (what the MLflow pyfunc wrapper ships as an artifact)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(path / "booster.txt"))
        meta = {
            "features": self.features,
            "categories": self.categories,
            "horizon": self.horizon,
            "band_edges": self.band_edges,
            "dispersions": self.dispersions,
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
            band_edges=tuple(float(e) for e in meta["band_edges"]),
            dispersions=tuple(float(d) for d in meta["dispersions"]),
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
    lacking = [f for f in features if f not in frame.columns]
    if lacking:
        raise ValueError(
            f"the feature frame lacks {lacking}: this model was trained on features this version does not build; "
            "retrain it (omnilake train demand)"
        )
    x = frame[[f for f in features if f != "category"]].astype("float64")
    codes = pd.Categorical(frame["category"], categories=list(categories)).codes
    x.insert(0, "category", np.where(codes >= 0, codes, np.nan))
    return x[list(features)]


def _nb(mean: np.ndarray, dispersion: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """scipy's (n, p) of NB(mean, dispersion)."""
    mu = np.maximum(np.asarray(mean, dtype=float), _MIN_MEAN)
    n = 1.0 / np.broadcast_to(np.asarray(dispersion, dtype=float), mu.shape)
    return n, n / (n + mu)


def nb_quantiles(mean: np.ndarray, dispersion: np.ndarray | float) -> dict[str, np.ndarray]:
    """P10 / P50 / P90 of NB(mean, dispersion): var = mean + dispersion * mean^2, dispersion per row or one
    (integers, never crossing)."""
    n, p = _nb(mean, dispersion)
    return {name: nbinom.ppf(q, n, p).astype(float) for name, q in QUANTILES.items()}


def pit_coverage(y: np.ndarray, mean: np.ndarray, dispersion: np.ndarray | float, *, seed: int) -> float:
    """Share of randomized PIT values F(y - 1) + U (F(y) - F(y - 1)) in [0.1, 0.9]: about 0.8 when the law is right,
    for counts too (Czado, Gneiting and Held 2009)."""
    n, p = _nb(mean, dispersion)
    y = np.asarray(y, dtype=float)
    u = np.random.default_rng(seed).random(len(y))
    pit = nbinom.cdf(y - 1, n, p) + u * nbinom.pmf(y, n, p)
    return float(np.mean((pit >= QUANTILES["p10"]) & (pit <= QUANTILES["p90"]))) if len(y) else float("nan")


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


def fit_bands(
    y: np.ndarray, mean: np.ndarray, *, bands: int, min_rows: int, floor: float
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Volume-band edges (quantiles of the held-out predicted means) and one ML dispersion per band; a band with
    fewer than `min_rows` rows is merged into the band above (the last band into the one below)."""
    y, mean = np.asarray(y, dtype=float), np.asarray(mean, dtype=float)
    edges = list(np.unique(np.quantile(mean, np.linspace(0, 1, max(bands, 1) + 1)[1:-1]))) if len(mean) else []
    while edges:
        counts = np.bincount(np.searchsorted(edges, mean, side="right"), minlength=len(edges) + 1)
        small = np.flatnonzero(counts < min_rows)
        if not len(small):
            break
        edges.pop(min(int(small[0]), len(edges) - 1))
    band = np.searchsorted(edges, mean, side="right")
    dispersions = tuple(fit_dispersion(y[band == b], mean[band == b], floor=floor) for b in range(len(edges) + 1))
    return tuple(float(e) for e in edges), dispersions


def band_dispersion(edges: Sequence[float], dispersions: Sequence[float], mean: np.ndarray) -> np.ndarray:
    """The dispersion of each mean's volume band (fit_bands' edges and dispersions)."""
    return np.asarray(dispersions)[np.searchsorted(np.asarray(edges), mean, side="right")]


_LOG_LINK = ("tweedie", "poisson", "gamma")


def base_margin(frame: pd.DataFrame, params: DemandParams) -> np.ndarray | None:
    """log(recent level) per row: the booster's starting score (DemandParams.base_feature), or None."""
    if params.base_feature is None:
        return None
    if params.objective not in _LOG_LINK:
        raise ValueError(f"base_feature needs a log-link objective {_LOG_LINK}, not {params.objective!r}")
    level = frame[params.base_feature].astype(float).fillna(0.0).to_numpy()
    return np.log(np.maximum(level, params.base_floor))


def predict_mean(
    booster: lgb.Booster, x: pd.DataFrame, frame: pd.DataFrame, params: DemandParams, rounds: int
) -> np.ndarray:
    """Expected units: exp(base margin + the trees' raw score), or the booster's own prediction without a base."""
    margin = base_margin(frame, params)
    if margin is None:
        return booster.predict(x, num_iteration=rounds)
    return np.exp(margin + booster.predict(x, num_iteration=rounds, raw_score=True))


def _dataset(x: pd.DataFrame, frame: pd.DataFrame, params: DemandParams) -> lgb.Dataset:
    return lgb.Dataset(
        x,
        label=frame["target"].to_numpy(dtype=float),
        categorical_feature=["category"],
        init_score=base_margin(frame, params),
    )


def holdout_split(frame: pd.DataFrame, validation_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit rows, held-out rows): cutoff = last labelled day - validation_days; fit rows are labelled by the cutoff,
    held-out rows have their origin at or after it (so their days are after every fit row's day)."""
    dates, origins = pd.to_datetime(frame["date"]), pd.to_datetime(frame["origin"])
    cutoff = dates.max() - pd.Timedelta(days=validation_days)
    return frame.loc[dates <= cutoff], frame.loc[origins >= cutoff]


def train_demand(frame: pd.DataFrame, *, params: DemandParams) -> DemandModel:
    """Fit on a (bounded) pandas training frame from build_training_frame. Pure: no I/O, no MLflow."""
    if frame.empty or frame["target"].isna().any():
        raise ValueError("training frame must be non-empty with observed targets (stock-out days excluded)")
    fit_rows, val_rows = holdout_split(frame, params.validation_days)
    if fit_rows.empty or val_rows.empty:
        raise ValueError(
            f"need training origins before and within the last {params.validation_days} days for the held-out block"
        )
    features = ("category", *NUMERIC_FEATURES, *(PLANNED_FEATURES if params.use_plan else ()))
    categories = tuple(sorted(frame["category"].dropna().astype(str).unique()))
    horizon = int(frame["horizon"].iloc[0])

    def design(rows: pd.DataFrame) -> pd.DataFrame:
        return design_matrix(rows, features=features, categories=categories, horizon=horizon)

    x_val = design(val_rows)
    first = lgb.train(
        params.lgb_params(),
        _dataset(design(fit_rows), fit_rows, params),
        num_boost_round=params.n_estimators,
        valid_sets=[_dataset(x_val, val_rows, params)],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    rounds = max(int(first.best_iteration or params.n_estimators), 1)
    y_val = val_rows["target"].to_numpy(dtype=float)
    mean_val = predict_mean(first, x_val, val_rows, params, rounds)
    edges, dispersions = fit_bands(
        y_val, mean_val, bands=params.interval_bands, min_rows=params.min_band_rows, floor=params.min_dispersion
    )
    final = lgb.train(params.lgb_params(), _dataset(design(frame), frame, params), num_boost_round=rounds)
    disp_val = band_dispersion(edges, dispersions, mean_val)
    q = nb_quantiles(mean_val, disp_val)
    metrics = {
        "val_wape": float(np.abs(y_val - mean_val).sum() / max(y_val.sum(), 1e-9)),
        "val_bias": float((mean_val - y_val).sum() / max(y_val.sum(), 1e-9)),
        "val_coverage_80": float(np.mean((y_val >= q["p10"]) & (y_val <= q["p90"]))),
        "val_pit_coverage_80": pit_coverage(y_val, mean_val, disp_val, seed=params.seed),
        "val_rows": float(len(val_rows)),
        "train_rows": float(len(frame)),
    }
    return DemandModel(
        booster=final,
        features=features,
        categories=categories,
        horizon=horizon,
        band_edges=edges,
        dispersions=dispersions,
        params=params,
        best_iteration=rounds,
        metrics=metrics,
    )
