"""LTV models on planted-signal histories (pandas only)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from ml.models.ltv import model as ltv
from ml.training.frames import feature_columns
from ml.validation.metrics import count_errors
from tests.support.synthetic import Planted, customer_frame, simulate

START, DAYS, H = date(2025, 1, 1), 200, 30
PARAMS = {
    "num_boost_round": 200,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "seed": 17,
    "num_threads": 1,
}


@pytest.fixture(scope="module")
def frames():
    sim = simulate(Planted(customers=3000, days=DAYS), start=START, seed=5)
    end = START + timedelta(days=DAYS - 1)
    return (
        customer_frame(sim, as_of=end - timedelta(days=2 * H), horizon_days=H),
        customer_frame(sim, as_of=end - timedelta(days=H), horizon_days=H),
    )


def test_probabilistic_ltv_predicts_purchases_p_alive_and_revenue(frames):
    fit, evaluation = frames
    model = ltv.fit_probabilistic(fit, horizon_days=H)
    out = model.predict_frame(evaluation)
    assert list(out.columns) == ltv.OUTPUT_COLUMNS
    assert out["p_alive"].between(0, 1).all() and (out["expected_purchases"] >= 0).all()
    assert np.isfinite(out["expected_revenue"]).all() and (out["expected_revenue"] >= 0).all()
    errors = count_errors(out["expected_purchases"], evaluation["label_purchases"], prefix="purchases")
    assert errors["total_purchases_error"] < 0.25


def test_lightgbm_ltv_beats_the_probabilistic_model_on_the_planted_signal(frames):
    fit, evaluation = frames
    features = feature_columns(list(fit.columns))
    model = ltv.train(fit[features], fit[["label_purchases", "label_revenue"]], PARAMS)
    out = model.predict_frame(evaluation)
    assert out["p_alive"].isna().all()
    ours = count_errors(out["expected_purchases"], evaluation["label_purchases"], prefix="purchases")
    base = count_errors(
        ltv.fit_probabilistic(fit, horizon_days=H).predict_frame(evaluation)["expected_purchases"],
        evaluation["label_purchases"],
        prefix="purchases",
    )
    assert ours["mae_purchases"] < 0.95 * base["mae_purchases"], (ours, base)
    assert ours["total_purchases_error"] < 0.15


def test_a_no_dropout_boundary_fit_still_gives_finite_expectations():
    from ml.models.ltv.probabilistic import BgNbdParams

    params = BgNbdParams(r=0.94, alpha=14.6, a=78485.0, b=1e6)  # what a 60-day history fitted to
    model = ltv.ProbabilisticLtv(
        bgnbd=params, spend=None, mean_spend=50.0, horizon_days=30, input_columns=ltv.SUMMARY_INPUTS
    )
    frame = pd.DataFrame({"bg_x": [0.0, 3.0], "bg_t_x": [0.0, 9.0], "bg_T": [20.0, 40.0], "bg_m_x": [np.nan, 40.0]})
    out = model.predict_frame(frame)
    assert np.isfinite(out.to_numpy()).all()
    expected = (0.94 + frame["bg_x"]) * 30 / (14.6 + frame["bg_T"]) * out["p_alive"]
    np.testing.assert_allclose(out["expected_purchases"], expected, rtol=1e-3)
