"""The one SparkSession factory. Called by entry points and the test fixture only, never at import."""

from __future__ import annotations

import glob
import os
import sys
from typing import TYPE_CHECKING

from jobs.common.config import PROJECT_ROOT, Config, ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


def delta_jars(cfg: Config) -> list[str]:
    """The Delta JARs fetched at set-up; a clear error when set-up has not run."""
    jars = sorted(glob.glob(os.path.join(cfg.paths.jars, "*.jar")))
    if not any("delta-spark" in os.path.basename(j) for j in jars):
        raise ConfigError(f"no Delta JARs in {cfg.paths.jars}: run `make setup` (scripts/fetch_jars.sh)")
    return jars


def build_spark(cfg: Config) -> SparkSession:
    """Build (or return the running) SparkSession with Delta, UTC and the configured master."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(cfg.spark.app_name)
    # Under spark-submit (the JVM is already up and passed its gateway port) the master and memory come from
    # the submission, i.e. Airflow's connection: don't override them.
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.master(cfg.spark.master).config("spark.driver.memory", cfg.spark.driver_memory)
    log4j = PROJECT_ROOT / "conf" / "log4j2.properties"
    settings = {
        **DELTA_CONF,
        "spark.jars": ",".join(delta_jars(cfg)),
        "spark.sql.shuffle.partitions": str(cfg.spark.shuffle_partitions),
        "spark.driver.extraJavaOptions": f"-Dlog4j.configurationFile=file:{log4j}",
        **cfg.spark.conf,
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
