"""LTV wired into the shared wrappers: candidates, evaluation on the comparison window, gold.customer_ltv."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pyspark.sql import functions as F

from jobs.common.config import ConfigError
from jobs.common.config.ml import ModelConfig
from ml.models.ltv import model as ltv
from ml.training.customers import CustomerAdapter
from ml.training.handoff import Bounded
from ml.validation.metrics import count_errors

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ml.serving.pyfunc import Predictor

OUTPUT_COLUMNS = [
    "customer_id",
    "as_of",
    "horizon_days",
    "expected_purchases",
    "p_alive",
    "expected_revenue",
    "model_name",
    "model_version",
    "run_id",
]


class LtvAdapter(CustomerAdapter):
    name = "ltv"
    table = "gold.customer_ltv"
    output_ddl = "expected_purchases double, p_alive double, expected_revenue double"
    baselines = {"baseline_bgnbd_gg": ModelConfig("bgnbd_gg")}
    servable_baselines = ("baseline_bgnbd_gg",)
    fallback = ModelConfig("bgnbd_gg")
    monitored_outputs = ("expected_purchases", "expected_revenue")

    def fit(self, config: ModelConfig, data: Bounded, horizon_days: int) -> Predictor:
        frame = data.frame
        if config.kind == "lgbm":
            features = self.features(frame)
            return ltv.train(frame.loc[:, features], frame.loc[:, ["label_purchases", "label_revenue"]], config.params)
        if config.kind == "bgnbd_gg":
            return ltv.fit_probabilistic(frame, horizon_days=horizon_days)
        raise ConfigError(f"config 'ml.models.ltv': unknown model kind '{config.kind}' (lgbm, bgnbd_gg)")

    def evaluate(self, config: ModelConfig, predictor: Any, data: Bounded) -> dict[str, float]:
        frame = data.frame
        predicted = predictor.predict_frame(frame)
        return {
            **count_errors(
                predicted["expected_purchases"].to_numpy(), frame["label_purchases"].to_numpy(), prefix="purchases"
            ),
            **count_errors(
                predicted["expected_revenue"].to_numpy(), frame["label_revenue"].to_numpy(), prefix="revenue"
            ),
        }

    def finish(self, scored: DataFrame, *, as_of: date, horizon_days: int) -> DataFrame:
        # LightGBM has no P(alive): its NaN becomes null, as the table contract says.
        return scored.withColumn("horizon_days", F.lit(int(horizon_days))).withColumn(
            "p_alive", F.when(~F.isnan("p_alive"), F.col("p_alive"))
        )

    def output_columns(self) -> list[str]:
        return list(OUTPUT_COLUMNS)
