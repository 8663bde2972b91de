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


def codegen_conf(enabled: bool) -> dict[str, str]:
    """Spark's generated code on or off (conf spark.codegen). Both settings are always given: a later command of the
    same process (the warm runner, a test) can switch an existing session either way."""
    if enabled:
        return {"spark.sql.codegen.wholeStage": "true", "spark.sql.codegen.factoryMode": "FALLBACK"}
    return {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}


def launch_conf(cfg: Config) -> dict[str, str]:
    """What the session factory and a spark-submit step both give the driver: Delta's extensions, quiet logging
    (conf/log4j2.properties), the codegen mode, then cfg.spark.conf (which wins)."""
    log4j = PROJECT_ROOT / "conf" / "log4j2.properties"
    return {
        **DELTA_CONF,
        "spark.driver.extraJavaOptions": f"-Dlog4j.configurationFile=file:{log4j}",
        **codegen_conf(cfg.spark.codegen),
        **cfg.spark.conf,
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

    # the executors' Python workers: the configured interpreter (a cluster's pinned venv), else this one
    if cfg.spark.executor_python:
        os.environ["PYSPARK_PYTHON"] = cfg.spark.executor_python
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder
    # Under spark-submit (the JVM is already up and passed its gateway port) the master, memory and application
    # name (the step's, e.g. omnilake-train) come from the submission, i.e. Airflow's operator: don't override them.
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.appName(cfg.spark.app_name).master(cfg.spark.master)
        builder = builder.config("spark.driver.memory", cfg.spark.driver_memory)
    settings = {
        "spark.jars": ",".join(delta_jars(cfg)),
        "spark.sql.shuffle.partitions": str(cfg.spark.shuffle_partitions),
        **launch_conf(cfg),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if cfg.spark.ship_code:
        ship_code(spark, cfg)
    return spark


def ship_code(spark: SparkSession, cfg: Config) -> None:
    """Send the project's zip (jobs/common/codeship.py) to the executors, unless spark-submit's --py-files or an
    earlier call already did."""
    from jobs.common.codeship import code_archive

    archive = code_archive(cfg.paths.code_archives)
    sc = spark.sparkContext
    submitted = sc.getConf().get("spark.submit.pyFiles", "") or ""
    if archive.name in submitted or any(f.endswith("/" + archive.name) for f in sc.listFiles):
        return
    sc.addPyFile(str(archive))
