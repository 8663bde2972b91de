"""What the end-to-end tests share: the tiny generated landing data, a migrated Airflow DB per omnilake home, the
runs every e2e lake starts with (a history run of omnilake_daily, then omnilake_retrain) and the tables compared
across lakes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jobs.cli import build_parser
from jobs.common.config import load_config
from jobs.orchestration.assets import FEATURES, GOLD, SERVING
from jobs.orchestration.harness import RunResult, airflow_env, dags_test, migrate, missing_steps

REPO = Path(__file__).resolve().parents[2]
CUSTOMERS, DAYS, SEED = 300, 21, 3  # the generator's smallest comfortable size; Spark start-up dominates anyway
COMPARED = (*GOLD, *FEATURES, *SERVING)  # the tables a cluster run must reproduce
# one tokenization key for every e2e lake: customer ids and PII tokens are keyed hashes, so lakes built with
# different keys (each home makes its own otherwise) share no id
PII_KEY = "e2e0123456789abcdef0123456789abcdef"


def generate(env: Mapping[str, str], out: str) -> dict[str, Any]:
    """The tests' landing data (conf/test.yaml's generator sizes whatever OMNILAKE_ENV is); its manifest."""
    subprocess.run(
        [sys.executable, "-m", "jobs.cli", "generate", "--customers", str(CUSTOMERS), "--days", str(DAYS)]
        + ["--seed", str(SEED), "--out", out],
        env={**env, "OMNILAKE_ENV": "test"},
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return json.loads((Path(out) / "_manifest.json").read_text())


def prepare(root: Path, base: Mapping[str, str]) -> dict[str, Any]:
    """Landing data and a migrated Airflow DB under `root` for the omnilake env in `base`."""
    base = {**base, "OMNILAKE_PII_KEY": PII_KEY}
    cfg = load_config(environ=base)
    env = airflow_env(cfg, base=base)
    migrate(env, root / "logs" / "db-migrate.log")
    manifest = generate(env, cfg.paths.landing)
    return {
        "cfg": cfg,
        "env": env,
        "logs": root / "logs",
        "skip": missing_steps(build_parser),
        "first": date.fromisoformat(manifest["start_date"]),
        "last": date.fromisoformat(manifest["end_date"]),
    }


def run_dag(stack: Mapping[str, Any], dag_id: str, name: str, conf: Mapping[str, str], **kw: Any) -> RunResult:
    env = {**stack["env"], **kw.pop("env", {})}
    return dags_test(dag_id, env=env, conf=conf, log=stack["logs"] / f"{name}.log", mark_success=stack["skip"], **kw)


def history_conf(stack: Mapping[str, Any]) -> dict[str, str]:
    """Every day but the last two, as one date-range run."""
    return {"start": stack["first"].isoformat(), "end": (stack["last"] - timedelta(days=2)).isoformat()}


def retrain_conf(stack: Mapping[str, Any]) -> dict[str, str]:
    return {"as_of": (stack["last"] - timedelta(days=2)).isoformat()}


def failed(result: RunResult) -> str:
    return f"see {result.log}: {[(t.task_id, t.state, t.error) for t in result.tasks]}"
