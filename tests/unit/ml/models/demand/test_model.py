"""The global LightGBM demand model on a simulated panel: accuracy vs baselines, quantiles, leakage, MLflow."""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.common.config.ml import DemandFrame, HandOff
from ml.models.demand.backtest import _actuals, _plan, backtest, score_levels
from ml.models.demand.features import KEY, SERIES, build_training_frame
from ml.models.demand.forecast import FORECAST_COLUMNS, baseline_forecast, forecast
from ml.models.demand.model import DemandModel, DemandParams, train_demand
from ml.training.handoff import sample_keys
from tests.support.demand_sim import START, simulate_panel

HORIZON = 28
AS_OF = START + timedelta(days=209)  # 238 simulated days: the last 28 are held out
LATTICE = DemandFrame(origin_step_days=7, origins=20)
_BT = {"horizon": HORIZON, "params": DemandParams(), "lattice": LATTICE}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel().drop(columns=["expected"])


@pytest.fixture(scope="module")
def history(spark, panel):
    return spark.createDataFrame(panel).cache()


@pytest.fixture(scope="module")
def frame(history) -> pd.DataFrame:
    return build_training_frame(
        history, as_of=AS_OF, horizon=HORIZON, anchor=AS_OF, step_days=LATTICE.origin_step_days, origins=LATTICE.origins
    ).toPandas()


@pytest.fixture(scope="module")
def model(frame) -> DemandModel:
    return train_demand(frame, params=DemandParams())


@pytest.fixture(scope="module")
def held_out(history, model) -> pd.DataFrame:
    """Per series-day cells of the model and both baselines on the held-out 28 days."""
    preds = {"lightgbm": forecast(model, history, as_of=AS_OF, horizon=HORIZON)}
    for kind in ("seasonal_naive", "moving_average"):
        preds[kind] = baseline_forecast(kind, history, as_of=AS_OF, horizon=HORIZON)
    actual = _actuals(history, AS_OF, HORIZON)
    return pd.concat(
        [
            actual.merge(p[[*KEY, "mean"]], on=KEY, how="left").assign(model=name, origin=AS_OF)
            for name, p in preds.items()
        ],
        ignore_index=True,
    )


def _wape(cells: pd.DataFrame) -> pd.DataFrame:
    return score_levels(cells).pivot(index="level", columns="model", values="wape")


def test_beats_seasonal_naive_and_moving_average_on_held_out_horizon(held_out):
    wape = _wape(held_out)
    assert (wape["lightgbm"] <= 0.95 * wape["seasonal_naive"]).all(), wape
    assert (wape["lightgbm"] < wape["moving_average"]).all(), wape


def test_stockout_days_are_not_training_targets(panel, frame):
    keyed = panel.assign(date=pd.to_datetime(panel["date"]).dt.date)
    joined = frame.merge(keyed[[*KEY, "stockout", "units"]], on=KEY, how="left", validate="many_to_one")
    assert not joined["stockout"].any()
    assert np.array_equal(joined["target"].to_numpy(), joined["units"].to_numpy())
    assert frame["date"].max() == AS_OF


def test_forecast_shape_and_quantiles(history, model, held_out):
    fc = forecast(model, history, as_of=AS_OF, horizon=7)
    assert list(fc.columns) == list(FORECAST_COLUMNS)
    assert len(fc) == 48 * 7 and not fc.duplicated(KEY).any()
    assert set(fc["date"]) == {AS_OF + timedelta(days=k) for k in range(1, 8)}
    assert (fc["p10"] <= fc["p50"]).all() and (fc["p50"] <= fc["p90"]).all() and (fc["mean"] > 0).all()
    full = forecast(model, history, as_of=AS_OF, horizon=HORIZON).merge(_actuals(history, AS_OF, HORIZON), on=KEY)
    inside = ((full["actual"] >= full["p10"]) & (full["actual"] <= full["p90"])).mean()
    assert 0.7 <= inside <= 0.97, inside
    with pytest.raises(ValueError, match="horizon"):
        forecast(model, history, as_of=AS_OF, horizon=HORIZON + 1)


def test_forecast_ignores_everything_after_as_of(spark, panel, model):
    after = pd.to_datetime(panel["date"]).dt.date > AS_OF
    rng = np.random.default_rng(0)
    changed = panel.assign(
        units=np.where(after, rng.poisson(50, len(panel)), panel["units"]),
        stockout=panel["stockout"] & ~after,
        promo=panel["promo"] | after,
    )
    a = forecast(model, panel, as_of=AS_OF, horizon=HORIZON)  # pandas history goes through the active session
    b = forecast(model, spark.createDataFrame(changed), as_of=AS_OF, horizon=HORIZON)
    pd.testing.assert_frame_equal(a, b)


def test_planned_promotions_help_when_a_plan_is_known(history, frame, held_out):
    planned = train_demand(frame, params=DemandParams(use_plan=True))
    with pytest.raises(ValueError, match="plan"):
        forecast(planned, history, as_of=AS_OF, horizon=HORIZON)
    fc = forecast(planned, history, as_of=AS_OF, horizon=HORIZON, plan=_plan(history, AS_OF, HORIZON))
    cells = _actuals(history, AS_OF, HORIZON).merge(fc[[*KEY, "mean"]], on=KEY).assign(model="plan", origin=AS_OF)
    wape = _wape(pd.concat([held_out, cells]))
    assert (wape["plan"] < wape["lightgbm"]).all(), wape


def test_backtest_reports_every_model_and_level(history):
    result = backtest(history, origins=[AS_OF - timedelta(days=28), AS_OF], **_BT)
    assert list(result.columns) == ["model", "level", "wape", "bias", "wall_s"]
    assert set(result["model"]) == {"lightgbm", "seasonal_naive", "moving_average", "ets"}
    assert (result["wall_s"] > 0).all()
    assert set(result["level"]) == {"total", "category", "store", "sku", "store_sku"}
    wape = result.pivot(index="level", columns="model", values="wape")
    assert (wape["lightgbm"] <= 0.95 * wape["seasonal_naive"]).all(), wape
    assert result["bias"].abs().max() < 1.0


def test_backtest_under_a_row_cap_scores_a_sample_of_whole_series(spark, history, panel):
    """With ml.handoff limits below the history's rows, the backtest is the backtest of the kept series alone:
    whole series, their rows under the cap."""
    limits = HandOff(max_rows=len(panel) // 2, seed=3)
    capped = backtest(history, origins=[AS_OF], **_BT, limits=limits)
    kept = sample_keys(history, key=SERIES, limits=limits, rows=len(panel)).select(*SERIES).distinct().toPandas()
    rows = panel.merge(kept, on=SERIES, how="inner")
    assert len(rows) <= limits.max_rows and 0 < len(kept) < panel[SERIES].drop_duplicates().shape[0]
    assert rows.groupby(SERIES).size().eq(panel.groupby(SERIES).size().loc[pd.MultiIndex.from_frame(kept)]).all()
    alone = backtest(spark.createDataFrame(rows), origins=[AS_OF], **_BT)
    pd.testing.assert_frame_equal(capped.drop(columns="wall_s"), alone.drop(columns="wall_s"), rtol=1e-6)


def test_save_load_and_mlflow_pyfunc_round_trip(tmp_path, history, model):
    import mlflow.pyfunc

    from ml.models.demand.features import build_forecast_frame
    from ml.models.demand.pyfunc import DemandPyfunc, demand_artifacts

    feats = build_forecast_frame(history, as_of=AS_OF, horizon=HORIZON).limit(50).toPandas()
    expected = model.predict_frame(feats)
    pd.testing.assert_frame_equal(DemandModel.load(_saved(model, tmp_path / "m")).predict_frame(feats), expected)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(model)).predict_frame(feats), expected)
    assert model.predict_frame(feats.iloc[:0]).empty
    mlflow.pyfunc.save_model(
        str(tmp_path / "pyfunc"), python_model=DemandPyfunc(), artifacts=demand_artifacts(model, tmp_path / "artifact")
    )
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "pyfunc"))
    pd.testing.assert_frame_equal(loaded.predict(feats), expected)


def _saved(model: DemandModel, path: Path) -> Path:
    model.save(path)
    return path
