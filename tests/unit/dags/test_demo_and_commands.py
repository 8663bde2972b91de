"""`omnilake demo`'s plan and state checks, and the commands `register` adds (run without Airflow or Spark)."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from jobs.common.config import Config
from jobs.orchestration.commands import register
from jobs.orchestration.demo import DemoError, DemoParams, _landing_matches, _reset, _runs

PARAMS = DemoParams(customers=300, days=60, seed=7, daily_days=2)


def test_history_then_the_last_days_then_retrain() -> None:
    assert _runs(date(2025, 1, 1), date(2025, 3, 1), 2) == [
        ("history 2025-01-01..2025-02-27", "omnilake_daily", {"start": "2025-01-01", "end": "2025-02-27"}),
        ("daily 2025-02-28", "omnilake_daily", {"end": "2025-02-28"}),
        ("daily 2025-03-01", "omnilake_daily", {"end": "2025-03-01"}),
        ("retrain as of 2025-03-01", "omnilake_retrain", {"as_of": "2025-03-01"}),
    ]
    with pytest.raises(DemoError, match="leaves no history"):
        _runs(date(2025, 1, 1), date(2025, 1, 2), 2)


def test_landing_with_another_dataset_is_refused(tmp_path: Path) -> None:
    assert _landing_matches(tmp_path, PARAMS) is False
    (tmp_path / "_manifest.json").write_text(json.dumps({"seed": 7, "customers": 300, "days": 60}))
    assert _landing_matches(tmp_path, PARAMS) is True
    (tmp_path / "_manifest.json").write_text(json.dumps({"seed": 8, "customers": 300, "days": 60}))
    with pytest.raises(DemoError, match="--reset"):
        _landing_matches(tmp_path, PARAMS)


def test_reset_removes_only_state_inside_the_home(cfg: Config) -> None:
    keep = Path(cfg.home) / "notes.txt"
    for folder in (cfg.paths.landing, cfg.paths.warehouse, cfg.paths.airflow_home):
        Path(folder).mkdir(parents=True)
    keep.write_text("mine")
    _reset(cfg)
    assert sorted(p.name for p in Path(cfg.home).iterdir()) == ["notes.txt"]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="omnilake")
    register(
        parser.add_subparsers(dest="command", required=True), build_parser=lambda: parser, run_command=lambda argv: 0
    )
    return parser.parse_args(argv)


def test_quality_command_exit_status(cfg: Config, capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["quality", "--end", "2025-03-02"])
    assert args.fn(cfg, args) == 1  # nothing ingested: no audit, no orders
    assert "BREACH: freshness" in capsys.readouterr().out


def test_export_serving_command(cfg: Config, capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(cfg.paths.warehouse) / "gold" / "customer_ltv"
    path.parent.mkdir(parents=True)
    scored = {
        "customer_id": ["c1", "c2", "c1"],
        "ltv": [10.0, 20.0, 9.0],
        "as_of": [date(2025, 3, 2), date(2025, 3, 2), date(2025, 3, 1)],
    }
    write_deltalake(str(path), pa.table(scored))
    args = _parse(["export-serving", "--as-of", "2025-03-02"])
    assert args.fn(cfg, args) == 0
    assert "gold.customer_ltv: 2 rows" in capsys.readouterr().out  # that date's rows only
    assert (Path(cfg.paths.exports) / "2025-03-02" / "gold.customer_ltv.parquet").exists()


def test_demo_params_default_to_conf(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    import jobs.orchestration.demo as demo

    seen: list[DemoParams] = []
    monkeypatch.setattr(demo, "run_demo", lambda cfg, params, build_parser, echo: seen.append(params) or 0)
    for argv in (["demo"], ["demo", "--days", "90", "--seed", "0", "--daily-days", "0", "--reset"]):
        args = _parse(argv)
        assert args.fn(cfg, args) == 0
    assert seen == [
        DemoParams(customers=300, days=60, seed=7, daily_days=1),  # conf/test.yaml orchestration.demo
        DemoParams(customers=300, days=90, seed=0, daily_days=0, reset=True),
    ]
