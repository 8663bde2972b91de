"""MLflow pyfunc wrapper of the demand model: predict(feature frame) -> mean, p10, p50, p90.

Log it with the model directory as an artifact (no pickled booster, so the logged model survives library
upgrades that keep LightGBM's text format):

    artifacts = demand_artifacts(model, tmp_dir)
    mlflow.pyfunc.log_model(name="demand", python_model=DemandPyfunc(), artifacts=artifacts,
                            signature=infer_signature(sample, model.predict_frame(sample)), input_example=sample)

where `sample` is a few rows of build_forecast_frame(...).toPandas(). The input is that feature frame (keys,
category, horizon, features; extra columns are ignored); the output has the input's index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from ml.models.demand.model import DemandModel

ARTIFACT_KEY = "demand_model"


def demand_artifacts(model: DemandModel, directory: str | Path) -> dict[str, str]:
    """Save `model` under `directory` and return the artifacts mapping for log_model / save_model."""
    model.save(directory)
    return {ARTIFACT_KEY: str(directory)}


class DemandPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the saved DemandModel from the `demand_model` artifact; stateless otherwise."""

    def __init__(self) -> None:
        self._model: DemandModel | None = None

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self._model = DemandModel.load(context.artifacts[ARTIFACT_KEY])

    @property
    def predictor(self) -> DemandModel | None:
        """The loaded model (what monitoring re-applies with the adapter's evaluate)."""
        return self._model

    def predict(
        self, context: mlflow.pyfunc.PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        if self._model is None:
            self.load_context(context)
        return self._model.predict_frame(model_input)
