"""The per-series exponential-smoothing baseline: one row per series and horizon day, blind to rows after the
origin, weekly-shaped where the history is, and robust to zero, constant, unknown and failing series."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

import ml.models.demand.ets as ets
from ml.models.demand.ets import EtsSettings, ets_forecast, ets_forecast_many

ORIGIN = date(2024, 6, 30)  # a Sunday
DAYS = 140
SETTINGS = EtsSettings()
WEEKDAY_MEANS = np.array([2.0, 2.0, 2.0, 2.0, 3.0, 6.0, 7.0])  # Mon..Sun


def _series(store: str, sku: str, units: np.ndarray, end: date = ORIGIN) -> pd.DataFrame:
    days = [end - timedelta(days=len(units) - 1 - i) for i in range(len(units))]
    return pd.DataFrame({"store_id": store, "sku": sku, "date": days, "units": units.astype(float)})


def _history(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weekday = np.array([(ORIGIN - timedelta(days=DAYS - 1 - i)).weekday() for i in range(DAYS)])
    return pd.concat(
        [
            _series("S1", "weekly", rng.poisson(WEEKDAY_MEANS[weekday])),
            _series("S1", "zeros", np.zeros(DAYS)),
            _series("S2", "short", rng.poisson(1.5, 20)),
        ],
        ignore_index=True,
    )


def _by_sku(forecast: pd.DataFrame, sku: str) -> pd.Series:
    rows = forecast.loc[forecast["sku"] == sku]
    return pd.Series(rows["mean"].to_numpy(), index=rows["date"].to_numpy())


def test_one_row_per_series_and_horizon_day() -> None:
    out = ets_forecast(_history(), origin=ORIGIN, horizon=14, settings=SETTINGS)
    assert list(out.columns) == ["store_id", "sku", "date", "mean"]
    keys = [("S1", "weekly"), ("S1", "zeros"), ("S2", "short")]
    expected = pd.DataFrame(
        [(s, k, ORIGIN + timedelta(days=d)) for s, k in sorted(keys) for d in range(1, 15)],
        columns=["store_id", "sku", "date"],
    )
    pd.testing.assert_frame_equal(out.loc[:, ["store_id", "sku", "date"]], expected)
    assert (out["mean"] >= 0).all() and np.isfinite(out["mean"]).all()
    assert out.attrs["ets"] == {"series": 3, "seasonal": 1, "simple": 1, "zero": 1, "constant": 0, "fallback": 0}


def test_rows_after_the_origin_are_never_read() -> None:
    history = _history()
    later = pd.concat(
        [
            history,
            _series("S1", "weekly", np.full(10, 500.0), end=ORIGIN + timedelta(days=10)).iloc[-10:],
            _series("S9", "new", np.full(5, 9.0), end=ORIGIN + timedelta(days=5)),
        ],
        ignore_index=True,
    )
    before = ets_forecast(history, origin=ORIGIN, horizon=7, settings=SETTINGS)
    pd.testing.assert_frame_equal(ets_forecast(later, origin=ORIGIN, horizon=7, settings=SETTINGS), before)


def test_a_weekly_history_gets_a_weekly_forecast() -> None:
    out = ets_forecast(_history(), origin=ORIGIN, horizon=14, settings=SETTINGS)
    path = _by_sku(out, "weekly")
    weekday = np.array([d.weekday() for d in path.index])
    weekend, midweek = path[weekday >= 5], path[weekday <= 3]
    assert weekend.min() > midweek.max() + 2.0
    assert path.mean() == pytest.approx(WEEKDAY_MEANS.mean(), rel=0.2)
    flat = ets_forecast(_history(), origin=ORIGIN, horizon=14, settings=EtsSettings(seasonal=False))
    assert np.ptp(_by_sku(flat, "weekly").to_numpy()) == pytest.approx(0.0)


def test_all_zero_series_forecast_zero_and_missing_days_count_as_zero() -> None:
    every_other_day = _series("S1", "sparse", np.full(DAYS, 2.0)).iloc[::2]
    out = ets_forecast(pd.concat([_history(), every_other_day]), origin=ORIGIN, horizon=7, settings=SETTINGS)
    assert (_by_sku(out, "zeros") == 0.0).all()
    assert _by_sku(out, "sparse").mean() == pytest.approx(1.0, abs=0.3)


def test_unknown_days_are_filled_from_known_ones() -> None:
    steady = np.full(DAYS, 3.0)
    steady[40:60] = np.nan  # a stock-out run
    history = pd.concat([_series("S1", "steady", steady), _series("S1", "unknown", np.full(DAYS, np.nan))])
    out = ets_forecast(history, origin=ORIGIN, horizon=7, settings=SETTINGS)
    assert _by_sku(out, "steady").to_numpy() == pytest.approx(np.full(7, 3.0))
    assert (_by_sku(out, "unknown") == 0.0).all()
    assert out.attrs["ets"]["constant"] == 1 and out.attrs["ets"]["zero"] == 1


def test_a_fit_that_raises_falls_back_to_the_window_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise np.linalg.LinAlgError("singular")

    monkeypatch.setattr(ets, "ExponentialSmoothing", broken)
    history = _history()
    out = ets_forecast(history, origin=ORIGIN, horizon=7, settings=SETTINGS)
    weekly = history.loc[history["sku"] == "weekly", "units"]
    assert _by_sku(out, "weekly").to_numpy() == pytest.approx(np.full(7, weekly.mean()))
    assert out.attrs["ets"]["fallback"] == 1


def test_deterministic_and_many_origins_stack_single_ones() -> None:
    history = _history(seed=3)
    origins = [ORIGIN - timedelta(days=21), ORIGIN]
    many = ets_forecast_many(history, origins=origins, horizon=7, settings=SETTINGS)
    assert list(many.columns) == ["origin", "store_id", "sku", "date", "mean"]
    singles = pd.concat(
        [ets_forecast(history, origin=o, horizon=7, settings=SETTINGS).assign(origin=o) for o in origins],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(many, singles.loc[:, many.columns])
    pd.testing.assert_frame_equal(many, ets_forecast_many(history, origins=origins, horizon=7, settings=SETTINGS))
    assert many.attrs["ets"]["series"] == 5  # "short" starts 20 days before ORIGIN: absent at the first origin
