from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.testing import assertDataFrameEqual

from jobs.gold.cohorts import cohort_members
from jobs.gold.run import INPUTS, MEMBERS_ADDED, SNAPSHOTS, fact_specs, run_gold
from jobs.gold.sales import sales_lines
from jobs.io.changes import plan_facts
from jobs.io.inputs import read_inputs
from jobs.io.tables import Catalog
from tests.support.silver_tables import LATER, copy_warehouse, with_rules, write_all

FACTS = (
    "gold.daily_sales",
    "gold.funnel",
    "gold.channel_roi",
    "gold.anomalies",
    "gold.alerts",
    "gold.alert_digest",
    "gold.grid_state",
    "gold.returns_analysis",
    "gold.brand_performance",
    "gold.gmv_decomposition",
)
D4, D5 = date(2025, 3, 4), date(2025, 3, 5)


def _last_commit(catalog: Catalog, table: str) -> tuple[dict, set[str], set[str]]:
    """operationMetrics of the last commit and the partition folders its remove / add actions touch."""
    version = catalog.version(table)
    log = Path(catalog.path(table)) / "_delta_log" / f"{version:020d}.json"
    actions = [json.loads(line) for line in log.read_text().splitlines()]
    removed = {a["remove"]["path"].split("/")[0] for a in actions if "remove" in a}
    added = {a["add"]["path"].split("/")[0] for a in actions if "add" in a}
    history = DeltaTable.forPath(catalog.spark, catalog.path(table)).history(1).first()
    return dict(history["operationMetrics"]), removed, added


@pytest.mark.integration
def test_incremental_runs_equal_a_full_rebuild_and_rewrite_only_affected_partitions(
    spark, cfg, tmp_path, base_silver
) -> None:
    inc_cfg = with_rules(cfg, snapshot_retention_days=0)  # keep the run's own snapshot and the one before
    inc = Catalog.from_config(spark, inc_cfg)
    copy_warehouse(base_silver, inc_cfg.paths.warehouse)
    first = run_gold(inc_cfg, D4)
    assert first["gold.daily_sales"] == 7
    write_all(inc, LATER)  # 03-05 data and a late POS line for 03-02
    funnel_before = inc.version("gold.funnel")
    second = run_gold(inc_cfg, None)  # as-of from the data: 03-05
    assert second == {
        "gold.daily_sales": 4,
        "gold.funnel": 1,
        "gold.channel_roi": 2,
        "gold.anomalies": 8,
        "gold.alerts": 5,  # raised on onset only (issue 16): conditions already held the day before are not
        "gold.alert_digest": 5,  # every alert of those days (fewer than digest_top_n a day)
        "gold.grid_state": 19,  # 5 store x SKU pairs on 03-02 .. 03-05 (S3/P1 from 03-03): the late line reaches them
        "gold.customer_360": 3,
        "gold.rfm_segments": 3,
        "gold.sku_matrix": 3,
        "gold.sell_through": 5,
        "gold.cohort_retention": 1,
        "gold.inventory_health": 4,
        "gold.cohort_members": 3,
        # C1 (03-01, a Saturday) and C2 in the week of 02-24 (weeks 0 and 1), C3 in that of 03-03 (week 0)
        "gold.cohort_retention_weekly": 3,
        # 3 windows x (month 03: web, pos; week 02-24: web (C1), pos (C2: the late line is its first order, before
        # the web order of the same hour); week 03-03: pos (C3))
        "gold.repurchase": 15,
        # the late line of 03-02 (a Sunday) rewrites its week (02-24) and the next (03-03), for which 03-05 is new
        "gold.returns_analysis": 1,  # week 03-03: W2's return; the week of 02-24 has none
        "gold.brand_performance": 5,  # 02-24: web, pos; 03-03: web, pos, app
        "gold.gmv_decomposition": 14,  # days 03-02 .. 03-05 (the line's day and a week after) and both weeks
        "gold.returns_by_sku": 3,
        "gold.sku_trends": 3,  # P1-P3 sold in the 112 days to 03-05; too few lines for a trend
        "gold.basket_rules": 0,  # every order has one SKU: nothing bought together (an empty write counts 0)
        "gold.replenishment": 4,  # the inventory_health pairs
        # none on 03-05 (S2's 3 units of P3 are under its order-up-to of 6 once the late line is in): the empty
        # write commits nothing and counts 0, not the 03-04 commit's row (S2 -> S1, 3 units of P3)
        "gold.stock_transfers": 0,
        # C1, C2 (Chicago: under the 10-customer minimum, so `(other)` in IL) and C3 (no address, no known store)
        "gold.customer_geography": 2,
        # no one to act on in 5 days of March: C1 carted P1 once (3 needed), each customer viewed once (8 needed),
        # no last purchase over 90 days old (dormant), no churn or LTV scores yet (high_value_at_risk: empty)
        "gold.marketing_audiences": 0,
        "gold.price_response": 2,  # categories A and B: no price change in 5 days (status too_few_price_changes)
        "gold.markdowns": 0,  # no pair with 90+ days of cover or stock without demand
    }

    metrics, removed, added = _last_commit(inc, "gold.daily_sales")
    assert (removed, added) == ({"business_date=2025-03-02"}, {"business_date=2025-03-02", "business_date=2025-03-05"})
    assert {
        k: metrics[k] for k in ("numRemovedFiles", "numDeletedRows", "numFiles", "numOutputRows", "numCopiedRows")
    } == {"numRemovedFiles": "1", "numDeletedRows": "2", "numFiles": "2", "numOutputRows": "4", "numCopiedRows": "0"}
    metrics, removed, added = _last_commit(inc, "gold.funnel")  # no late event: only the new day is written
    assert inc.version("gold.funnel") == funnel_before + 1
    assert (removed, added, metrics["numRemovedFiles"]) == (set(), {"business_date=2025-03-05"}, "0")
    # a rerun on the same silver would rewrite no fact partition
    versions = {name: inc.version(name) for name in INPUTS}
    rerun = plan_facts(
        inc,
        "gold",
        fact_specs(inc_cfg.gold),
        until=D5,
        versions=versions,
        inputs=read_inputs(inc, INPUTS),
    )
    assert rerun.affected == dict.fromkeys(FACTS, ())

    # a full rebuild on a copy of the same silver: every fact and snapshot table is the same
    full_cfg = with_rules(cfg, warehouse=tmp_path / "full", snapshot_retention_days=0)
    copy_warehouse(Path(inc_cfg.paths.warehouse), full_cfg.paths.warehouse)
    full = Catalog.from_config(spark, full_cfg)
    run_gold(full_cfg, D5)
    for table in FACTS:
        assertDataFrameEqual(inc.read(table), full.read(table))
    for table in SNAPSHOTS:  # (the incremental tables also keep their 03-04 snapshot: below)
        assertDataFrameEqual(inc.read(table).where(f"as_of = DATE'{D5}'"), full.read(table))
    # retention 0 drops every partition before 03-05 but the newest other one (issue 11, defect 3): 03-04 stays
    assert {r["as_of"] for r in inc.read("gold.customer_360").select("as_of").distinct().collect()} == {D4, D5}


@pytest.mark.integration
def test_cohort_members_written_before_its_new_columns_gain_them_with_everyone_recomputed(
    spark, cfg, base_silver
) -> None:
    old_cfg = with_rules(cfg, snapshot_retention_days=0)
    old = Catalog.from_config(spark, old_cfg)
    copy_warehouse(base_silver, old_cfg.paths.warehouse)
    run_gold(old_cfg, D4)
    written = old.read("gold.cohort_members").drop(*MEMBERS_ADDED)  # as a build before issue 16 wrote it
    old.overwrite(written, "gold.cohort_members", partition_by=["as_of"])
    write_all(old, LATER)
    run_gold(old_cfg, None)  # the 03-04 base cannot be carried: every customer from their history
    members = old.read("gold.cohort_members")
    lines = sales_lines(old.read("silver.order_lines"), excluded_statuses=old_cfg.gold.excluded_statuses)
    assertDataFrameEqual(members.where(f"as_of = DATE'{D5}'"), cohort_members(lines, as_of=D5))
    assert members.where(f"as_of = DATE'{D4}' AND first_channel IS NULL").count() == 3  # older rows: null
