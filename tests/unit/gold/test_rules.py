from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from jobs.common.config import Config, ConfigError, load_config
from jobs.common.config.gold import Tier
from jobs.io.changes import fact_predicate
from jobs.io.writes import snapshot_dates


def _load(tmp_path: Path, **overrides: str) -> Config:
    return load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(tmp_path), **overrides})


def test_conf_rules_load_into_typed_rules(tmp_path: Path) -> None:
    cfg = _load(tmp_path)
    gold = cfg.gold
    assert gold.rfm.tiers[0] == Tier("top", max_recency_days=30, min_orders=5, min_spend=2000)
    assert gold.rfm.tiers[1] == Tier("dormant", min_recency_days=90)
    assert (gold.sell_through.window_days, gold.sell_through.flag_below) == (30, 0.05)
    assert round(gold.inventory.z, 4) == 1.6449
    assert gold.excluded_statuses == ("cancelled",)
    assert gold.alerts.quarantine_spike.baseline_days == 7 and gold.cohort.repurchase_days == 30
    assert gold.cohort.repurchase_windows_days == (7, 30, 90)
    assert cfg.features.windows_days == (7, 30, 90, 365)


def test_missing_or_unknown_rule_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'gold\.inventory\.lead_time_days' is missing"):
        _load(tmp_path, OMNILAKE__GOLD__INVENTORY="{service_level: 0.95}")
    with pytest.raises(ConfigError, match=r"'gold\.rfm\.tiers\[0\]\.max_days' is not a known key"):
        _load(tmp_path, OMNILAKE__GOLD__RFM__TIERS="[{name: x, max_days: 3}]")
    with pytest.raises(ConfigError, match=r"'gold\.rfm\.tiers\[0\]\.min_orders': .*valid integer"):
        _load(tmp_path, OMNILAKE__GOLD__RFM__TIERS="[{name: x, min_orders: many}]")
    with pytest.raises(ConfigError, match=r"'gold\.cohort\.repurchase_windows_days\[1\]': .*greater than or equal"):
        _load(tmp_path, OMNILAKE__GOLD__COHORT__REPURCHASE_WINDOWS_DAYS="[7, 0]")


def test_fact_predicate_lists_dates_or_covers_all() -> None:
    d1, d2 = date(2025, 3, 2), date(2025, 3, 5)
    assert fact_predicate("business_date", (d1, d2), d2) == "business_date IN (DATE'2025-03-02', DATE'2025-03-05')"
    assert fact_predicate("business_date", None, d2) == "business_date <= DATE'2025-03-05'"
    assert fact_predicate("business_date", (), d2) is None


def test_snapshot_dates_backfill_within_retention() -> None:
    d = [date(2025, 3, i) for i in range(1, 6)]
    assert snapshot_dates(d[4], None, keep_days=35) == ([d[4]], date(2025, 1, 29))
    assert snapshot_dates(d[4], d[0], keep_days=2) == ([d[2], d[3], d[4]], d[2])  # older ones would expire at once
    with pytest.raises(ValueError, match="after --as-of"):
        snapshot_dates(d[0], d[4], keep_days=2)
