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
    """After each test, what it left cached in the shared session is dropped: cached frames (as the warm runner does
    between commands) and Delta's per-table log cache with the snapshot state each entry keeps cached. Every test
    writes tables under a new home, so without this the session kept about 56 cached RDDs and 100-200 MB of live
    heap per ingest, until the driver stalled in GC, missed executor heartbeats and exited mid-suite. (The warm
    runner serves one home: its log cache has one entry per table, and keeping it is what keeps its steps warm.)
    Starts no session."""
    yield
    if "pyspark" in sys.modules:
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            active.catalog.clearCache()
            active._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()  # no Python API for it


# conf/test.yaml runs Spark interpreted (spark.codegen: false): right for the tables of most tests, hundreds to a
# few thousand rows, where compiling each query cost more than it saved. The ML tests' frames (dense store x SKU x
# day grids, thousands of simulated customers) are large enough for generated code to pay: test_demand_real_shapes
# took 473 s interpreted in the suite, 228 s with it.


@pytest.fixture()
def codegen(spark, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test runs with Spark's generated code: in the session now, and in every command it runs (an in-process
    `omnilake` command applies its config's settings to the session: OMNILAKE__SPARK__CODEGEN), then the session's
    interpreted mode again."""
    from jobs.common.spark import codegen_conf

    monkeypatch.setenv("OMNILAKE__SPARK__CODEGEN", "true")
    for key, value in codegen_conf(True).items():
        spark.conf.set(key, value)
    yield
    for key, value in codegen_conf(False).items():
        spark.conf.set(key, value)


@pytest.fixture()
def codegen_if_spark(request: pytest.FixtureRequest) -> None:
    """`codegen` for a test that uses the session (directly or through another fixture); nothing, and no session
    started, for one that does not. Made autouse by the ML test folders' conftest.py."""
    if "spark" in request.fixturenames:
        request.getfixturevalue("codegen")


@pytest.fixture(scope="session")
def postgres_env() -> Iterator[dict[str, str]]:
    """The environment that points omnilake at the suite's PostgreSQL (tests/support/postgres.py), started on first
    use and stopped at the end of the session."""
    from tests.support.postgres import postgres_server

    with postgres_server() as env:
        yield env


@pytest.fixture()
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    """A fresh home per test; also exported, so entry points that call load_config() see it."""
    monkeypatch.setenv("OMNILAKE_ENV", "test")
    monkeypatch.setenv("OMNILAKE_HOME", str(tmp_path / "home"))
    return make_config(tmp_path / "home")


@pytest.fixture()
def catalog(spark, cfg: Config) -> Catalog:
    return Catalog.from_config(spark, cfg)
