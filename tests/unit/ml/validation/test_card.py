"""Model card pieces: the per-level comparison and the promotion history."""

from __future__ import annotations

from ml.validation.card import history_table, level_tables


def test_level_tables_show_each_base_metric_per_level_and_role():
    metrics = {
        "challenger": {"wape_total": 0.07, "wape_store_sku": 0.91, "bias_total": 0.01, "bias_store_sku": 0.01},
        "baseline_ets": {"wape_total": 0.074, "wape_store_sku": 0.95},
    }
    text = level_tables(metrics, ("store_sku", "total"))
    assert "**wape** by level" in text and "**bias** by level" in text
    assert "| store_sku | 0.9100 | 0.9500 |" in text and "| total | 0.0700 | 0.0740 |" in text
    assert "| total | 0.0100 | - |" in text  # a role without the metric
    assert level_tables(metrics, ()) is None


def test_history_table_lists_versions_in_order_with_their_aliases():
    text = history_table(
        [
            {"version": "1", "role": "baseline", "kind": "bgnbd", "as_of": "2025-05-01", "decision": "baseline"},
            {
                "version": "2",
                "role": "challenger",
                "kind": "lgbm",
                "as_of": "2025-06-01",
                "decision": "promote",
                "aliases": "challenger, champion",
            },
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "| version | role | kind | as_of | decision | aliases |"
    assert lines[2] == "| 1 | baseline | bgnbd | 2025-05-01 | baseline | - |"
    assert lines[3] == "| 2 | challenger | lgbm | 2025-06-01 | promote | challenger, champion |"
