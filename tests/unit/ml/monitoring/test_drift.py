"""ml/monitoring: histograms and PSI in Spark, the noise level, judging realized metrics, the retrain reason."""

from __future__ import annotations

import math
from datetime import date

import pytest

from jobs.common.config.ml import MonitoringSettings, RealizedRule
from ml.monitoring.drift import Histogram, histograms_spark, psi, quantile_edges_spark
from ml.monitoring.monitor import drift_checks, judge, noise_psi
from ml.monitoring.reason import retrain_reason

SETTINGS = MonitoringSettings(
    bins=10,
    psi_warn=0.1,
    psi_alert=0.25,
    noise_p=0.001,
    missing_increase=0.1,
    min_rows=100,
    clock_features=("tenure_days",),
    retrain_on=("feature_drift", "realized"),
    trigger_retrain=True,
)


def _frame(spark, values):
    return spark.createDataFrame([(None if v is None else float(v),) for v in values], "x double")


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    small, large = psi([0.5, 0.5], [0.45, 0.55]), psi([0.5, 0.5], [0.1, 0.9])
    assert 0 < small < 0.05 < 0.25 < large
    expected = (0.1 - 0.5) * math.log(0.1 / 0.5) + (0.9 - 0.5) * math.log(0.9 / 0.5)
    assert large == pytest.approx(expected)
    assert psi([1.0, 0.0], [0.0, 1.0]) == pytest.approx(2 * (1 - 1e-4) * math.log(1 / 1e-4))  # floored shares
    with pytest.raises(ValueError, match="different bins"):
        psi([1.0], [0.5, 0.5])


def test_edges_avoid_point_masses_and_rounding_noise(spark) -> None:
    # a price at 0.8 of its normal stored with rounding noise, and at the normal price: two values, one edge between
    values = [0.79994, 0.79997, 0.79999, 0.80001] * 40 + [1.0] * 40
    edges = quantile_edges_spark(_frame(spark, values), ["x"], bins=10)["x"]
    assert edges == (pytest.approx(0.9),)
    hist = histograms_spark(_frame(spark, [*values, None, float("nan")]), {"x": edges})["x"]
    assert hist.shares == pytest.approx((0.8, 0.2)) and hist.rows == 202 and hist.missing == pytest.approx(2 / 202)


def test_a_shift_alerts_beyond_the_noise_and_small_frames_need_more(spark) -> None:
    base = list(range(1000))
    edges = quantile_edges_spark(_frame(spark, base), ["x"], bins=10)
    ref = histograms_spark(_frame(spark, base), edges)["x"]
    shifted = histograms_spark(_frame(spark, [v * 0.6 for v in base]), edges)["x"]
    same = histograms_spark(_frame(spark, [v + 0.5 for v in base]), edges)["x"]
    [alert, *_] = drift_checks(
        "feature_drift", {"x": ref}, {"x": shifted}, SETTINGS, reference_as_of=None, missing=True
    )
    [quiet, missing] = drift_checks(
        "feature_drift", {"x": ref}, {"x": same}, SETTINGS, reference_as_of=None, missing=True
    )
    assert alert.status == "alert" and alert.value > 0.25 and alert.threshold == 0.25
    assert quiet.status == "ok" and missing.check == "missing" and missing.status == "ok"
    # 10 bins of 120 rows on each side: chance alone passes 0.25 at p = 0.001, so the bar rises to the noise level
    small = Histogram(tuple(range(9)), (0.1,) * 10, 0.0, 120)
    assert noise_psi(small, small, 0.001) > 0.25 > noise_psi(ref, ref, 0.001)
    unjudged = drift_checks(
        "feature_drift",
        {"x": ref},
        {"x": shifted},
        SETTINGS,
        reference_as_of=None,
        missing=False,
        unjudged={"x": "moves with the calendar"},
    )
    assert [(c.status, c.detail.endswith("not judged: moves with the calendar")) for c in unjudged] == [("warn", True)]


def test_missing_share_and_min_rows(spark) -> None:
    ref = Histogram((1.0,), (0.5, 0.5), 0.0, 500)
    holes = Histogram((1.0,), (0.5, 0.5), 0.3, 500)
    checks = drift_checks("feature_drift", {"x": ref}, {"x": holes}, SETTINGS, reference_as_of=None, missing=True)
    assert [(c.check, c.status) for c in checks] == [("feature_drift", "ok"), ("missing", "alert")]
    tiny = Histogram((1.0,), (0.5, 0.5), 0.0, 20)
    [skipped] = drift_checks("feature_drift", {"x": ref}, {"x": tiny}, SETTINGS, reference_as_of=None, missing=True)
    assert skipped.status == "skipped" and "min_rows" in skipped.detail


def test_judge_realized_metrics_against_validation_and_guards() -> None:
    auc = RealizedRule(metric="auc", higher_is_better=True, tolerance=0.05, relative=False, guards={"ece": 0.1})
    assert judge(auc, "auc", 0.70, 0.78)[0] == "alert" and judge(auc, "auc", 0.75, 0.78)[0] == "ok"
    assert judge(auc, "ece", 0.12, None)[:2] == ("alert", 0.1) and judge(auc, "ece", 0.05, None)[0] == "ok"
    assert judge(auc, "auc", 0.5, None)[0] == "ok"  # a label-free version has no validation value: reported
    assert judge(auc, "precision", 0.1, 0.9)[0] == "ok"  # not the rule's metric: reported
    wape = RealizedRule(metric="wape_store_sku", higher_is_better=False, tolerance=0.25, relative=True)
    status, limit, _ = judge(wape, "wape_store_sku", 0.9, 0.7)
    assert status == "alert" and limit == pytest.approx(0.875)


def test_retrain_reason_names_the_alerts_of_the_configured_checks() -> None:
    def row(model: str, check: str, subject: str, status: str) -> dict:
        detail = f"{subject} detail"
        return {
            "as_of": date(2025, 4, 2),
            "model": model,
            "model_version": "3",
            "check": check,
            "subject": subject,
            "status": status,
            "value": 0.5,
            "detail": detail,
        }

    rows = [
        row("demand", "feature_drift", "mean_7", "alert"),
        row("demand", "realized", "abs_bias", "alert"),
        row("demand", "prediction_drift", "mean", "alert"),  # not in retrain_on
        row("churn", "feature_drift", "orders_30d", "warn"),
    ]
    reason = retrain_reason(rows, SETTINGS.retrain_on)
    assert reason == (
        "monitoring 2025-04-02: demand v3 feature_drift mean_7: mean_7 detail, realized abs_bias: abs_bias detail"
    )
    assert retrain_reason(rows[2:], SETTINGS.retrain_on) == ""


def test_demand_realized_errors_on_the_days_that_have_happened(spark) -> None:
    """Forecasts made as of 04-01 for 04-02 .. 04-04, monitored on 04-03: two days have happened; a stock-out day
    (units unknown) and the day not yet come are left out."""
    from ml.models.demand.adapter import realized_errors

    forecasts = spark.createDataFrame(
        [
            ("S1", "A", date(2025, 4, 2), 4.0),
            ("S1", "B", date(2025, 4, 2), 2.0),
            ("S1", "A", date(2025, 4, 3), 4.0),
            ("S1", "B", date(2025, 4, 3), 2.0),
            ("S1", "A", date(2025, 4, 4), 4.0),
        ],
        "store_id string, sku string, date date, mean double",
    )
    actual = spark.createDataFrame(
        [
            ("S1", "A", date(2025, 4, 2), 2),
            ("S1", "B", date(2025, 4, 2), 2),
            ("S1", "A", date(2025, 4, 3), 1),
            ("S1", "B", date(2025, 4, 3), None),  # a stock-out: unknown
            ("S1", "A", date(2025, 4, 4), 9),  # after the monitoring date
        ],
        "store_id string, sku string, date date, units int",
    )
    out = realized_errors(forecasts, actual, origin=date(2025, 4, 1), until=date(2025, 4, 3))
    # cells: (4 vs 2), (2 vs 2), (4 vs 1): abs error 5, error +5, units 5; daily totals (6 vs 4), (4 vs 1)
    assert out == pytest.approx(
        {
            "wape": 1.0,
            "wape_store_sku": 1.0,
            "bias_store_sku": 1.0,
            "abs_bias": 1.0,
            "wape_total": 1.0,
            "bias_total": 1.0,
            "rows": 3.0,
            "days": 2.0,
        }
    )
