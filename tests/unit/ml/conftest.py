"""The ML unit tests' frames (simulated customers, dense demand grids) run with Spark's generated code."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _codegen(codegen_if_spark: None) -> None:
    """Large frames: Spark's generated code (the `codegen` fixture of tests/conftest.py)."""
