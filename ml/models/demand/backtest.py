"""Rolling-origin backtest of the demand model against the seasonal naive, the moving average and the ETS loop.

For each origin D: train on the rows labelled up to D (origins of the lattice before D), forecast D+1 .. D+horizon,
and score every model on the days in that window whose demand was observed (stock-out days are unknown demand and
are left out for every model alike). Forecasts and actuals are summed to each level (total, category, store, SKU and
the store x SKU series) per day before WAPE = sum|actual - forecast| / sum actual and bias = sum(forecast - actual)
/ sum actual are taken, pooled over origins.

An offline check (not on the daily path): every frame it scores is pandas. With `limits` (conf ml.handoff) it
backtests a seeded hash sample of whole series holding about 95% of `limits.max_rows` history rows when the history
has more, and every pandas frame (training rows, forecasts, actuals, baseline windows) is rows of those series;
without, it is for histories known to be small (tests).
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.common.config.ml import DemandFrame, HandOff
from ml.models.demand.ets import EtsSettings, ets_forecast
from ml.models.demand.features import KEY, SERIES, lattice_training_frame
from ml.models.demand.forecast import as_spark, baseline_forecast, forecast, window_history
from ml.models.demand.model import DemandParams, train_demand
from ml.training.handoff import sample_keys

LEVELS: dict[str, list[str]] = {
    "total": [],
    "category": ["category"],
    "store": ["store_id"],
    "sku": ["sku"],
    "store_sku": ["store_id", "sku"],
}
MODEL_NAME = "lightgbm"
BASELINES = ("seasonal_naive", "moving_average", "ets")


def _actuals(history: DataFrame, origin: date, horizon: int) -> pd.DataFrame:
    """Observed (not stocked-out) units per store x SKU x day in (origin, origin + horizon]."""
    end = origin + timedelta(days=horizon)
    rows = history.where(
        (F.col("date") > F.lit(origin))
        & (F.col("date") <= F.lit(end))
        & ~F.coalesce(F.col("stockout").cast("boolean"), F.lit(False))
    )
    pdf = rows.select(*KEY, "category", F.col("units").cast("double").alias("actual")).toPandas()
    pdf["date"] = pd.to_datetime(pdf["date"]).dt.date
    return pdf


def _plan(history: DataFrame, origin: date, horizon: int) -> DataFrame:
    """The realised promotions and prices of the window, standing in for the plan a merchant would have had."""
    end = origin + timedelta(days=horizon)
    return history.where((F.col("date") > F.lit(origin)) & (F.col("date") <= F.lit(end))).select(*KEY, "promo", "price")


def score_levels(cells: pd.DataFrame) -> pd.DataFrame:
    """model, level, wape, bias from per series-day cells (model, origin, store_id, sku, category, date, actual,
    mean)."""
    out = []
    for level, cols in LEVELS.items():
        agg = cells.groupby(["model", "origin", "date", *cols], as_index=False)[["actual", "mean"]].sum()
        err = agg.assign(abs_err=(agg["mean"] - agg["actual"]).abs(), err=agg["mean"] - agg["actual"])
        per_model = err.groupby("model")[["abs_err", "err", "actual"]].sum()
        denom = per_model["actual"].where(per_model["actual"] > 0, np.nan)
        out.append(
            pd.DataFrame(
                {
                    "model": per_model.index,
                    "level": level,
                    "wape": (per_model["abs_err"] / denom).to_numpy(),
                    "bias": (per_model["err"] / denom).to_numpy(),
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def backtest(
    history: pd.DataFrame | DataFrame,
    *,
    origins: list[date],
    horizon: int,
    params: DemandParams,
    lattice: DemandFrame,
    limits: HandOff | None = None,
    baseline_window: int = 28,
    ets: EtsSettings | None = None,
) -> pd.DataFrame:
    """model, level, wape, bias and wall_s (seconds the model took over every origin: frames, fit and forecast)
    of the model and the baselines (seasonal naive, moving average, the per-series ETS loop) over rolling origins.

    `lattice`: the training frames' origins (conf ml.demand.frame). `limits`: above `limits.max_rows` history rows,
    backtest a hash sample of whole series (module docstring); None: every series. A model with params.use_plan
    gets the realised promo/price as its plan.
    """
    if not origins:
        raise ValueError("backtest needs at least one origin")
    hist = as_spark(history)
    if limits is not None:
        hist = sample_keys(hist, key=SERIES, limits=limits, rows=hist.count()).persist()
    ets = ets or EtsSettings()
    cells, wall = [], dict.fromkeys((MODEL_NAME, *BASELINES), 0.0)
    for origin in sorted(origins):
        started = time.perf_counter()
        frame = lattice_training_frame(hist, as_of=origin, horizon=horizon, anchor=origin, lattice=lattice)
        model = train_demand(frame.toPandas(), params=params)
        plan = _plan(hist, origin, horizon) if params.use_plan else None
        preds = {MODEL_NAME: forecast(model, hist, as_of=origin, horizon=horizon, plan=plan)}
        wall[MODEL_NAME] += time.perf_counter() - started
        for kind in BASELINES:
            started = time.perf_counter()
            if kind == "ets":
                daily = window_history(hist, origin - timedelta(days=ets.window_days), origin)
                preds[kind] = ets_forecast(daily, origin=origin, horizon=horizon, settings=ets)
            else:
                preds[kind] = baseline_forecast(kind, hist, as_of=origin, horizon=horizon, window=baseline_window)
            wall[kind] += time.perf_counter() - started
        actual = _actuals(hist, origin, horizon)
        for name, pred in preds.items():
            cell = actual.merge(pred[[*KEY, "mean"]], on=KEY, how="left")
            cells.append(cell.assign(model=name, origin=origin, mean=cell["mean"].fillna(0.0)))
    scores = score_levels(pd.concat(cells, ignore_index=True))
    return scores.assign(wall_s=scores["model"].map(wall))
