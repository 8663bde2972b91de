"""Compare/serve windows: as-of inclusive, label windows half-open, short history detected."""

from __future__ import annotations

from datetime import date

import pytest

from ml.training.windows import History, HistoryError, label_window, plan_windows

HISTORY = History(first=date(2025, 1, 1), last=date(2025, 6, 30))


def test_windows_place_compare_fit_at_d_minus_2h_and_evaluation_at_d_minus_h():
    w = plan_windows(date(2025, 6, 30), 30, HISTORY, min_history_days=28)
    assert (w.train_as_of, w.eval_as_of) == (date(2025, 5, 1), date(2025, 5, 31))
    assert w.describe()["compare_fit_labels"] == "(2025-05-01, 2025-05-31]"
    assert w.describe()["compare_eval_labels"] == "(2025-05-31, 2025-06-30]"
    assert w.describe()["serve_score_features_as_of"] == "2025-06-30"


def test_too_little_history_for_two_horizons_of_labels_gives_no_windows():
    assert plan_windows(date(2025, 3, 29), 30, HISTORY, min_history_days=28) is None  # D - 2H = Jan 28
    assert plan_windows(date(2025, 3, 30), 30, HISTORY, min_history_days=28) is not None  # D - 2H = Jan 29


def test_an_as_of_after_the_data_is_an_error():
    with pytest.raises(HistoryError, match="before --as-of 2025-07-01"):
        plan_windows(date(2025, 7, 1), 30, HISTORY, min_history_days=28)


def test_label_window_text():
    assert label_window(date(2025, 1, 31), 1) == "(2025-01-31, 2025-02-01]"
