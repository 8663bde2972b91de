"""Platform sections: paths, Spark, logging, zones, business calendar, generator defaults, ingest."""

from __future__ import annotations

from dataclasses import field
from datetime import date
from typing import Annotated, Any

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


@section
class SparkSettings:
    master: str
    app_name: str
    driver_memory: str
    shuffle_partitions: int
    conf: Annotated[dict[str, str], BeforeValidator(_spark_conf)] = field(default_factory=dict)


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
