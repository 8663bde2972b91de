"""The shared half of the customer-level adapters (LTV, churn): frames, hand-off, score frame."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from ml.training.adapter import BaseAdapter
from ml.training.frames import KEY, CustomerSource, feature_columns
from ml.training.handoff import Bounded, to_pandas_bounded

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from jobs.common.config.ml import ModelSettings
    from ml.training.adapter import MlEnv
    from ml.training.windows import History


class CustomerAdapter(BaseAdapter):
    """Frames keyed by customer_id; output rows keyed by (customer_id, as_of, horizon_days)."""

    key = (KEY,)

    def __init__(self, env: MlEnv, settings: ModelSettings) -> None:
        super().__init__(env, settings)
        self.source = CustomerSource(env.catalog, env.cfg, buckets=env.settings.summary_buckets)

    def history(self) -> History:
        return self.source.history()

    def load(self, as_of: date, label_days: int | None, *, horizon_days: int) -> Bounded:
        frame = self.source.frame(as_of, label_days=label_days)
        return to_pandas_bounded(
            frame, key=self.key, limits=self.env.settings.handoff, what=f"{self.settings.name}@{as_of}"
        )

    def score_frame(self, as_of: date) -> DataFrame:
        return self.source.frame(as_of)

    def monitor_frame(self, as_of: date) -> DataFrame:
        return self.score_frame(as_of)

    def monitored_features(self, columns: list[str]) -> list[str]:
        return feature_columns(columns)

    @staticmethod
    def features(frame: pd.DataFrame) -> list[str]:
        return feature_columns(list(frame.columns))
