"""One session-scoped SparkSession for the whole run; each test gets its own OMNILAKE_HOME."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.common.config import Config
from jobs.io.tables import Catalog
from tests.support.config import make_config


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("omnilake_home")


@pytest.fixture(scope="session")
def spark(session_home: Path):
    from jobs.common.spark import build_spark

    return build_spark(make_config(session_home))


@pytest.fixture(autouse=True)
def _release_spark_caches() -> Iterator[None]:
    """After each test, what it left cached in the shared session (frames, Delta's log cache) is dropped, as the warm
    runner does between commands: otherwise the session's heap grows with every ingest until the driver stalls in
    GC and exits mid-suite. Starts no session."""
    yield
    if "pyspark" in sys.modules:
        from pyspark.sql import SparkSession

        from jobs.common.spark import release_caches

        active = SparkSession.getActiveSession()
        if active is not None:
            release_caches(active)


@pytest.fixture()
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A fresh home per test; also exported, so entry points that call load_config() see it."""
    monkeypatch.setenv("OMNILAKE_ENV", "test")
    monkeypatch.setenv("OMNILAKE_HOME", str(tmp_path / "home"))
    return make_config(tmp_path / "home")


@pytest.fixture()
def catalog(spark, cfg: Config) -> Catalog:
    return Catalog.from_config(spark, cfg)
