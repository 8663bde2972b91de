"""A PostgreSQL for the tests: $OMNILAKE_TEST_POSTGRES_DSN (password in $OMNILAKE_TEST_POSTGRES_PASSWORD) when set,
else a server of the suite's own (jobs/orchestration/pgserver.py: initdb into a temp dir, a free loopback port),
stopped and removed at the end. Yields the environment that points omnilake at it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jobs.common.config import load_config
from jobs.orchestration import pgserver

DSN_ENV, PASSWORD_ENV = "OMNILAKE__SERVING__POSTGRES__DSN", "OMNILAKE_PG_PASSWORD"


@contextmanager
def postgres_server() -> Iterator[dict[str, str]]:
    configured = os.environ.get("OMNILAKE_TEST_POSTGRES_DSN")
    if configured:
        yield {DSN_ENV: configured, PASSWORD_ENV: os.environ.get("OMNILAKE_TEST_POSTGRES_PASSWORD", "")}
        return
    # not under pytest's tmp dirs: those are root-only, and the server runs as the postgres user
    root = Path(tempfile.mkdtemp(prefix="omnilake-pg-"))
    os.chmod(root, 0o755)
    environ = {
        "OMNILAKE_ENV": "test",
        "OMNILAKE_HOME": str(root / "home"),
        "OMNILAKE__SERVING__POSTGRES__LOCAL__DIR": str(root / "server"),
    }
    cfg = load_config(environ=environ)
    try:
        server = pgserver.up(cfg)
        yield {DSN_ENV: server.dsn, PASSWORD_ENV: server.password}
    finally:
        pgserver.down(cfg)
        shutil.rmtree(root, ignore_errors=True)
