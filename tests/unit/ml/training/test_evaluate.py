"""The pure pieces of `omnilake evaluate`: origins, metric levels, rows and the pooled table."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.common.config.ml import ModelConfig
from jobs.common.errors import UserError
from ml.training.evaluate import evaluation_rows, origins, pooled_table, split_metric

LEVELS = ("total", "category", "store", "sku", "store_sku")


def test_origins_end_one_horizon_before_as_of_and_step_back():
    assert origins(date(2025, 6, 30), 28, count=3, step_days=14) == [
        date(2025, 6, 2),
        date(2025, 5, 19),
        date(2025, 5, 5),
    ]
    with pytest.raises(UserError, match="--origins"):
        origins(date(2025, 6, 30), 28, count=0, step_days=14)


def test_metric_names_split_into_level_and_metric():
    assert split_metric("wape_store_sku", LEVELS) == ("store_sku", "wape")  # not (sku, wape_store)
    assert split_metric("bias_total", LEVELS) == ("total", "bias")
    assert split_metric("wape", LEVELS) == ("all", "wape")
    assert split_metric("pit_coverage_80", LEVELS) == ("all", "pit_coverage_80")
    assert split_metric("auc", ()) == ("all", "auc")


def test_rows_and_pooled_table_over_origins():
    configs = {"champion": ModelConfig("lgbm"), "baseline_ets": ModelConfig("ets")}
    metrics = {
        date(2025, 6, 2): {"champion": {"wape_total": 0.1, "rows": 5.0}, "baseline_ets": {"wape_total": 0.2}},
        date(2025, 5, 5): {"champion": {"wape_total": 0.3, "rows": float("nan")}, "baseline_ets": {"wape_total": 0.4}},
    }
    rows = evaluation_rows(metrics, configs, levels=LEVELS)
    assert (date(2025, 6, 2), "champion", "lgbm", "total", "wape", 0.1) in rows
    assert len(rows) == 5  # the NaN is not a value
    table, means = pooled_table(rows)
    assert means[("champion", "total", "wape")] == pytest.approx(0.2)
    assert means[("baseline_ets", "total", "wape")] == pytest.approx(0.3)
    assert table.splitlines()[0] == "| level | metric | champion | baseline_ets |"
    assert "| total | wape | 0.2000 | 0.3000 |" in table
    assert "| all | rows | 5.0000 | - |" in table
