"""The notebooks' read-only lake views (delta-rs, no JVM): hints for missing tables, partition dates from the log,
the configured horizon, money as floats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from jobs.common.config import Config
from jobs.io.lake import lake_path
from jobs.io.lakeview import LakeView, arrow_to_pandas, build_hint, latest, partition_dates, read
from tests.support.config import make_config

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 5)


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    cfg = make_config(tmp_path / "home")
    churn = pa.table(
        {
            "customer_id": ["c1", "c2", "c1", "c1", "c2"],
            "as_of": [D1, D1, D2, D3, D3],
            "horizon_days": [30, 30, 30, 7, 7],
            "churn_probability": [0.1, 0.9, 0.2, 0.3, 0.8],
        }
    )
    write_deltalake(str(lake_path(cfg, "gold.churn_scores")), churn, partition_by=["as_of"])
    return cfg


def test_build_hint_names_the_command_that_creates_the_table() -> None:
    assert build_hint("gold.churn_scores") == "omnilake train churn --as-of D && omnilake score churn --as-of D"
    assert build_hint("features.item_store_day") == "omnilake build features"
    assert build_hint("gold.inventory_health") == "omnilake ingest && omnilake build gold"


def test_a_missing_table_prints_its_hint_and_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lake = LakeView(make_config(tmp_path / "empty"))
    assert lake.open("gold.sell_through") is None
    assert capsys.readouterr().out == (
        "gold.sell_through: not built yet: run `omnilake ingest && omnilake build gold`\n"
    )
    fresh = lake.freshness({"gold.sell_through": "as_of"})
    assert capsys.readouterr().out == ""  # the listing is quiet: the section that reads the table hints
    assert fresh.to_dict("records") == [
        {
            "table": "gold.sell_through",
            "partitioned_by": "as_of",
            "partitions": 0,
            "first": "-",
            "latest": "not built yet",
        }
    ]
    assert not (tmp_path / "empty").exists()


def test_partition_dates_latest_and_the_configured_horizon(cfg: Config) -> None:
    lake = LakeView(cfg)
    scores = lake.open("gold.churn_scores")
    assert scores is not None
    assert partition_dates(scores, "as_of") == [D1, D2, D3]
    assert latest(scores) == D3 and latest(scores, until=D2) == D2 and latest(scores, until=date(2025, 2, 1)) is None
    assert cfg.ml.model("churn").horizon_days == 30
    assert lake.scored_horizon(scores, D1, "churn") == 30
    assert lake.scored_horizon(scores, D3, "churn") == 7  # the configured horizon was not scored: the shortest was
    rows = read(scores, [("as_of", "=", D1), ("horizon_days", "=", 30)], ["customer_id", "churn_probability"])
    assert rows.sort_by("customer_id").to_pylist() == [
        {"customer_id": "c1", "churn_probability": 0.1},
        {"customer_id": "c2", "churn_probability": 0.9},
    ]
    fresh = lake.freshness({"gold.churn_scores": "as_of"}).to_dict("records")
    assert fresh == [
        {"table": "gold.churn_scores", "partitioned_by": "as_of", "partitions": 3, "first": D1, "latest": D3}
    ]


def test_arrow_to_pandas_turns_money_into_floats() -> None:
    money = pa.table({"tier": ["a", "b"], "monetary": pa.array([Decimal("1.50"), None], pa.decimal128(18, 2))})
    frame = arrow_to_pandas(money)
    pd.testing.assert_frame_equal(frame, pd.DataFrame({"tier": ["a", "b"], "monetary": [1.5, float("nan")]}))
