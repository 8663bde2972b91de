"""Forecasts of the fitted model and of the two baselines it must beat, as bounded pandas frames.

Every function reads only history <= as_of. History may be a Spark DataFrame (features.item_store_day) or a
bounded pandas frame with the same columns; pandas input is turned into Spark through the active SparkSession,
so the features are computed by exactly the code that built the training frame.

These return pandas frames of every series in the window (series x horizon rows; baselines read series x lookback
days): they serve the offline backtest (ml.models.demand.backtest, which samples series under ml.handoff.max_rows
first) and notebooks on bounded histories. The daily forecast never goes through them: DemandAdapter.outputs
scores the champion in Spark (ml.serving.pyfunc.apply_model, mapInPandas).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ml.models.demand.features import KEY, SERIES, build_forecast_frame
from ml.models.demand.model import PREDICTION_COLUMNS, DemandModel

FORECAST_COLUMNS = (*KEY, *PREDICTION_COLUMNS)
BaselineKind = Literal["seasonal_naive", "moving_average"]


def as_spark(df: pd.DataFrame | DataFrame) -> DataFrame:
    """A Spark DataFrame as is; a pandas frame through the active session (dates as DateType)."""
    if isinstance(df, DataFrame):
        return df
    spark = SparkSession.getActiveSession()
    if spark is None:
        raise RuntimeError("pandas history needs an active SparkSession (features are computed in Spark)")
    out = df.copy()
    out["date"] = pd.to_datetime(out["date"]).dt.date
    return spark.createDataFrame(out)


def window_history(history: pd.DataFrame | DataFrame, start: date, end: date) -> pd.DataFrame:
    """store_id, sku, date, units (null on stock-out days: unknown demand) for days in (start, end]: the input of
    the per-series ETS loop (ml.models.demand.ets)."""
    return _window_pandas(history, start, end).rename(columns={"obs": "units"})


def _window_pandas(history: pd.DataFrame | DataFrame, start: date, end: date) -> pd.DataFrame:
    """store_id, sku, date, obs (units, null on stock-out days) for days in (start, end]: a bounded frame."""
    cols = [*SERIES, "date", "units", "stockout"]
    if isinstance(history, DataFrame):
        rows = history.where((F.col("date") > F.lit(start)) & (F.col("date") <= F.lit(end))).select(*cols)
        pdf = rows.toPandas()
    else:
        pdf = history[cols].copy()
    pdf["date"] = pd.to_datetime(pdf["date"]).dt.date
    pdf = pdf.loc[(pdf["date"] > start) & (pdf["date"] <= end)]
    stockout = pdf["stockout"].fillna(False).astype(bool)
    return pdf.assign(obs=pdf["units"].astype(float).where(~stockout))[[*SERIES, "date", "obs"]]


def forecast(
    model: DemandModel,
    history: pd.DataFrame | DataFrame,
    *,
    as_of: date,
    horizon: int,
    plan: pd.DataFrame | DataFrame | None = None,
) -> pd.DataFrame:
    """store_id, sku, date, mean, p10, p50, p90 for days as_of+1 .. as_of+horizon of every recent series.

    `horizon` may be at most the model's (its lags are model.horizon days old). `plan` (store_id, sku, date,
    promo, price) is required by a model trained with use_plan and ignored otherwise.
    """
    if not 1 <= horizon <= model.horizon:
        raise ValueError(f"horizon must be in 1..{model.horizon} for this model, got {horizon}")
    frame = build_forecast_frame(
        as_spark(history),
        as_of=as_of,
        horizon=model.horizon,
        plan=as_spark(plan) if plan is not None and model.params.use_plan else None,
    )
    feats = frame.where(F.col("date") <= F.lit(as_of + timedelta(days=horizon))).toPandas()
    preds = model.predict_frame(feats)
    out = pd.concat([feats[KEY], preds], axis=1)
    return out.sort_values(KEY, ignore_index=True)[list(FORECAST_COLUMNS)]


def baseline_forecast(
    kind: BaselineKind,
    history: pd.DataFrame | DataFrame,
    *,
    as_of: date,
    horizon: int,
    window: int = 28,
    season: int = 7,
    season_cycles: int = 4,
) -> pd.DataFrame:
    """store_id, sku, date, mean of a baseline for days as_of+1 .. as_of+horizon.

    moving_average: mean observed units of the last `window` days. seasonal_naive: the latest observed value of
    the same phase (weekday for season=7) within the last `season_cycles` seasons, else the moving average.
    Stock-out days are skipped, never read as zero demand.
    """
    if kind not in ("seasonal_naive", "moving_average"):
        raise ValueError(f"unknown baseline {kind!r}")
    lookback = max(window, season * season_cycles)
    obs = _window_pandas(history, as_of - timedelta(days=lookback), as_of)
    recent = obs.loc[obs["date"] > as_of - timedelta(days=window)]
    level = recent.groupby(SERIES)["obs"].mean().rename("level")
    series = obs[SERIES].drop_duplicates().join(level, on=SERIES)
    series["level"] = series["level"].fillna(0.0)
    days = [as_of + timedelta(days=k) for k in range(1, horizon + 1)]
    grid = series.merge(pd.DataFrame({"date": days}), how="cross")
    if kind == "moving_average":
        return grid.rename(columns={"level": "mean"}).sort_values(KEY, ignore_index=True)[[*KEY, "mean"]]
    seen = obs.dropna(subset=["obs"])
    seen = seen.assign(phase=[(as_of - d).days % season for d in seen["date"]])
    last = seen.sort_values("date").groupby([*SERIES, "phase"], as_index=False).last()[[*SERIES, "phase", "obs"]]
    grid["phase"] = np.array([(as_of - d).days % season for d in grid["date"]])
    out = grid.merge(last, on=[*SERIES, "phase"], how="left")
    out["mean"] = out["obs"].fillna(out["level"])
    return out.sort_values(KEY, ignore_index=True)[[*KEY, "mean"]]
