"""Entry point of `omnilake build features --as-of D`: silver -> features.customer_asof and item_store_day.

The as-of date is inclusive: every feature uses data dated on or before D only.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from jobs.common.clock import check_as_of
from jobs.common.log import event, stage
from jobs.features.customer_asof import customer_asof, customer_asof_since
from jobs.features.item_store_day import item_store_day
from jobs.gold.demand import grid_state
from jobs.gold.run import windowed_grid
from jobs.gold.sales import sales_lines
from jobs.io.changes import GRID, GRID_SOURCES, LINES, PRODUCTS, FactSpec, plan_facts, read_from, save_watermarks
from jobs.io.inputs import dated_from, default_as_of, read_inputs
from jobs.io.touched import Base, base_rows, save_snapshot_base, snapshot_base, touched_customers
from jobs.io.writes import snapshot_dates, write_facts, write_snapshot

if TYPE_CHECKING:
    from jobs.common.config import Config
    from jobs.common.config.gold import FeatureRules

INPUTS = (
    "silver.order_lines",
    "silver.events",
    "silver.inventory",
    "silver.returns",
    "silver.products",
    "silver.daily_sales_imported",
)
ITEM_STORE_DAY = "features.item_store_day"
GRID_STATE = "features.grid_state"
CUSTOMER_ASOF = "features.customer_asof"
RETURNS, EVENTS = "silver.returns", "silver.events"


def fact_specs(rules: FeatureRules) -> tuple[FactSpec, ...]:
    """item_store_day (its lags and rolling windows read that many grid days back) and the grid state."""
    back = max((*rules.lags_days, *rules.rolling_days, 1))  # 1: price_change reads the day before
    return (
        FactSpec(ITEM_STORE_DAY, "date", GRID_SOURCES, needs={GRID: back}),
        FactSpec(GRID_STATE, "date", GRID_SOURCES, needs={GRID: 0}),
    )


def run_features(cfg: Config, as_of: date | None, *, since: date | None = None, full: bool = False) -> dict[str, int]:
    """Rewrite the item_store_day partitions new or late data affects (up to `as_of`), write customer_asof for
    `as_of` (or every date from `since`) dropping those older than the retention; returns table -> rows written.

    item_store_day is built on the grid of the window its rewritten dates need, seeded with features.grid_state
    (all history when it is rewritten in full); customer_asof reads all history."""
    from jobs.common.spark import build_spark
    from jobs.io.tables import Catalog

    rules = cfg.features
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    versions = {name: catalog.version(name) for name in INPUTS}
    src = read_inputs(catalog, INPUTS)
    explicit = as_of is not None
    as_of = as_of or default_as_of(src[LINES])
    # before any write: a future as-of would expire every real snapshot and move the watermarks past every date
    check_as_of(cfg, as_of, what="--as-of" if explicit else "the as-of (latest order date in silver.order_lines)")
    # all history, cached: the planner's first-purchase check and customer_asof read it (item_store_day does not)
    all_lines = sales_lines(src[LINES], excluded_statuses=cfg.gold.excluded_statuses).cache()
    specs = fact_specs(rules)
    plan = plan_facts(
        catalog, "features", specs, until=as_of, versions=versions, inputs={**src, LINES: all_lines}, full=full
    )
    starts = read_from(plan, specs)
    dates = plan.affected[ITEM_STORE_DAY]
    event(
        "features.plan",
        as_of=as_of,
        until=plan.until,
        item_store_day="all" if dates is None else len(dates),
        grid_from=starts[GRID] or "all",
    )
    win = dated_from(src, starts)
    summary: dict[str, int] = {}
    with stage("features.run", as_of=as_of) as info:
        lines = sales_lines(win[LINES], excluded_statuses=cfg.gold.excluded_statuses)
        grid = windowed_grid(catalog, GRID_STATE, lines, win, until=plan.until, start=starts[GRID])
        grid = grid.cache()  # item_store_day and the grid state
        built = {
            ITEM_STORE_DAY: item_store_day(grid, src[PRODUCTS], lags=rules.lags_days, rolling=rules.rolling_days),
            GRID_STATE: grid_state(grid),
        }
        summary.update(write_facts(catalog, built, specs, plan, workers=cfg.gold.parallel_tables))
        grid.unpersist()
        days, cutoff = snapshot_dates(as_of, since, keep_days=rules.snapshot_retention_days)
        base = None if full else snapshot_base(catalog, "features", (CUSTOMER_ASOF,), as_of=days[0])
        windows = {LINES: rules.windows_days, RETURNS: (), EVENTS: (rules.engagement_days,)}
        for day in days:
            touched = (
                None if base is None else touched_customers(catalog, base, versions, src, as_of=day, windows=windows)
            )
            args = (all_lines, src[RETURNS], src[EVENTS], src[PRODUCTS])
            kwargs = {
                "as_of": day,
                "windows": rules.windows_days,
                "channels": rules.channels,
                "engagement_days": rules.engagement_days,
            }
            if touched is None:  # no base, or one the change feeds cannot bring forward
                df = customer_asof(*args, **kwargs)
            else:
                df = customer_asof_since(base_rows(catalog, CUSTOMER_ASOF, base), touched, *args, **kwargs)
            rows = write_snapshot(catalog, df, CUSTOMER_ASOF, as_of=day, expire_before=cutoff, run_days=days)
            summary[CUSTOMER_ASOF] = summary.get(CUSTOMER_ASOF, 0) + rows
            if touched is not None:
                touched.unpersist()
            base = Base("features", day, versions)
        save_snapshot_base(catalog, Base("features", days[-1], versions))
        save_watermarks(catalog, plan)
        info["rows"] = sum(summary.values())
    all_lines.unpersist()
    return summary
