"""Run ML sub-commands the way `omnilake` does (jobs/cli.py adds them with ml.commands.register)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from jobs.common.config import Config
from ml.commands import register


def run_ml(cfg: Config, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="omnilake")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.fn(cfg, args)


@pytest.fixture(autouse=True)
def _codegen(codegen_if_spark: None) -> None:
    """Large frames: Spark's generated code (the `codegen` fixture of tests/conftest.py)."""


@pytest.fixture()
def omnilake() -> Callable[..., int]:
    return run_ml
