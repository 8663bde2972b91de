"""The time windows of one training run. As-of dates are inclusive; a label window (a, a + H] excludes a."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Windows:
    """Compare: fit at `train_as_of` on labels (train_as_of, eval_as_of], measure at `eval_as_of` on labels
    (eval_as_of, as_of]. Serve: refit at `eval_as_of` on labels (eval_as_of, as_of], score at `as_of`."""

    as_of: date
    horizon_days: int
    train_as_of: date
    eval_as_of: date

    def describe(self) -> dict[str, str]:
        return {
            "as_of": self.as_of.isoformat(),
            "horizon_days": str(self.horizon_days),
            "compare_fit_features_as_of": self.train_as_of.isoformat(),
            "compare_fit_labels": label_window(self.train_as_of, self.horizon_days),
            "compare_eval_features_as_of": self.eval_as_of.isoformat(),
            "compare_eval_labels": label_window(self.eval_as_of, self.horizon_days),
            "serve_fit_features_as_of": self.eval_as_of.isoformat(),
            "serve_fit_labels": label_window(self.eval_as_of, self.horizon_days),
            "serve_score_features_as_of": self.as_of.isoformat(),
        }


def label_window(start: date, days: int) -> str:
    """The half-open label window (start, start + days] as text."""
    return f"({start.isoformat()}, {(start + timedelta(days=days)).isoformat()}]"


@dataclass(frozen=True)
class History:
    """What the data allows: the first and last business dates with sales."""

    first: date
    last: date


class HistoryError(ValueError):
    """The data cannot support the requested as-of date (e.g. it ends before it)."""


def plan_windows(as_of: date, horizon_days: int, history: History, *, min_history_days: int) -> Windows | None:
    """The compare/serve windows, or None when the history is too short for 2H of labels after
    `min_history_days` of features (then only a label-free model may serve)."""
    if horizon_days < 1:
        raise HistoryError(f"horizon must be at least one day, got {horizon_days}")
    if history.last < as_of:
        raise HistoryError(f"sales end on {history.last}, before --as-of {as_of}: labels up to {as_of} do not exist")
    train_as_of = as_of - timedelta(days=2 * horizon_days)
    if train_as_of < history.first + timedelta(days=min_history_days):
        return None
    return Windows(
        as_of=as_of, horizon_days=horizon_days, train_as_of=train_as_of, eval_as_of=as_of - timedelta(days=horizon_days)
    )


def short_history_message(as_of: date, horizon_days: int, history: History, min_history_days: int) -> str:
    needed = history.first + timedelta(days=min_history_days + 2 * horizon_days)
    return (
        f"history too short for an honest comparison at {as_of} with H={horizon_days}: sales start on "
        f"{history.first}, {min_history_days} days of features plus 2H of labels need --as-of >= {needed}"
    )
