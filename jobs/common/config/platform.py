"""Platform sections: paths, Spark, logging, zones, business calendar, generator defaults, ingest."""

from __future__ import annotations

from dataclasses import field
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from jobs.common.config.base import section


def _spark_conf(value: Any) -> dict[str, str]:
    # Spark takes every conf value as a string; YAML may hand us numbers or booleans.
    return {str(k): str(v) for k, v in (value or {}).items()}


@section
class Paths:
    warehouse: str
    landing: str
    exports: str
    secrets: str
    airflow_home: str
    mlflow_tracking_uri: str
    mlflow_artifacts: str
    jars: str
    code_archives: str  # where the zip of jobs/ and ml/ shipped to executors is built (jobs/common/codeship.py)


@section
class SparkSettings:
    master: str
    app_name: str
    driver_memory: str
    shuffle_partitions: int
    # false: expressions are evaluated interpreted, without generated Java (jobs.common.spark.codegen_conf), for
    # tables so small that compiling each query costs more than it saves (conf/test.yaml)
    codegen: bool = True
    conf: Annotated[dict[str, str], BeforeValidator(_spark_conf)] = field(default_factory=dict)
    # The interpreter executors start their Python workers with (PYSPARK_PYTHON): on a cluster, the pinned venv's
    # python at the same path on every worker. None: this process's interpreter (local mode).
    executor_python: str | None = None
    # Ship jobs/ and ml/ to the executors as a zip (SparkContext.addPyFile, or spark-submit --py-files): executors
    # then import the project from it, never from the driver's disk.
    ship_code: bool = False


@section
class ClusterSettings:
    """`omnilake cluster up|down` (make cluster-up / cluster-down): a Spark standalone master and workers and an
    MLflow tracking server on `host`, their pid files, logs and state under `dir`."""

    dir: str
    host: str
    master_port: Annotated[int, Field(gt=0, lt=65536)]
    master_webui_port: Annotated[int, Field(gt=0, lt=65536)]
    workers: Annotated[int, Field(ge=1)]
    worker_cores: Annotated[int, Field(ge=1)]
    worker_memory: str
    worker_webui_port: Annotated[int, Field(gt=0, lt=65536)]  # worker i (1, 2, ...) serves its UI on this + i - 1
    daemon_memory: str  # heap of the master and worker JVMs themselves (not of executors)
    mlflow_port: Annotated[int, Field(gt=0, lt=65536)]
    driver_ui_port: Annotated[int, Field(gt=0, lt=65536)]
    start_timeout_seconds: Annotated[float, Field(gt=0)]
    stop_timeout_seconds: Annotated[float, Field(gt=0)]


@section
class Logging:
    level: str
    json: bool


@section
class Zones:
    restricted: tuple[str, ...]
    all: tuple[str, ...]
    change_feed: tuple[str, ...]  # tables of these zones are created with delta.enableChangeDataFeed=true


@section
class Business:
    channel_timezones: dict[str, str]
    default_country_code: str
    phone_national_digits: int
    default_country: str


@section
class GenerateDrift:
    """A planted drift for model monitoring (jobs.generate.drift): from `date` on (None: no drift) every list price is
    price_factor x and the `channel`'s traffic (web, app, marketplace or pos) traffic_factor x."""

    date: date | None
    channel: Literal["web", "app", "marketplace", "pos"]  # jobs.generate.util.CHANNELS
    traffic_factor: Annotated[float, Field(gt=0)]
    price_factor: Annotated[float, Field(gt=0)]


@section
class GenerateDefaults:
    customers: int
    days: int
    seed: int
    start_date: str
    stores: int
    skus: int
    dirt_rate: float
    taste_strength: float
    taste_groups: int
    drift: GenerateDrift


@section
class Ingest:
    contracts_dir: str
    conflict_retries: int
    parallel_tables: Annotated[int, Field(ge=1)]
    identity_max_rounds: int  # safety limit of identity resolution's rounds (they grow with log of the diameter)
    # a graph to resolve of at most this many edges is resolved on the driver (union-find), not in Spark rounds
    identity_local_max_edges: Annotated[int, Field(ge=0)]
    # date bounds (jobs/common/clock.py): contract dates after today + max_future_days or before min_date are
    # quarantined (DATE_OUT_OF_RANGE), and an --as-of after today + max_future_days is refused
    max_future_days: Annotated[int, Field(ge=0)]
    min_date: date
    rekey_max_lag_versions: Annotated[int, Field(ge=1)]  # identity_map versions a re-keyed table may lag (upkeep)
    today: date | None = None  # None: the UTC date of the wall clock; set: "today" pinned (tests, replays)
    # PII kind -> words that make a column the contract does not know PII by its name (quarantine masking)
    pii_name_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
