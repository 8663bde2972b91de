"""Demand wiring pieces that are pure: origin-anchored baselines, the ETS loop and the gate's forecast errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.demand.adapter import fit_baseline, forecast_errors

FRAME = pd.DataFrame(
    {
        "same_weekday_last": [4.0, np.nan, np.nan],
        "weekday_mean_8": [3.0, 2.5, np.nan],
        "mean_28": [2.0, 2.0, 1.0],
        "target": [5.0, 2.0, 0.0],
    }
)


def test_seasonal_naive_falls_back_from_the_weekday_lag_to_longer_means():
    model = fit_baseline("seasonal_naive", FRAME)
    np.testing.assert_array_equal(model.mean(FRAME), [4.0, 2.5, 1.0])
    np.testing.assert_array_equal(fit_baseline("moving_average", FRAME).mean(FRAME), [2.0, 2.0, 1.0])
    out = model.predict_frame(FRAME)
    assert list(out.columns) == ["mean", "p10", "p50", "p90"]
    assert (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()


def test_an_unknown_baseline_is_a_config_error():
    with pytest.raises(ValueError, match="unknown baseline 'naive'"):
        fit_baseline("naive", FRAME)


def test_forecast_errors():
    predicted = pd.DataFrame({"mean": [4.0, 2.0, 1.0], "p10": [2.0, 1.0, 0.0], "p90": [6.0, 3.0, 2.0]})
    rows = pd.DataFrame(
        {
            "store_id": ["s1", "s2", "s1"],
            "sku": ["a", "a", "b"],
            "category": ["c", "c", None],
            "date": ["2025-01-02"] * 3,
            "target": [5.0, 2.0, 3.0],
        }
    )
    errors = forecast_errors(predicted, rows)
    assert errors["wape"] == pytest.approx(3.0 / 10.0)
    assert errors["bias"] == pytest.approx(-3.0 / 10.0) and errors["abs_bias"] == pytest.approx(0.3)
    assert errors["coverage_80"] == pytest.approx(2 / 3)
    assert errors["wape_store_sku"] == pytest.approx(errors["wape"])
    assert errors["wape_total"] == pytest.approx(3.0 / 10.0)  # 7 forecast vs 10 sold on the one day
    assert errors["wape_store"] == pytest.approx((abs(5 - 8) + abs(2 - 2)) / 10.0)
    assert errors["wape_sku"] == pytest.approx((abs(6 - 7) + abs(1 - 3)) / 10.0)


def test_the_ets_loop_predicts_feature_rows_of_each_origin_from_the_history_up_to_it():
    from datetime import date, timedelta

    from ml.models.demand.adapter import EtsDemand
    from ml.models.demand.ets import EtsSettings

    start = date(2025, 1, 6)
    days = [start + timedelta(days=i) for i in range(70)]
    history = pd.DataFrame(
        {"store_id": "s1", "sku": "a", "date": days, "units": [10.0 if i < 63 else 1000.0 for i in range(70)]}
    )
    model = EtsDemand(history=history, settings=EtsSettings(), horizon=2, dispersion=0.1)
    origin = days[62]
    rows = pd.DataFrame(
        {
            "store_id": ["s1", "s1", "s2"],
            "sku": ["a", "a", "a"],
            "origin": [origin, origin, origin],
            "date": [origin + timedelta(days=1), origin + timedelta(days=2), origin + timedelta(days=1)],
        }
    )
    out = model.predict_frame(rows)
    np.testing.assert_allclose(out["mean"].to_numpy(), [10.0, 10.0, 0.0], atol=1e-6)  # nothing after the origin
    assert (out["p10"] <= out["p90"]).all()
