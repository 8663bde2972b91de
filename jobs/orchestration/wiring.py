"""What the DAG files are wired from: schedules, Spark steps and assets, built from config at parse time.

Parse-time cost is two small YAML reads and a glob for the Delta JARs: no Spark, no pandas, no network.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pendulum
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Asset, BaseOperator, Context, CronDataIntervalTimetable, Param

from jobs.common.config import PROJECT_ROOT, Config, ConfigError, load_config
from jobs.common.config.orchestration import Orchestration
from jobs.common.spark import delta_jars, launch_conf
from jobs.orchestration.assets import EXPORTS, asset_uri
from jobs.orchestration.run_output import is_driver_error

SUBMIT_APP = PROJECT_ROOT / "jobs" / "__main__.py"


def spark_submit_conf(cfg: Config) -> dict[str, str]:
    """Settings the driver JVM needs before it starts (the session factory sets the rest): Delta JARs and
    extensions, quiet logging, cfg.spark.conf. Without fetched JARs the key is left out and the job itself
    fails with jobs.common.spark's message naming the fix, instead of the DAG failing to parse."""
    conf = launch_conf(cfg)
    with contextlib.suppress(ConfigError):
        conf["spark.jars"] = ",".join(delta_jars(cfg))
    return conf


def driver_env(cfg: Config) -> dict[str, str]:
    """Environment of the spark-submit process (and the driver): the same omnilake env and interpreter."""
    return {
        "OMNILAKE_HOME": cfg.home,
        "OMNILAKE_ENV": cfg.env,
        "PYSPARK_PYTHON": cfg.spark.executor_python or sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


class RunnerStepError(RuntimeError):
    """A Spark step's command ended with a non-zero status in the warm runner."""


class RunnerStepOperator(BaseOperator):
    """`omnilake <argv>` in this home's warm Spark runner (jobs/orchestration/runner.py), started on first use.
    The command's output becomes the task log line by line; a non-zero exit status fails the task."""

    template_fields: Sequence[str] = ("argv",)

    def __init__(self, *, argv: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.argv = list(argv)

    def execute(self, context: Context) -> None:
        from jobs.orchestration.runner import run_step

        pending, last_error = [""], [""]

        def log(line: str) -> None:
            self.log.info("%s", line)
            if is_driver_error(line.strip()):
                last_error[0] = line.strip()

        def out(text: str) -> None:
            *lines, pending[0] = (pending[0] + text).split("\n")
            for line in lines:
                log(line)

        code = run_step(load_config(), [str(a) for a in self.argv], out=out)
        if pending[0]:
            log(pending[0])
        if code:
            tail = f" Driver: {last_error[0]}" if last_error[0] else ""
            raise RunnerStepError(f"omnilake {' '.join(map(str, self.argv))} exited with status {code}.{tail}")


def date_param(description: str) -> Param:
    return Param(None, type=["null", "string"], format="date", description=description)


@dataclass(frozen=True)
class DagFactory:
    cfg: Config

    @property
    def settings(self) -> Orchestration:
        return self.cfg.orchestration

    def timetable(self, cron: str) -> CronDataIntervalTimetable:
        """One data interval per cron period in the business time zone (not a zero-length cron trigger)."""
        return CronDataIntervalTimetable(cron, timezone=self.settings.timezone)

    def default_args(self) -> dict[str, Any]:
        """Every task's retries (exponential backoff), timeout (Spark tasks set their own) and failure callback."""
        from jobs.orchestration.ops import record_failure

        conf = self.settings
        return {
            "retries": conf.retries,
            "retry_delay": conf.retry_delay,
            "retry_exponential_backoff": conf.retry_backoff,
            "max_retry_delay": conf.max_retry_delay,
            "execution_timeout": conf.python_timeout,
            "on_failure_callback": record_failure,
        }

    @property
    def start_date(self) -> pendulum.DateTime:
        day = self.settings.start_date
        return pendulum.datetime(day.year, day.month, day.day, tz=self.settings.timezone)

    @cached_property
    def submit_conf(self) -> dict[str, str]:
        return spark_submit_conf(self.cfg)

    @cached_property
    def py_files(self) -> str | None:
        """The project's zip for --py-files when conf spark.ship_code (built here only if the code changed)."""
        if not self.cfg.spark.ship_code:
            return None
        from jobs.common.codeship import code_archive

        return str(code_archive(self.cfg.paths.code_archives))

    def assets(self, names: Sequence[str]) -> list[Asset]:
        return [Asset(name=name, uri=asset_uri(self.cfg.paths.warehouse, name), group="omnilake") for name in names]

    def exports_asset(self) -> Asset:
        return Asset(name=EXPORTS, uri=f"file://{self.cfg.paths.exports}", group="omnilake")

    def spark_step(self, task_id: str, argv: Sequence[Any], *, outlets: Sequence[Asset]) -> BaseOperator:
        """`omnilake <argv>` (argv may hold XComArgs) as a step of the warm runner or as one spark-submit to the
        configured master (conf orchestration.spark_steps.mode)."""
        if self.settings.spark_steps.mode == "runner":
            return RunnerStepOperator(
                task_id=task_id, argv=argv, execution_timeout=self.settings.spark_timeout, outlets=list(outlets)
            )
        return SparkSubmitOperator(
            task_id=task_id,
            conn_id=self.settings.spark_conn_id,
            application=str(SUBMIT_APP),
            application_args=list(argv),
            conf=dict(self.submit_conf),  # an operator may add keys to its own copy
            py_files=self.py_files,
            driver_memory=self.cfg.spark.driver_memory,
            env_vars=driver_env(self.cfg),
            name=f"omnilake-{task_id}",
            execution_timeout=self.settings.spark_timeout,
            outlets=list(outlets),
        )


def dag_factory() -> DagFactory:
    """Config of the current OMNILAKE_ENV / OMNILAKE_HOME, as the DAG files need it."""
    return DagFactory(cfg=load_config())
