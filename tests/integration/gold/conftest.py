"""The session's BASE silver warehouse (tests/support/silver_tables.py holds the data and the builders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.io.tables import Catalog
from tests.support.silver_tables import BASE, write_all


@pytest.fixture(scope="session")
def base_silver(spark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BASE written once (with its change feed history); tests copy it instead of rewriting it."""
    warehouse = tmp_path_factory.mktemp("base_silver") / "warehouse"
    write_all(Catalog(spark, str(warehouse), ("silver", "ops"), change_feed_zones=("silver", "ops")), BASE)
    return warehouse
