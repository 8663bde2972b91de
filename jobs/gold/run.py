"""Entry point of `omnilake build gold [--as-of D] [--since S]`: silver -> gold facts and snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from jobs.common.config.gold import GoldRules
from jobs.common.log import event, stage
from jobs.gold.alerts import alerts
from jobs.gold.anomalies import anomalies
from jobs.gold.cohorts import cohort_retention
from jobs.gold.customers import customer_360, rfm_segments
from jobs.gold.demand import store_sku_days
from jobs.gold.inventory import inventory_health, reorder_points_daily
from jobs.gold.marketing import channel_roi, funnel
from jobs.gold.merch import sell_through, sell_through_daily, sku_matrix
from jobs.gold.sales import daily_sales, sales_lines
from jobs.io.changes import CUSTOMERS, LINES, PRODUCTS, RETURNED, FactSpec, plan_facts, save_watermarks
from jobs.io.inputs import default_as_of, read_inputs
from jobs.io.writes import snapshot_dates, write_fact, write_snapshot

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from jobs.common.config import Config

INPUTS = (
    "silver.order_lines",
    "silver.events",
    "silver.inventory",
    "silver.marketing_spend",
    "silver.returns",
    "silver.products",
    "silver.customers",
    "silver.daily_sales_imported",
    "ops.batch_audit",
    "gold.demand_forecast",
)
# the grid (jobs/gold/demand.py) carries stock and prices forward: a change reaches every later date
GRID_SOURCES: dict[str, int | None] = {
    LINES: None,
    "silver.daily_sales_imported": None,
    "silver.inventory": None,
    PRODUCTS: None,
}
SNAPSHOTS = (
    "gold.customer_360",
    "gold.rfm_segments",
    "gold.sku_matrix",
    "gold.sell_through",
    "gold.cohort_retention",
    "gold.inventory_health",
)


def fact_specs(rules: GoldRules) -> tuple[FactSpec, ...]:
    touch = rules.attribution.window_days
    return (
        FactSpec("gold.daily_sales", "business_date", {LINES: 0, RETURNED: 0, "silver.returns": 0, PRODUCTS: 0}),
        FactSpec("gold.funnel", "business_date", {"silver.events": 0}),
        FactSpec(
            "gold.channel_roi",
            "business_date",
            {LINES: touch, "silver.events": touch, "silver.marketing_spend": 0, CUSTOMERS: 0},
        ),
        FactSpec("gold.anomalies", "business_date", {LINES: rules.anomalies.window_days - 1}),
        FactSpec(
            "gold.alerts",
            "business_date",
            {
                **GRID_SOURCES,
                RETURNED: 1,
                "silver.returns": 1,
                "silver.events": 1,
                "ops.batch_audit": rules.alerts.quarantine_spike.baseline_days,
            },
        ),
    )


def _facts(src: Mapping[str, DataFrame], lines: DataFrame, grid: DataFrame, rules: GoldRules) -> dict[str, DataFrame]:
    # cached: written as facts and read again by the alert rules
    sales = daily_sales(lines, src["silver.returns"], src["silver.products"]).cache()
    sessions = funnel(src["silver.events"]).cache()
    stock = reorder_points_daily(grid, rules=rules.inventory)
    st = sell_through_daily(grid, src["silver.products"], rules=rules.sell_through)
    return {
        "gold.daily_sales": sales,
        "gold.funnel": sessions,
        "gold.channel_roi": channel_roi(
            lines, src["silver.events"], src["silver.marketing_spend"], window_days=rules.attribution.window_days
        ),
        "gold.anomalies": anomalies(src["silver.order_lines"], rules=rules.anomalies),
        "gold.alerts": alerts(
            sales,
            sessions,
            stock,
            st,
            src["ops.batch_audit"],
            rules=rules.alerts,
            sell_through_flag_below=rules.sell_through.flag_below,
        ),
    }


def _snapshots(
    src: Mapping[str, DataFrame], lines: DataFrame, grid: DataFrame, rules: GoldRules, as_of: date
) -> dict[str, DataFrame]:
    products = src["silver.products"]
    return {
        "gold.customer_360": customer_360(lines, src["silver.returns"], products, src["silver.customers"], as_of=as_of),
        "gold.rfm_segments": rfm_segments(lines, as_of=as_of, tiers=rules.rfm),
        "gold.sku_matrix": sku_matrix(lines, products, as_of=as_of, rules=rules.sku_matrix),
        "gold.sell_through": sell_through(grid, products, as_of=as_of, rules=rules.sell_through),
        "gold.cohort_retention": cohort_retention(lines, as_of=as_of, repurchase_days=rules.cohort.repurchase_days),
        "gold.inventory_health": inventory_health(
            grid, src["gold.demand_forecast"], as_of=as_of, rules=rules.inventory
        ),
    }


def run_gold(cfg: Config, as_of: date | None, *, since: date | None = None, full: bool = False) -> dict[str, int]:
    """Rewrite the fact partitions that new or late silver data affects, write the snapshots for `as_of`
    (every date from `since` to `as_of` for a backfill) dropping those older than the retention; returns
    table -> rows written."""
    from jobs.common.spark import build_spark
    from jobs.io.tables import Catalog

    rules = cfg.gold
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    versions = {name: catalog.version(name) for name in INPUTS}  # before reading: a later change is redone
    src = read_inputs(catalog, INPUTS)
    as_of = as_of or default_as_of(src[LINES])
    lines = sales_lines(src[LINES], excluded_statuses=rules.excluded_statuses).cache()
    plan = plan_facts(
        catalog, "gold", fact_specs(rules), until=as_of, versions=versions, inputs={**src, LINES: lines}, full=full
    )
    event(
        "gold.plan",
        as_of=as_of,
        until=plan.until,
        **{t.split(".")[1]: "all" if d is None else len(d) for t, d in plan.affected.items()},
    )
    grid = store_sku_days(
        lines, src["silver.daily_sales_imported"], src["silver.inventory"], src[PRODUCTS], until=plan.until
    ).cache()
    summary: dict[str, int] = {}
    with stage("gold.run", as_of=as_of) as info:
        facts = _facts(src, lines, grid, rules)
        for spec in fact_specs(rules):
            summary[spec.table] = write_fact(
                catalog,
                facts[spec.table],
                spec.table,
                date_col=spec.date_col,
                dates=plan.affected[spec.table],
                until=plan.until,
            )
        days, cutoff = snapshot_dates(as_of, since, keep_days=rules.snapshot_retention_days)
        for day in days:
            for table, df in _snapshots(src, lines, grid, rules, day).items():
                rows = write_snapshot(catalog, df, table, as_of=day, expire_before=cutoff)
                summary[table] = summary.get(table, 0) + rows
        save_watermarks(catalog, plan)
        info["rows"] = sum(summary.values())
    for cached in (lines, grid, facts["gold.daily_sales"], facts["gold.funnel"]):
        cached.unpersist()
    return summary
