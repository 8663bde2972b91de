"""Structured, quiet-by-default logging and progress lines (stage, rows, elapsed)."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOGGER_NAME = "omnilake"
_START = time.monotonic()


class _Formatter(logging.Formatter):
    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        elapsed = time.monotonic() - _START
        if self.as_json:
            return json.dumps(
                {"t": round(elapsed, 2), "level": record.levelname, "msg": record.getMessage(), **fields}, default=str
            )
        kv = " ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
        return f"[omnilake {int(elapsed) // 60:02d}:{elapsed % 60:04.1f}] {record.getMessage()} {kv}".rstrip()


def _fmt(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def setup_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Route omnilake's logger to stderr; libraries stay at WARNING, py4j at ERROR. Elapsed times count from here
    (a warm runner sets up each command's logging anew)."""
    global _START
    _START = time.monotonic()
    logger = logging.getLogger(LOGGER_NAME)
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(as_json))
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    logging.getLogger("py4j").setLevel(logging.ERROR)


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def event(message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured line: `event("bronze.load", source="web_orders", rows=123)`."""
    get_logger().log(level, message, extra={"fields": fields})


@contextmanager
def stage(name: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """Time a stage; the caller may add fields (e.g. rows) to the yielded dict before it ends."""
    started = time.monotonic()
    extra: dict[str, Any] = {}
    yield extra
    event(name, **{**fields, **extra, "secs": round(time.monotonic() - started, 1)})
