"""Models as MLflow pyfunc: log a pure predictor with signature and input example, apply one in Spark.

A predictor is any picklable object with `input_columns` (list[str]) and `predict_frame(pd.DataFrame) ->
pd.DataFrame`; ServingModel wraps it so every model kind loads and predicts the same way. Scoring applies the
loaded pyfunc with mapInPandas (the model travels in the task closure, no MLflow call on executors), which
also carries array outputs such as churn's top reasons.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, Protocol

import mlflow
import pandas as pd

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel
    from pyspark.sql import DataFrame

_REQUIREMENTS = ("mlflow", "lightgbm", "scikit-learn", "scipy", "numpy", "pandas", "cloudpickle")


class Predictor(Protocol):
    input_columns: list[str]

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame: ...


class ServingModel(mlflow.pyfunc.PythonModel):
    """The pyfunc face of a pure predictor."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        return self.predictor.predict_frame(model_input)


def pip_requirements() -> list[str]:
    """Pinned to what runs here: no dependency inference subprocess at log time."""
    return [f"{name}=={version(name)}" for name in _REQUIREMENTS]


def log_serving_model(predictor: Predictor, example: pd.DataFrame, *, registered_name: str) -> str:
    """Log `predictor` as the active run's `model` (signature + input example) and register it; the version."""
    from mlflow.models import infer_signature

    example = example.loc[:, predictor.input_columns].head(5).reset_index(drop=True)
    signature = infer_signature(example, predictor.predict_frame(example))
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=ServingModel(predictor),
        signature=signature,
        input_example=example,
        pip_requirements=pip_requirements(),
        registered_model_name=registered_name,
    )
    return str(info.registered_model_version)


def load(uri: str) -> PyFuncModel:
    return mlflow.pyfunc.load_model(uri)


def model_inputs(model: PyFuncModel) -> list[str]:
    return list(model.metadata.get_input_schema().input_names())


def apply_model(df: DataFrame, model: PyFuncModel, *, key: Sequence[str], output_ddl: str) -> DataFrame:
    """`key` columns plus the model's outputs (Spark DDL `output_ddl`) for every row of `df`, in Spark."""
    inputs = model_inputs(model)
    missing = sorted(set(inputs) - set(df.columns))
    if missing:
        raise ValueError(f"the scoring frame lacks the model's input columns {missing}")
    keys = list(key)
    key_ddl = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in df.select(*keys).schema.fields)

    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            out = model.predict(batch.loc[:, inputs]).reset_index(drop=True)
            yield pd.concat([batch.loc[:, keys].reset_index(drop=True), out], axis=1)

    columns = [*keys, *[c for c in inputs if c not in keys]]
    return df.select(*columns).mapInPandas(predict, schema=f"{key_ddl}, {output_ddl}")
