"""What only the output of `airflow dags test` tells: the omnilake jobs' progress lines and each failed task's error
text. Task states come from the metadata DB (run_states.py); nothing here decides one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from jobs.orchestration.ops import short_error


class OutputFollower:
    """Follows `airflow dags test` output for what the metadata DB does not keep (tasks run one at a time there):
    the omnilake jobs' progress lines, echoed as they come, and per task the headline of its last exception plus
    the last error line its Spark driver printed."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.exceptions: dict[str, str] = {}
        self.driver_errors: dict[str, str] = {}
        self.task = "?"
        self.in_traceback = False

    @property
    def errors(self) -> dict[str, str]:
        """task_id -> "<exception headline>[ Driver: <driver error line>]" for every task that raised."""
        return {
            task: f"{error} Driver: {self.driver_errors[task]}"
            if self.driver_errors.get(task, error) not in error
            else error
            for task, error in self.exceptions.items()
        }

    def feed(self, line: str) -> None:
        if self.in_traceback and not _is_log_line(line):
            self._traceback_line(line)
            return
        self.in_traceback = False
        if _STARTING in line:  # a retry starts the task afresh
            self.task = line.partition(_STARTING)[2].split(" ", 1)[0]
            self.exceptions.pop(self.task, None)
            self.driver_errors.pop(self.task, None)
        elif "Task failed with exception" in line:
            self.in_traceback = True
        elif (progress := _progress(line)) is not None:
            self.echo(f"      {progress}")
        elif (message := _driver_message(line)) is not None and is_driver_error(message):
            self.driver_errors[self.task] = message

    def _traceback_line(self, line: str) -> None:
        # keep the header of the last exception: "ExceptionType: message" after the last "Traceback"
        if line.startswith("Traceback"):
            self.exceptions.pop(self.task, None)
        elif self.task not in self.exceptions and _is_exception(line):
            self.exceptions[self.task] = short_error(line.strip())


_STARTING = "[DAG TEST] starting task_id="
_PROGRESS = "[omnilake "  # the jobs' own progress lines: jobs/common/log.py
_LOGGER = " [airflow.task."  # what Airflow appends to a line the Spark driver printed: the hook's or step's logger
_DRIVER_LOGGERS = ("SparkSubmitHook]", "RunnerStepOperator]")  # spark-submit's hook, the warm runner's step


def _is_log_line(line: str) -> bool:
    """An Airflow log record (it starts with an ISO timestamp), not a continuation such as a traceback line."""
    stamp = line.split(" ", 1)[0]
    if len(stamp) < 20 or stamp[10:11] != "T":
        return False
    try:
        datetime.fromisoformat(stamp)
    except ValueError:
        return False
    return True


def _progress(line: str) -> str | None:
    start = line.find(_PROGRESS)
    if start < 0:
        return None
    return line[start:].split(" [airflow.", 1)[0].rstrip()


def _driver_message(line: str) -> str | None:
    """A line the Spark driver printed, as the Spark hook or the runner's step logged it (between the level and the
    logger's name)."""
    if _LOGGER not in line or not any(name in line for name in _DRIVER_LOGGERS):
        return None
    return line.split("] ", 1)[-1].split(_LOGGER, 1)[0].strip()


def _is_exception(text: str) -> bool:
    name = text.split(":", 1)[0].strip()
    return name.replace(".", "_").isidentifier() and name.endswith(("Exception", "Error", "Exit"))


def is_driver_error(message: str) -> bool:
    words = message.split(" ")
    is_cli_error = len(words) > 2 and words[0] == "omnilake" and words[2] == "error:"
    return is_cli_error or (_is_exception(message) and not message.split(":", 1)[0].endswith("Exit"))
