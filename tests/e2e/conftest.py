"""The local-mode lake of the end-to-end tests, shared by the session: tiny generated data, a history run of
omnilake_daily over every day but the last two (one date-range run), then omnilake_retrain as of that day (every
model trained and promoted with the real MLflow registry, scored, exported). test_daily_dag.py goes on from there
with a daily run and a bad day; test_on_cluster.py runs the same history and retrain on a Spark standalone cluster
and compares its tables with the digest taken here, right after the retrain."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from jobs.orchestration.harness import RunResult
from jobs.orchestration.runner import stop_runner
from tests.support.e2e import COMPARED, failed, history_conf, prepare, retrain_conf, run_dag
from tests.support.lake_digest import TableDigest, lake_digest


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Generated landing data, a migrated Airflow DB, and the environment every `airflow` command gets (with the
    suite's PostgreSQL as conf serving.postgres, so the DAGs' publish tasks run)."""
    root = tmp_path_factory.mktemp("e2e")
    base = {**os.environ, **postgres_env, "OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(root / "home")}
    found = prepare(root, base)
    yield found
    stop_runner(found["cfg"])  # the steps' warm Spark runner (started by the first run's first Spark step)


@pytest.fixture(scope="session")
def history(stack: dict[str, Any]) -> RunResult:
    """Every day but the last two, as one date-range run (one Spark step per layer)."""
    return run_dag(stack, "omnilake_daily", "history", history_conf(stack))


@pytest.fixture(scope="session")
def champions(stack: dict[str, Any], history: RunResult) -> dict[str, Any]:
    """omnilake_retrain as of the history's last day: every model trained, registered and (21 days are too short
    for a labelled comparison) its label-free configuration promoted to `champion`, then scored and exported.
    Returns the run and the digest of every gold, feature and serving table right after it."""
    assert history.ok, failed(history)
    retrain = run_dag(stack, "omnilake_retrain", "retrain", retrain_conf(stack))
    assert retrain.ok, failed(retrain)
    digest: dict[str, TableDigest] = lake_digest(stack["cfg"].paths.warehouse, COMPARED)
    return {"run": retrain, "digest": digest}
