"""Churn wired into the shared wrappers: candidates, evaluation on the comparison window, gold.churn_scores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.common.config import ConfigError
from jobs.common.config.ml import ChurnSettings, ModelConfig, RiskBand
from ml.models.churn import model as churn
from ml.training.customers import CustomerAdapter
from ml.training.handoff import Bounded
from ml.validation.metrics import classification

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ml.serving.pyfunc import Predictor

OUTPUT_COLUMNS = [
    "customer_id",
    "as_of",
    "horizon_days",
    "churn_probability",
    "risk_band",
    "top_reasons",
    "model_name",
    "model_version",
    "run_id",
]


class RecencyBaseline:
    """Days since the last purchase as the churn score: compared against, never served."""

    input_columns = ["bg_x", "bg_t_x", "bg_T"]


def risk_band(probability: Column, bands: Sequence[RiskBand]) -> Column:
    """The first band (highest min_probability first) whose min_probability <= probability."""
    ordered = sorted(bands, key=lambda b: -b.min_probability)
    if not ordered:
        raise ConfigError("config 'ml.models.churn.risk_bands' is empty")
    expr = None
    for band in ordered:
        hit = probability >= F.lit(band.min_probability)
        expr = F.when(hit, F.lit(band.name)) if expr is None else expr.when(hit, F.lit(band.name))
    return expr


def churned(frame: pd.DataFrame) -> np.ndarray:
    """The label: no purchase in the label window."""
    return (frame["label_purchases"].to_numpy() == 0).astype(int)


class ChurnAdapter(CustomerAdapter):
    name = "churn"
    settings: ChurnSettings
    table = "gold.churn_scores"
    output_ddl = "churn_probability double, top_reasons array<string>"
    baselines = {"baseline_bgnbd": ModelConfig("bgnbd"), "baseline_recency": ModelConfig("recency")}
    servable_baselines = ("baseline_bgnbd",)
    fallback = ModelConfig("bgnbd")
    monitored_outputs = ("churn_probability",)

    def fit(self, config: ModelConfig, data: Bounded, horizon_days: int) -> Predictor | RecencyBaseline:
        frame = data.frame
        if config.kind == "lgbm":
            features = self.features(frame)
            return churn.train(
                frame.loc[:, features],
                churned(frame),
                config.params,
                top_reasons=self.settings.top_reasons,
            )
        if config.kind == "bgnbd":
            return churn.fit_probabilistic(frame, horizon_days=horizon_days)
        if config.kind == "recency":
            return RecencyBaseline()
        raise ConfigError(f"config 'ml.models.churn': unknown model kind '{config.kind}' (lgbm, bgnbd)")

    def evaluate(self, config: ModelConfig, predictor: Any, data: Bounded) -> dict[str, float]:
        frame = data.frame
        if isinstance(predictor, RecencyBaseline):
            return classification(churn.recency_score(frame), churned(frame), is_probability=False)
        return classification(predictor.predict_proba(frame), churned(frame), is_probability=True)

    def finish(self, scored: DataFrame, *, as_of: date, horizon_days: int) -> DataFrame:
        bands = self.settings.risk_bands
        return scored.withColumn("horizon_days", F.lit(int(horizon_days))).withColumn(
            "risk_band", risk_band(F.col("churn_probability"), bands)
        )

    def output_columns(self) -> list[str]:
        return list(OUTPUT_COLUMNS)
