"""Demand wired into the shared wrappers: frames, baselines, gate metrics, gold.demand_forecast(+_levels).

Windows in demand terms: data loaded "at a with labels H" is the origin-anchored training frame up to a + H
(ml.models.demand.features: origins every `frame.origin_step_days` days anchored on a, each with the leads whose
day is labelled), and its rows of origin a are exactly the forecasts an origin at a makes. So the compare fit uses
rows labelled up to D - H and is measured on the rows of origin D - H; the serve fit uses every row labelled up to
D and forecasts (D, D + H] from origin D.
The baselines read the same rows (what is known at the origin): seasonal naive = the latest same-weekday value
(then the 8-week same-weekday mean, then the 28-day mean), moving average = the 28-day mean; each gets a
negative-binomial band with a dispersion fitted on its own training rows. A third, compare-only baseline is the
per-series exponential-smoothing loop (ml.models.demand.ets, statsmodels): the forecast a retail analyst would
run series by series; it is not servable (scoring it would mean a statsmodels fit per series in the daily run).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from jobs.common.config import ConfigError
from jobs.common.config.ml import DemandSettings, ModelConfig
from jobs.gold.sales import sales_lines
from jobs.io.inputs import read_inputs
from ml.models.demand.backtest import LEVELS, score_levels
from ml.models.demand.ets import EtsSettings, ets_forecast_many
from ml.models.demand.features import (
    NORMAL_PRICE_DAYS,
    STATE_FEATURES,
    YEAR_WINDOW,
    build_forecast_frame,
    lattice_training_frame,
)
from ml.models.demand.forecast import window_history
from ml.models.demand.levels import LEVEL_COLUMNS, aggregate_levels
from ml.models.demand.model import (
    DemandModel,
    DemandParams,
    fit_dispersion,
    nb_quantiles,
    pit_coverage,
    train_demand,
)
from ml.training.adapter import BaseAdapter, Output, stamp
from ml.training.handoff import Bounded, canonical_order, to_pandas_bounded
from ml.training.windows import History, HistoryError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ml.serving.registry import Served

SERIES_KEY = ("store_id", "sku")
FORECAST_COLUMNS = [
    "store_id",
    "sku",
    "date",
    "mean",
    "p10",
    "p50",
    "p90",
    "as_of",
    "model_name",
    "model_version",
    "run_id",
]
_BASELINE_INPUTS = {
    "seasonal_naive": ["same_weekday_last", "weekday_mean_8", "mean_28"],
    "moving_average": ["mean_28"],
}


class OneBand:
    """A baseline's predictive law: its `mean(frame)` and one negative-binomial dispersion for every row."""

    dispersion: float

    def mean(self, frame: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def dispersion_of(self, mean: np.ndarray) -> np.ndarray:
        return np.full(len(mean), self.dispersion)

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        mean = self.mean(frame)
        return pd.DataFrame({"mean": mean, **nb_quantiles(mean, self.dispersion)}, index=frame.index)

    def fit_band(self, rows: pd.DataFrame, *, floor: float) -> None:
        """The dispersion by maximum likelihood on `rows`' observed targets (left as it is without any)."""
        rows = rows.dropna(subset=["target"])
        if len(rows):
            self.dispersion = fit_dispersion(
                rows["target"].to_numpy(float), np.maximum(self.mean(rows), 1e-3), floor=floor
            )


@dataclass
class BaselineDemand(OneBand):
    """A label-free baseline on what is known at the origin: the first non-null input column is the mean."""

    kind: str
    dispersion: float
    input_columns: list[str]

    def mean(self, frame: pd.DataFrame) -> np.ndarray:
        values = frame.loc[:, self.input_columns].astype(float).bfill(axis=1).iloc[:, 0]
        return values.fillna(0.0).to_numpy()


def fit_baseline(kind: str, frame: pd.DataFrame, *, min_dispersion: float = 1e-3) -> BaselineDemand:
    """The baseline `kind` with a negative-binomial dispersion fitted on `frame`'s observed targets."""
    if kind not in _BASELINE_INPUTS:
        raise ConfigError(f"config 'ml.models.demand': unknown baseline '{kind}' ({sorted(_BASELINE_INPUTS)})")
    model = BaselineDemand(kind=kind, dispersion=min_dispersion, input_columns=list(_BASELINE_INPUTS[kind]))
    model.fit_band(frame, floor=min_dispersion)
    return model


def series_history(item_store_day: DataFrame, series: pd.DataFrame, *, until: date, days: int) -> pd.DataFrame:
    """store_id, sku, date, units (null on a stock-out day: unknown) of `series` over (until - days, until]."""
    keys = item_store_day.sparkSession.createDataFrame(series.astype(str))
    rows = item_store_day.join(keys, on=list(SERIES_KEY), how="left_semi")
    return canonical_order(window_history(rows, until - timedelta(days=days), until), [*SERIES_KEY, "date"])


def realized_errors(forecasts: DataFrame, item_store_day: DataFrame, *, origin: date, until: date) -> dict[str, float]:
    """wape / bias / abs_bias at store x SKU x day (named as forecast_errors names them: wape, wape_store_sku,
    bias_store_sku), wape_total / bias_total of the daily totals, and the days and rows compared, of the forecast
    rows (store_id, sku, date, mean) for the days in (origin, until] with known units."""
    days = F.col("date").between(F.lit(origin + timedelta(days=1)), F.lit(until))
    actual = item_store_day.where(days & F.col("units").isNotNull()).select(*SERIES_KEY, "date", "units")
    cells = forecasts.where(days).select(*SERIES_KEY, "date", "mean").join(actual, on=[*SERIES_KEY, "date"])
    per_day = cells.groupBy("date").agg(F.sum("mean").alias("m"), F.sum("units").alias("u"))
    row = (
        cells.agg(
            F.sum(F.abs(F.col("mean") - F.col("units"))).alias("abs_err"),
            F.sum(F.col("mean") - F.col("units")).alias("err"),
            F.sum("units").alias("units"),
            F.count(F.lit(1)).alias("rows"),
        )
        .crossJoin(per_day.agg(F.sum(F.abs(F.col("m") - F.col("u"))).alias("day_err"), F.count(F.lit(1)).alias("days")))
        .first()
    )
    units = float(row["units"] or 0.0)
    if not row["rows"] or units <= 0:
        return {"rows": float(row["rows"] or 0), "days": float(row["days"] or 0)}
    bias = float(row["err"]) / units
    wape = float(row["abs_err"]) / units
    return {
        "wape": wape,
        "wape_store_sku": wape,
        "bias_store_sku": bias,
        "abs_bias": abs(bias),
        "wape_total": float(row["day_err"]) / units,
        "bias_total": bias,
        "rows": float(row["rows"]),
        "days": float(row["days"]),
    }


def forecast_errors(predicted: pd.DataFrame, rows: pd.DataFrame) -> dict[str, float]:
    """WAPE, bias (relative), |bias| and the share of actuals inside [P10, P90] at store x SKU x day, plus WAPE and
    bias per day at each level of ml.models.demand.backtest (total, category, store, sku, store_sku)."""
    actual = rows["target"].to_numpy(dtype=float)
    total = max(float(actual.sum()), 1e-9)
    mean = predicted["mean"].to_numpy(dtype=float)
    inside = (actual >= predicted["p10"].to_numpy()) & (actual <= predicted["p90"].to_numpy())
    bias = float((mean - actual).sum() / total)
    out = {
        "wape": float(np.abs(mean - actual).sum() / total),
        "bias": bias,
        "abs_bias": abs(bias),
        "coverage_80": float(inside.mean()) if len(actual) else float("nan"),
        "rows": float(len(actual)),
    }
    cells = (
        rows[["store_id", "sku", "category", "date"]]
        .reset_index(drop=True)
        .assign(model="m", origin=0, actual=actual, mean=mean)
    )
    for r in score_levels(cells.fillna({"category": "unknown"})).itertuples():
        out |= {f"wape_{r.level}": float(r.wape), f"bias_{r.level}": float(r.bias)}
    return out


@dataclass
class EtsDemand(OneBand):
    """The per-series exponential-smoothing loop as a predictor of feature rows: one statsmodels fit per series and
    origin of the rows, on the daily units up to that origin (`history`), with a negative-binomial band."""

    history: pd.DataFrame
    settings: EtsSettings
    horizon: int
    dispersion: float

    def mean(self, frame: pd.DataFrame) -> np.ndarray:
        rows = frame[["store_id", "sku", "date", "origin"]].reset_index(drop=True)
        rows["date"] = pd.to_datetime(rows["date"]).dt.date
        rows["origin"] = pd.to_datetime(rows["origin"]).dt.date
        forecasts = ets_forecast_many(
            self.history, origins=sorted(rows["origin"].unique()), horizon=self.horizon, settings=self.settings
        )
        merged = rows.merge(forecasts, on=["store_id", "sku", "date", "origin"], how="left")
        return merged["mean"].fillna(0.0).to_numpy(dtype=float)


def fit_ets(data: DemandData, horizon: int, *, settings: EtsSettings, min_dispersion: float) -> EtsDemand:
    """The ETS loop with its NB dispersion fitted on the frame's origin `data.as_of` (labelled, before any
    evaluation origin)."""
    history = data.history(settings.window_days)
    model = EtsDemand(history=history, settings=settings, horizon=horizon, dispersion=min_dispersion)
    frame = data.frame.frame
    model.fit_band(frame.loc[pd.to_datetime(frame["origin"]).dt.date == data.as_of], floor=min_dispersion)
    return model


@dataclass(frozen=True)
class DemandData:
    frame: Bounded  # origin-anchored training rows labelled up to as_of + label_days (or as_of)
    as_of: date  # the evaluation origin: its rows are what a forecast at as_of says
    history: Callable[[int], pd.DataFrame]  # (days) -> store_id, sku, date, units (null: unknown) of its series

    def describe(self) -> dict[str, Any]:
        return {**self.frame.describe(), "as_of": str(self.as_of)}


# windows of the state features without a trailing day count (monitoring: ml.training.adapter.feature_window_days)
FEATURE_WINDOWS = {"price_vs_normal": NORMAL_PRICE_DAYS, "normal_vs_year": YEAR_WINDOW, "days_since_sale": YEAR_WINDOW}


class DemandAdapter(BaseAdapter):
    name = "demand"
    settings: DemandSettings
    key = ("store_id", "sku", "date", "category")
    table = "gold.demand_forecast"
    output_ddl = "mean double, p10 double, p50 double, p90 double"
    baselines = {
        "baseline_seasonal_naive": ModelConfig("seasonal_naive"),
        "baseline_moving_average": ModelConfig("moving_average"),
        "baseline_ets": ModelConfig("ets"),
    }
    servable_baselines = ("baseline_seasonal_naive", "baseline_moving_average")
    levels = tuple(LEVELS)  # the levels of the wape_<level> / bias_<level> metrics (ml/training/evaluate.py)
    fallback = ModelConfig("seasonal_naive")
    monitored_outputs = ("mean",)
    _rebuilt: tuple[date, DataFrame] | None = None  # item_store_day rebuilt from silver: (its day, the frame)

    def item_store_day(self, until: date) -> DataFrame:
        """features.item_store_day up to `until` when the table covers it, else the same transforms on silver.

        A rebuild is kept for the command (the adapter's life: one train, score, evaluate or monitor), checkpointed,
        and serves every later request up to its day: each feature row looks back only (the stored table is cut the
        same way), and a command asks for several frames (the training origins, the holdout, the monitored state),
        each of which otherwise rebuilt the features from silver."""
        catalog = self.env.catalog
        if catalog.exists("features.item_store_day"):
            stored = catalog.read("features.item_store_day")
            last = stored.agg(F.max("date")).first()[0]
            if last is not None and last >= until:
                return stored.where(F.col("date") <= F.lit(until))
        kept = self._rebuilt
        if kept is None or kept[0] < until:
            kept = self._rebuilt = (until, self._rebuild(until).localCheckpoint())
        return kept[1].where(F.col("date") <= F.lit(until))

    def _rebuild(self, until: date) -> DataFrame:
        """features.item_store_day's transforms on silver, up to `until`."""
        catalog = self.env.catalog
        from jobs.features.item_store_day import item_store_day
        from jobs.gold.demand import store_sku_days

        rules = self.env.cfg.features
        src = read_inputs(
            catalog, ("silver.order_lines", "silver.daily_sales_imported", "silver.inventory", "silver.products")
        )
        grid = store_sku_days(
            sales_lines(src["silver.order_lines"], excluded_statuses=self.env.cfg.gold.excluded_statuses),
            src["silver.daily_sales_imported"],
            src["silver.inventory"],
            src["silver.products"],
            until=until,
        )
        return item_store_day(grid, src["silver.products"], lags=rules.lags_days, rolling=rules.rolling_days)

    def history(self) -> History:
        src = read_inputs(self.env.catalog, ("silver.order_lines", "silver.daily_sales_imported"))
        pos = src["silver.order_lines"].where(F.col("store_id").isNotNull()).select(F.col("order_date").alias("d"))
        days = pos.unionByName(src["silver.daily_sales_imported"].select(F.col("sales_date").alias("d")))
        row = days.agg(F.min("d").alias("first"), F.max("d").alias("last")).first()
        if row is None or row["first"] is None:
            raise HistoryError("no store x SKU sales in silver (POS lines or imported daily sales)")
        return History(first=row["first"], last=row["last"])

    def required_history_days(self, horizon_days: int) -> int:
        validation = int(DemandParams(**self._params()).validation_days)
        return max(self.env.settings.min_history_days, validation + 14)

    def _params(self) -> dict[str, Any]:
        return dict(self.settings.challenger.params) if self.settings.challenger else {}

    def realized(
        self,
        scores: DataFrame,
        served: Callable[[], tuple[ModelConfig, Any]],
        *,
        origin: date,
        until: date,
        horizon_days: int,
    ) -> dict[str, float]:
        """The forecasts made as of `origin` against the days of (origin, until] that have happened (unknown
        stock-out days left out): WAPE and bias at store x SKU x day and of the daily total, in Spark."""
        return realized_errors(scores, self.item_store_day(until), origin=origin, until=until)

    def monitored_features(self, columns: list[str]) -> list[str]:
        """The series' state at the origin (what a forecast starts from); the calendar of the leads is not drift."""
        return [c for c in STATE_FEATURES if c in columns]

    def monitor_frame(self, as_of: date) -> DataFrame:
        """One row per series (lead 1): the state repeats on every lead, and the sample is the series."""
        return self.score_frame(as_of).where(F.col("lead") == 1)

    def feature_window_days(self, column: str) -> int | None:
        return FEATURE_WINDOWS.get(column) or super().feature_window_days(column)

    def load(self, as_of: date, label_days: int | None, *, horizon_days: int) -> DemandData:
        until = as_of + timedelta(days=label_days or 0)
        item_store_day = self.item_store_day(until)
        frame = lattice_training_frame(
            item_store_day, as_of=until, horizon=horizon_days, anchor=as_of, lattice=self.settings.frame
        )
        bounded = to_pandas_bounded(frame, key=SERIES_KEY, limits=self.env.settings.handoff, what=f"demand@{until}")

        def history(days: int) -> pd.DataFrame:
            series = bounded.frame[list(SERIES_KEY)].drop_duplicates()
            return series_history(item_store_day, series, until=until, days=days)

        return DemandData(frame=bounded, as_of=as_of, history=history)

    def fit(self, config: ModelConfig, data: DemandData, horizon_days: int) -> DemandModel | BaselineDemand | EtsDemand:
        frame = data.frame.frame
        if config.kind == "lgbm":
            return train_demand(frame, params=DemandParams(**config.params))
        floor = float(self._params().get("min_dispersion", 1e-3))
        if config.kind == "ets":
            return fit_ets(data, horizon_days, settings=EtsSettings(**config.params), min_dispersion=floor)
        return fit_baseline(config.kind, frame, min_dispersion=floor)

    def evaluate(self, config: ModelConfig, predictor: Any, data: DemandData) -> dict[str, float]:
        frame = data.frame.frame
        rows = frame.loc[pd.to_datetime(frame["origin"]).dt.date == data.as_of].reset_index(drop=True)
        predicted = predictor.predict_frame(rows).reset_index(drop=True)
        mean = predicted["mean"].to_numpy(dtype=float)
        dispersion = predictor.dispersion_of(mean)
        pit = pit_coverage(rows["target"].to_numpy(dtype=float), mean, dispersion, seed=len(rows))
        return forecast_errors(predicted, rows) | {"pit_coverage_80": pit}

    def example(self, data: DemandData) -> pd.DataFrame:
        return data.frame.frame

    def log_model(self, predictor: Any, data: DemandData, *, registered_name: str) -> str:
        if not isinstance(predictor, DemandModel):
            return super().log_model(predictor, data, registered_name=registered_name)
        import mlflow
        from mlflow.models import infer_signature

        from ml.models.demand.pyfunc import DemandPyfunc, demand_artifacts
        from ml.serving.pyfunc import pip_requirements

        sample = self.example(data).loc[:, predictor.input_columns].head(5).reset_index(drop=True)
        with tempfile.TemporaryDirectory() as tmp:
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=DemandPyfunc(),
                artifacts=demand_artifacts(predictor, tmp),
                signature=infer_signature(sample, predictor.predict_frame(sample)),
                input_example=sample,
                pip_requirements=pip_requirements(),
                registered_model_name=registered_name,
            )
        return str(info.registered_model_version)

    def score_frame(self, as_of: date) -> DataFrame:
        return self._forecast_frame(as_of, self.settings.horizon_days)

    def _forecast_frame(self, as_of: date, horizon_days: int) -> DataFrame:
        return build_forecast_frame(
            self.item_store_day(as_of), as_of=as_of, horizon=horizon_days, events=self.settings.frame.events
        )

    def output_columns(self) -> list[str]:
        return list(FORECAST_COLUMNS)

    def replace_where(self, as_of: date, horizon_days: int) -> str:
        return f"as_of = DATE'{as_of.isoformat()}'"

    def outputs(self, served: Served, *, as_of: date, horizon_days: int) -> list[Output]:
        """Series forecasts (D, D + H] and their category / store / total levels, both replacing as_of = D."""
        from ml.serving.pyfunc import apply_model, load

        frame = self._forecast_frame(as_of, horizon_days)
        scored = apply_model(frame, load(served.uri), key=self.key, output_ddl=self.output_ddl).persist()
        where = self.replace_where(as_of, horizon_days)
        series = stamp(scored, served, as_of).select(*FORECAST_COLUMNS)
        levels = stamp(self._levels(scored), served, as_of).select(*LEVEL_COLUMNS, *FORECAST_COLUMNS[-4:])
        return [Output(self.table, series, where), Output("gold.demand_forecast_levels", levels, where)]

    def _levels(self, scored: DataFrame) -> DataFrame:
        """aggregate_levels of the scored series (a chunk of series per Python worker, seeded per day and chunk)."""
        levels = self.settings.levels
        return aggregate_levels(
            scored, n_samples=levels.n_samples, seed=levels.seed, series_per_chunk=levels.series_per_chunk
        )
