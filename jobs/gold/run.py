"""Entry point of `omnilake build gold [--as-of D] [--since S]`: silver -> gold facts and snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from jobs.common.clock import check_as_of
from jobs.common.config.gold import GoldRules
from jobs.common.log import event, stage
from jobs.gold.alerts import alert_digest, alerts
from jobs.gold.anomalies import anomalies
from jobs.gold.audiences import marketing_audiences
from jobs.gold.baskets import basket_rules
from jobs.gold.cohorts import (
    cohort_members,
    cohort_members_since,
    cohort_retention_of,
    cohort_retention_weekly_of,
)
from jobs.gold.customers import (
    customer_360,
    customer_360_since,
    of_touched,
    rfm_segments,
    rfm_segments_since,
)
from jobs.gold.demand import grid_state, store_sku_days
from jobs.gold.geography import customer_geography
from jobs.gold.inventory import inventory_health, reorder_points_daily, stock_at
from jobs.gold.marketing import channel_roi, first_purchases, funnel
from jobs.gold.merch import sell_through, sell_through_daily, sku_matrix
from jobs.gold.performance import brand_performance, gmv_decomposition
from jobs.gold.pricing import markdowns, price_response
from jobs.gold.replenishment import stock_moves
from jobs.gold.repurchase import repurchase
from jobs.gold.returns import returns_analysis, returns_by_sku
from jobs.gold.sales import daily_sales, sales_lines
from jobs.gold.trends import history_days, sku_trend_days, sku_trends, trend_days_from
from jobs.io.changes import (
    CUSTOMERS,
    GRID,
    GRID_SOURCES,
    LINES,
    PRODUCTS,
    RETURNED,
    FactSpec,
    Plan,
    plan_facts,
    read_from,
    save_watermarks,
)
from jobs.io.inputs import dated_from, default_as_of, first_order_date, grid_seed, read_inputs
from jobs.io.touched import Base, base_rows, save_snapshot_base, snapshot_base, touched_customers
from jobs.io.writes import snapshot_dates, write_facts, write_in_waves, write_snapshot

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from jobs.common.config import Config
    from jobs.io.tables import Catalog

INPUTS = (
    "silver.order_lines",
    "silver.events",
    "silver.inventory",
    "silver.marketing_spend",
    "silver.returns",
    "silver.products",
    "silver.customers",
    "silver.stores",
    "silver.daily_sales_imported",
    "ops.batch_audit",
    "gold.demand_forecast",
    "gold.churn_scores",  # gold.marketing_audiences: empty frames before the first scoring
    "gold.customer_ltv",
)
EVENTS, RETURNS, AUDIT = "silver.events", "silver.returns", "ops.batch_audit"
SILVER_CUSTOMERS, CUSTOMER_360, RFM = "silver.customers", "gold.customer_360", "gold.rfm_segments"
# snapshots of one row per customer, carried from the last one for the customers a run does not touch
COHORT_MEMBERS = "gold.cohort_members"  # internal: what the cohort tables and gold.repurchase count, per customer
# columns gold.cohort_members gained (issue 16): a table written before them is extended, and its base not carried
MEMBERS_ADDED = ("first_channel", "active_weeks")
CUSTOMER_SNAPSHOTS = (CUSTOMER_360, RFM, COHORT_MEMBERS)
# what the customer snapshots read, and the trailing windows they count over besides the lifetime: none
SNAPSHOT_INPUTS: dict[str, tuple[int, ...]] = {LINES: (), RETURNS: (), SILVER_CUSTOMERS: ()}
GRID_STATE = "gold.grid_state"
PRICE_RESPONSE = "gold.price_response"
ALERTS, ALERT_DIGEST = "gold.alerts", "gold.alert_digest"
# columns gold.alerts gained (issue 16): a table written before them is extended and rebuilt in full (onset rules)
ALERTS_ADDED = {"status": "string", "since": "date", "days_active": "int", "priority": "double"}
MONTH_BACK = 30  # a month-to-date total reads back to the 1st: at most 30 days before the date
# A business date is a local date, within one day of its timestamp's UTC date (time zone offsets are under 24h):
# an order's touches [order_ts - window, order_ts] are dated up to window + 2 days before the order's date.
DATE_SKEW_DAYS = 1
SNAPSHOTS = (
    "gold.customer_360",
    "gold.rfm_segments",
    "gold.sku_matrix",
    "gold.sell_through",
    "gold.cohort_retention",
    "gold.inventory_health",
    "gold.cohort_members",
    "gold.returns_by_sku",
    "gold.cohort_retention_weekly",
    "gold.repurchase",
    "gold.customer_geography",
    "gold.replenishment",
    "gold.stock_transfers",
    "gold.sku_trends",
    "gold.marketing_audiences",
    "gold.basket_rules",
    "gold.price_response",
    "gold.markdowns",
)
# write waves (jobs/io/writes.in_waves): the alerts and the GMV decomposition read the cached daily sales and
# sessions, the digest ranks the cached alerts, the cohort tables count the cached cohort members and the markdowns
# read the cached price response
FACTS_AFTER = ((ALERTS, "gold.gmv_decomposition"), (ALERT_DIGEST,))
SNAPSHOTS_AFTER = (("gold.cohort_retention", "gold.cohort_retention_weekly", "gold.repurchase", "gold.markdowns"),)


def windowed_grid(
    catalog: Catalog, state: str, lines: DataFrame, win: Mapping[str, DataFrame], *, until: date, start: date | None
) -> DataFrame:
    """The store x SKU x day grid up to `until` from the sales `lines` and the windowed inputs `win`: from `start`
    on, seeded with the `state` table's rows of the day before (all history when `start` is None)."""
    return store_sku_days(
        lines,
        win["silver.daily_sales_imported"],
        win["silver.inventory"],
        win[PRODUCTS],
        until=until,
        start=start,
        seed=grid_seed(catalog, state, start),
    )


def _grid_back(rules: GoldRules) -> int:
    """Grid days before a date that reorder points and sell-through (facts and snapshots) read (trailing windows)."""
    return max(rules.inventory.demand_window_days, rules.sell_through.window_days) - 1


def _alert_specs(rules: GoldRules) -> tuple[FactSpec, FactSpec]:
    """gold.alerts and gold.alert_digest (from the same frame). Day-over-day rules read the day before, stock rules
    the grid's trailing windows, sales targets the month to date, SKU trends their recent and baseline windows; each
    alert also looks at its rule's conditions of the suppression window before it, so a change reaches that many
    days further."""
    back = rules.alerts.max_suppress_days
    month = max(MONTH_BACK if rules.alerts.sales_target.monthly_revenue else 1, history_days(rules.sku_trends))
    audit = rules.alerts.quarantine_spike.baseline_days + back
    sources = {**GRID_SOURCES, RETURNED: 1 + back, RETURNS: 1 + back, EVENTS: 1 + back, AUDIT: audit}
    needs = {LINES: month + back, RETURNS: 1 + back, EVENTS: 1 + back, GRID: _grid_back(rules) + back, AUDIT: audit}
    return tuple(FactSpec(t, "business_date", sources, needs=needs) for t in (ALERTS, ALERT_DIGEST))


def fact_specs(rules: GoldRules) -> tuple[FactSpec, ...]:
    touch = rules.attribution.window_days
    touch_back = touch + 2 * DATE_SKEW_DAYS
    return (
        FactSpec(
            "gold.daily_sales",
            "business_date",
            {LINES: 0, RETURNED: 0, RETURNS: 0, PRODUCTS: 0},
            needs={LINES: 0, RETURNS: 0},
        ),
        FactSpec("gold.funnel", "business_date", {EVENTS: 0}, needs={EVENTS: 0}),
        FactSpec(
            "gold.channel_roi",
            "business_date",
            {LINES: touch, EVENTS: touch, "silver.marketing_spend": 0, CUSTOMERS: 0},
            needs={LINES: touch_back, EVENTS: touch_back},  # spend: read whole (small; a campaign's channel)
        ),
        FactSpec(
            "gold.anomalies",
            "business_date",
            {LINES: rules.anomalies.window_days - 1},
            needs={LINES: rules.anomalies.window_days - 1},
        ),
        *_alert_specs(rules),
        FactSpec(GRID_STATE, "date", GRID_SOURCES, needs={GRID: 0}),
        # weekly facts (partitions: the Monday of each affected date); compared with the week before: 7 days
        FactSpec(
            "gold.returns_analysis",
            "week_start",
            {LINES: 0, RETURNS: 0, PRODUCTS: 0},
            needs={LINES: 0, RETURNS: 0},
            period="week",
        ),
        FactSpec("gold.brand_performance", "week_start", {LINES: 7, PRODUCTS: 7}, needs={LINES: 7}, period="week"),
        FactSpec(
            "gold.gmv_decomposition",
            "period_start",
            {LINES: 7, EVENTS: 7},
            needs={LINES: 7, EVENTS: 7},
            period="day+week",
        ),
    )


def _facts(
    win: Mapping[str, DataFrame],
    lines: DataFrame,
    grid: DataFrame,
    rules: GoldRules,
    *,
    returned_lines: DataFrame | None,
    first: DataFrame | None,
    until: date,
    trends_from: date,
) -> dict[str, DataFrame]:
    """The facts up to `until`; SKU trend alerts are judged on the dates from `trends_from` (trend_days_from)."""
    # cached: written as facts and read again by the alert rules
    sales = daily_sales(lines, win[RETURNS], win[PRODUCTS], returned_lines=returned_lines).cache()
    sessions = funnel(win[EVENTS]).cache()
    stock = reorder_points_daily(grid, rules=rules.inventory)
    st = sell_through_daily(grid, win[PRODUCTS], rules=rules.sell_through)
    trend_days = sku_trend_days(lines, win[PRODUCTS], start=trends_from, until=until, rules=rules.sku_trends)
    raised = alerts(
        sales,
        sessions,
        stock,
        st,
        win[AUDIT],
        trend_days,
        rules=rules.alerts,
        sell_through_flag_below=rules.sell_through.flag_below,
        trends=rules.sku_trends,
    ).cache()  # written, and ranked by the digest
    return {
        "gold.daily_sales": sales,
        "gold.funnel": sessions,
        "gold.channel_roi": channel_roi(
            lines,
            win[EVENTS],
            win["silver.marketing_spend"],
            window_days=rules.attribution.window_days,
            first=first,
        ),
        "gold.anomalies": anomalies(win[LINES], rules=rules.anomalies),
        ALERTS: raised,
        ALERT_DIGEST: alert_digest(raised, top_n=rules.alerts.digest_top_n),
        GRID_STATE: grid_state(grid),
        "gold.returns_analysis": returns_analysis(lines, win[RETURNS], win[PRODUCTS], until=until),
        "gold.brand_performance": brand_performance(lines, win[PRODUCTS], until=until),
        "gold.gmv_decomposition": gmv_decomposition(lines, sessions, until=until),
    }


def _snapshots(
    src: Mapping[str, DataFrame],
    lines: DataFrame,
    grid: DataFrame,
    rules: GoldRules,
    as_of: date,
    *,
    previous: Mapping[str, DataFrame] | None,
    touched: DataFrame | None,
    country: str,
) -> dict[str, DataFrame]:
    """The snapshots as of `as_of`; the customer ones from `previous` (their base snapshot) and the `touched`
    customers when given (jobs/io/touched.py), else from all history."""
    products = src["silver.products"]
    if previous is None or touched is None:
        customers = {
            CUSTOMER_360: customer_360(lines, src[RETURNS], products, src[SILVER_CUSTOMERS], as_of=as_of),
            RFM: rfm_segments(lines, as_of=as_of, tiers=rules.rfm),
            COHORT_MEMBERS: cohort_members(lines, as_of=as_of),
        }
    else:
        customers = {
            CUSTOMER_360: customer_360_since(
                previous[CUSTOMER_360], touched, lines, src[RETURNS], products, src[SILVER_CUSTOMERS], as_of=as_of
            ),
            RFM: rfm_segments_since(previous[RFM], touched, lines, as_of=as_of, tiers=rules.rfm),
            COHORT_MEMBERS: cohort_members_since(previous[COHORT_MEMBERS], touched, lines, as_of=as_of),
        }
    members = customers[COHORT_MEMBERS].cache()  # written, and counted by the cohort tables (run_gold unpersists)
    customers[COHORT_MEMBERS] = members
    cohort = rules.cohort
    moves, transfers = stock_moves(
        grid, src["gold.demand_forecast"], products, as_of=as_of, history=rules.inventory, rules=rules.replenishment
    )
    # cached: written, and read by the markdowns (run_gold unpersists)
    response = price_response(lines, products, as_of=as_of, rules=rules.price_response).cache()
    return {
        **customers,
        "gold.sku_matrix": sku_matrix(lines, products, as_of=as_of, rules=rules.sku_matrix),
        "gold.sell_through": sell_through(grid, products, as_of=as_of, rules=rules.sell_through),
        "gold.cohort_retention": cohort_retention_of(members, as_of=as_of, repurchase_days=cohort.repurchase_days),
        "gold.cohort_retention_weekly": cohort_retention_weekly_of(
            members, as_of=as_of, repurchase_days=cohort.repurchase_days
        ),
        "gold.repurchase": repurchase(members, as_of=as_of, windows_days=cohort.repurchase_windows_days),
        "gold.inventory_health": inventory_health(
            grid, src["gold.demand_forecast"], as_of=as_of, rules=rules.inventory
        ),
        "gold.returns_by_sku": returns_by_sku(lines, src[RETURNS], products, as_of=as_of, rules=rules.returns),
        "gold.sku_trends": sku_trends(lines, products, as_of=as_of, rules=rules.sku_trends),
        "gold.marketing_audiences": marketing_audiences(
            src[EVENTS],
            lines,
            products,
            src[SILVER_CUSTOMERS],
            src["gold.churn_scores"],
            src["gold.customer_ltv"],
            as_of=as_of,
            rules=rules.audiences,
        ),
        "gold.basket_rules": basket_rules(lines, products, as_of=as_of, rules=rules.basket_rules),
        PRICE_RESPONSE: response,
        "gold.markdowns": markdowns(
            stock_at(grid, as_of=as_of, rules=rules.inventory), response, products, as_of=as_of, rules=rules.markdowns
        ),
        "gold.replenishment": moves,
        "gold.stock_transfers": transfers,
        "gold.customer_geography": customer_geography(
            src[SILVER_CUSTOMERS],
            lines,
            src["silver.stores"],
            as_of=as_of,
            rules=rules.geography,
            default_country=country,
        ),
    }


def run_gold(cfg: Config, as_of: date | None, *, since: date | None = None, full: bool = False) -> dict[str, int]:
    """Rewrite the fact partitions that new or late silver data affects, write the snapshots for `as_of`
    (every date from `since` to `as_of` for a backfill) dropping those older than the retention; returns
    table -> rows written.

    The facts are built from each input's window the rewritten dates need (jobs.io.changes.read_from), the grid
    from its window seeded with gold.grid_state; a fact rewritten in full reads all history. All-history sales
    lines are cached for what needs them (the planner's first-purchase check, lookups by key, the snapshots); the
    facts read their window from the files."""
    from jobs.common.spark import build_spark
    from jobs.io.tables import Catalog

    rules = cfg.gold
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    versions = {name: catalog.version(name) for name in INPUTS}  # before reading: a later change is redone
    src = read_inputs(catalog, INPUTS)
    explicit = as_of is not None
    as_of = as_of or default_as_of(src[LINES])
    # before any write: a future as-of would expire every real snapshot and move the watermarks past every date
    check_as_of(cfg, as_of, what="--as-of" if explicit else "the as-of (latest order date in silver.order_lines)")
    all_lines = sales_lines(src[LINES], excluded_statuses=rules.excluded_statuses).cache()
    specs = fact_specs(rules)
    plan = plan_facts(
        catalog, "gold", specs, until=as_of, versions=versions, inputs={**src, LINES: all_lines}, full=full
    )
    plan = _alerts_current(catalog, plan)
    days, cutoff = snapshot_dates(as_of, since, keep_days=rules.snapshot_retention_days)
    starts = read_from(plan, specs, also={GRID: days[0] - timedelta(days=_grid_back(rules))})
    event(
        "gold.plan",
        as_of=as_of,
        until=plan.until,
        **{t.split(".")[1]: "all" if d is None else len(d) for t, d in plan.affected.items()},
        reads_from=_reads_from(starts),
    )
    win = dated_from(src, starts)
    windowed = starts[LINES] is not None
    lines = sales_lines(win[LINES], excluded_statuses=rules.excluded_statuses).cache() if windowed else all_lines
    grid = windowed_grid(catalog, GRID_STATE, lines, win, until=plan.until, start=starts[GRID]).cache()
    key = ["channel", "order_id", "line_no"]
    # a windowed run looks up the lines its returns return, and first purchases, in all history (narrow reads)
    returned = all_lines.join(win[RETURNS].select(*key).distinct(), on=key, how="left_semi") if windowed else None
    # first purchases of the window's customers only: the orders attributed are the window's
    first = first_purchases(of_touched(all_lines, lines.select("customer_id"))) if windowed else None
    # the first date whose SKU trend has its whole baseline in the lines read: the same in a windowed run and in a
    # full rebuild
    trends_from = trend_days_from(first_order_date(all_lines), starts[LINES], until=plan.until, rules=rules.sku_trends)
    summary: dict[str, int] = {}
    with stage("gold.run", as_of=as_of) as info:
        facts = _facts(
            win, lines, grid, rules, returned_lines=returned, first=first, until=plan.until, trends_from=trends_from
        )
        summary.update(write_facts(catalog, facts, specs, plan, after=FACTS_AFTER, workers=rules.parallel_tables))
        for cached in (facts[ALERTS], facts["gold.daily_sales"], facts["gold.funnel"]):
            cached.unpersist()
        base = None if full else _current(catalog, snapshot_base(catalog, "gold", CUSTOMER_SNAPSHOTS, as_of=days[0]))
        for day in days:
            touched = (
                None
                if base is None
                else touched_customers(catalog, base, versions, src, as_of=day, windows=SNAPSHOT_INPUTS)
            )
            previous = None if touched is None else {t: base_rows(catalog, t, base) for t in CUSTOMER_SNAPSHOTS}
            snapshots = _snapshots(
                src,
                all_lines,
                grid,
                rules,
                day,
                previous=previous,
                touched=touched,
                country=cfg.business.default_country,
            )

            def write(table: str, frames: Mapping[str, DataFrame] = snapshots, day: date = day) -> int:
                return write_snapshot(
                    catalog,
                    frames[table],
                    table,
                    as_of=day,
                    expire_before=cutoff,
                    run_days=days,
                    merge_schema=table == COHORT_MEMBERS,
                )

            written = write_in_waves(write, list(snapshots), after=SNAPSHOTS_AFTER, workers=rules.parallel_tables)
            for table, rows in written.items():
                summary[table] = summary.get(table, 0) + rows
            for cached in (COHORT_MEMBERS, PRICE_RESPONSE):
                snapshots[cached].unpersist()
            if touched is not None:
                touched.unpersist()
            base = Base("gold", day, versions)
        save_snapshot_base(catalog, Base("gold", days[-1], versions))
        save_watermarks(catalog, plan)
        info["rows"] = sum(summary.values())
    # the grid last: unpersisting what a cached frame reads from would drop that frame's cache too
    for cached in (grid, lines, all_lines):
        cached.unpersist()
    return summary


def _current(catalog: Catalog, base: Base | None) -> Base | None:
    """`base`, unless gold.cohort_members predates a column it now has: then recompute every customer once."""
    if base is None:
        return None
    missing = [c for c in MEMBERS_ADDED if c not in catalog.read(COHORT_MEMBERS).columns]
    if missing:
        event("gold.snapshot_base_outdated", table=COHORT_MEMBERS, missing=",".join(missing))
        return None
    return base


def _alerts_current(catalog: Catalog, plan: Plan) -> Plan:
    """`plan`, or, when gold.alerts predates ALERTS_ADDED, the plan rewriting it in full once its columns are added
    (its old rows were raised every day a condition held)."""
    if not catalog.exists(ALERTS) or all(c in catalog.read(ALERTS).columns for c in ALERTS_ADDED):
        return plan
    event("gold.alerts_outdated", table=ALERTS, missing=",".join(ALERTS_ADDED))
    catalog.add_columns(ALERTS, ALERTS_ADDED)
    return replace(plan, affected={**plan.affected, ALERTS: None})


def _reads_from(starts: Mapping[str, date | None]) -> str:
    """`input=first date read` (or `all`) for the inputs a run windows, for the plan event."""
    return ",".join(f"{name.split('.')[-1]}={start or 'all'}" for name, start in sorted(starts.items()))
