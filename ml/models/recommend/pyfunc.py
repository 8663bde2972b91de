"""MLflow pyfunc wrapper of the ALS recommender. It needs a SparkSession, so it runs in the driver only.

Log: save_recommender(model, tmp_dir); mlflow.pyfunc.log_model(name="recommend", python_model=AlsPyfunc(),
artifacts={ARTIFACT_KEY: tmp_dir}, input_example=pd.DataFrame({"customer_id": [...]})).
Score: with a SparkSession active in the process, mlflow.pyfunc.load_model(uri).predict(customers_pdf,
params={"n": 10}) -> customer_id, item_id, rank, score, excluding only the pairs the model was trained on.
Never through mlflow.pyfunc.spark_udf (executors have no SparkSession). For production scoring with the current
exclusions and out-of-stock items, load the artifact directory with load_recommender(spark, path) and call
recommend(...) directly: it stays a Spark DataFrame end to end.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd
from pyspark.sql import SparkSession

from ml.models.recommend.als import AlsRecommender, load_recommender, recommend

ARTIFACT_KEY = "recommender"


class AlsPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the saved recommender from the `recommender` artifact into the active SparkSession."""

    def __init__(self) -> None:
        self._model: AlsRecommender | None = None

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        spark = SparkSession.getActiveSession()
        if spark is None:
            raise RuntimeError("AlsPyfunc needs an active SparkSession in the driver (do not use spark_udf)")
        self._model = load_recommender(spark, context.artifacts[ARTIFACT_KEY])

    @property
    def predictor(self) -> AlsRecommender | None:
        """The loaded model (what monitoring re-applies with the adapter's evaluate)."""
        return self._model

    def predict(
        self, context: mlflow.pyfunc.PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        if self._model is None:
            self.load_context(context)
        spark = SparkSession.getActiveSession()
        n = int((params or {}).get("n", 10))
        customers = spark.createDataFrame(model_input[["customer_id"]].astype(str))
        recs = recommend(self._model, customers, exclude=self._model.seen, out_of_stock=None, n=n)
        # pyfunc's contract is pandas out: at most n rows per customer of `model_input`, a batch the caller holds
        # in memory already. Daily scoring does not come here (the adapter calls recommend() and writes in Spark).
        return recs.orderBy("customer_id", "rank").toPandas()
