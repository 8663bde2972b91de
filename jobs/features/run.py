"""Entry point of `omnilake build features --as-of D`: silver -> features.customer_asof and item_store_day.

The as-of date is inclusive: every feature uses data dated on or before D only.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from jobs.common.log import event, stage
from jobs.features.customer_asof import customer_asof
from jobs.features.item_store_day import item_store_day
from jobs.gold.demand import store_sku_days
from jobs.gold.sales import sales_lines
from jobs.io.changes import LINES, PRODUCTS, FactSpec, plan_facts, save_watermarks
from jobs.io.inputs import default_as_of, read_inputs
from jobs.io.writes import snapshot_dates, write_fact, write_snapshot

if TYPE_CHECKING:
    from jobs.common.config import Config

INPUTS = (
    "silver.order_lines",
    "silver.events",
    "silver.inventory",
    "silver.returns",
    "silver.products",
    "silver.daily_sales_imported",
)
ITEM_STORE_DAY = FactSpec(
    "features.item_store_day",
    "date",
    {LINES: None, "silver.daily_sales_imported": None, "silver.inventory": None, PRODUCTS: None},
)
CUSTOMER_ASOF = "features.customer_asof"


def run_features(cfg: Config, as_of: date | None, *, since: date | None = None, full: bool = False) -> dict[str, int]:
    """Rewrite the item_store_day partitions new or late data affects (up to `as_of`), write customer_asof for
    `as_of` (or every date from `since`) dropping those older than the retention; returns table -> rows written."""
    from jobs.common.spark import build_spark
    from jobs.io.tables import Catalog

    rules = cfg.features
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    versions = {name: catalog.version(name) for name in INPUTS}
    src = read_inputs(catalog, INPUTS)
    as_of = as_of or default_as_of(src[LINES])
    lines = sales_lines(src[LINES], excluded_statuses=cfg.gold.excluded_statuses).cache()
    plan = plan_facts(
        catalog, "features", (ITEM_STORE_DAY,), until=as_of, versions=versions, inputs={**src, LINES: lines}, full=full
    )
    dates = plan.affected[ITEM_STORE_DAY.table]
    event("features.plan", as_of=as_of, until=plan.until, item_store_day="all" if dates is None else len(dates))
    summary: dict[str, int] = {}
    with stage("features.run", as_of=as_of) as info:
        grid = store_sku_days(
            lines, src["silver.daily_sales_imported"], src["silver.inventory"], src[PRODUCTS], until=plan.until
        )
        isd = item_store_day(grid, src[PRODUCTS], lags=rules.lags_days, rolling=rules.rolling_days)
        summary[ITEM_STORE_DAY.table] = write_fact(
            catalog, isd, ITEM_STORE_DAY.table, date_col="date", dates=dates, until=plan.until
        )
        days, cutoff = snapshot_dates(as_of, since, keep_days=rules.snapshot_retention_days)
        for day in days:
            df = customer_asof(
                lines,
                src["silver.returns"],
                src["silver.events"],
                src[PRODUCTS],
                as_of=day,
                windows=rules.windows_days,
                channels=rules.channels,
                engagement_days=rules.engagement_days,
            )
            rows = write_snapshot(catalog, df, CUSTOMER_ASOF, as_of=day, expire_before=cutoff)
            summary[CUSTOMER_ASOF] = summary.get(CUSTOMER_ASOF, 0) + rows
        save_watermarks(catalog, plan)
        info["rows"] = sum(summary.values())
    lines.unpersist()
    return summary
