"""What a model plugs into the shared train/score wrappers (ml/training/train.py, ml/serving/scoring.py).

A adapter owns its data (Spark frames, the bounded pandas hand-off), its pure fit/evaluate calls, how its fitted
model is logged and how the champion is applied; the wrappers own MLflow runs, the registry, the gate and the
table writes. BaseAdapter holds the defaults: a pickled pyfunc of the predictor, applied with mapInPandas, one table.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from pyspark.sql import functions as F

from jobs.common.config.ml import MlSettings, ModelConfig, ModelSettings

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

    from jobs.common.config import Config
    from jobs.io.tables import Catalog
    from ml.serving.registry import Served
    from ml.training.windows import History


@dataclass(frozen=True)
class MlEnv:
    """Built once per command by the entry point."""

    cfg: Config
    spark: SparkSession
    catalog: Catalog
    settings: MlSettings


def ml_env(cfg: Config) -> MlEnv:
    from jobs.common.spark import build_spark
    from jobs.io.tables import Catalog

    spark = build_spark(cfg)
    return MlEnv(cfg=cfg, spark=spark, catalog=Catalog.from_config(spark, cfg), settings=cfg.ml)


class Data(Protocol):
    """What a adapter's load() returns: opaque to the wrappers except for its description (logged as params)."""

    def describe(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Output:
    """One serving table write: final rows and the replaceWhere predicate they replace."""

    table: str
    rows: DataFrame
    where: str
    partition_by: tuple[str, ...] = ("as_of",)


def stamp(df: DataFrame, served: Served, as_of: date) -> DataFrame:
    """as_of, model_name, model_version and run_id on every row."""
    return df.select(
        "*",
        F.lit(as_of).alias("as_of"),
        F.lit(served.model_name).alias("model_name"),
        F.lit(served.model_version).alias("model_version"),
        F.lit(served.run_id).alias("run_id"),
    )


class BaseAdapter(ABC):
    """Defaults shared by the adapters; subclasses set the class attributes and the data/fit/evaluate methods."""

    name: str  # ltv, churn, demand, recommend
    key: tuple[str, ...]  # row key of score frames (before as_of)
    table: str  # serving table
    output_ddl: str  # Spark DDL of the model outputs (what predict_frame returns)
    baselines: Mapping[str, ModelConfig]  # role -> configuration, compared with every challenger
    servable_baselines: tuple[str, ...]  # roles that may serve when the challenger and the champion lose
    fallback: ModelConfig  # label-free configuration served when the history is too short
    levels: tuple[str, ...] = ()  # levels of `<metric>_<level>` metrics (demand: store_sku ... total); cards, evaluate
    monitored_outputs: tuple[str, ...] = ()  # serving-table columns whose drift monitoring measures (ml/monitoring)

    def __init__(self, env: MlEnv, settings: ModelSettings) -> None:
        self.env = env
        self.settings = settings

    # -- data and pure model calls (subclasses) ---------------------------------------------------------
    @abstractmethod
    def history(self) -> History: ...

    def required_history_days(self, horizon_days: int) -> int:
        """Days of data needed before the first compare-fit date D - 2H."""
        return self.env.settings.min_history_days

    @abstractmethod
    def load(self, as_of: date, label_days: int | None, *, horizon_days: int) -> Data:
        """Data at `as_of` with labels (as_of, as_of + label_days] (None: label-free) for a model of horizon_days."""

    @abstractmethod
    def fit(self, config: ModelConfig, data: Any, horizon_days: int) -> Any: ...

    @abstractmethod
    def evaluate(self, config: ModelConfig, predictor: Any, data: Any) -> dict[str, float]: ...

    def realized_data(self, as_of: date, horizon_days: int) -> Data:
        """Monitoring: the data as of `as_of` labelled by the horizon that has since passed (evaluate's input)."""
        return self.load(as_of, horizon_days, horizon_days=horizon_days)

    def realized(
        self,
        scores: DataFrame,
        served: Callable[[], tuple[ModelConfig, Any]],
        *,
        origin: date,
        until: date,
        horizon_days: int,
    ) -> dict[str, float]:
        """Monitoring: how the scores made as of `origin` (rows of the serving table) did on what happened up to
        `until`. Default (the whole horizon has passed): the served version, `served()` -> (config, predictor),
        re-applied to the data as of `origin` and measured by evaluate, the training comparison's own code."""
        config, predictor = served()
        return self.evaluate(config, predictor, self.realized_data(origin, horizon_days))

    def monitored_features(self, columns: list[str]) -> list[str]:
        """The score frame's columns whose drift monitoring measures (none by default: no tabular features)."""
        return []

    def monitor_frame(self, as_of: date) -> DataFrame | None:
        """What feature drift measures as of `as_of` (None by default: no tabular features)."""
        return None

    def feature_window_days(self, column: str) -> int | None:
        """The days of history a feature looks back over (`orders_30d`, `mean_91`: the trailing number), None when
        it has no window. Monitoring does not judge a feature whose window is longer than the history it had."""
        found = re.search(r"_(\d+)d?$", column)
        return int(found.group(1)) if found else None

    # -- logging and serving (defaults) ---------------------------------------------------------------
    def example(self, data: Any) -> pd.DataFrame:
        return data.frame

    def log_model(self, predictor: Any, data: Any, *, registered_name: str) -> str:
        from ml.serving.pyfunc import log_serving_model

        return log_serving_model(predictor, self.example(data), registered_name=registered_name)

    @abstractmethod
    def score_frame(self, as_of: date) -> DataFrame: ...

    def finish(self, scored: DataFrame, *, as_of: date, horizon_days: int) -> DataFrame:
        return scored

    @abstractmethod
    def output_columns(self) -> list[str]: ...

    def replace_where(self, as_of: date, horizon_days: int) -> str:
        return f"as_of = DATE'{as_of.isoformat()}' AND horizon_days = {int(horizon_days)}"

    def outputs(self, served: Served, *, as_of: date, horizon_days: int) -> list[Output]:
        """Apply the champion to the score frame in Spark; one stamped table write."""
        from ml.serving.pyfunc import apply_model, load

        scored = apply_model(self.score_frame(as_of), load(served.uri), key=self.key, output_ddl=self.output_ddl)
        rows = stamp(self.finish(scored, as_of=as_of, horizon_days=horizon_days), served, as_of)
        return [Output(self.table, rows.select(*self.output_columns()), self.replace_where(as_of, horizon_days))]


ModelAdapter = BaseAdapter


def describe_params(config: ModelConfig) -> dict[str, Any]:
    """A configuration as flat MLflow params."""
    return {"kind": config.kind, **{f"param.{k}": v for k, v in sorted(config.params.items())}}
