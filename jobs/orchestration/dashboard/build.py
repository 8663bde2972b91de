"""`omnilake dashboard` / the daily DAG's dashboard task: read (reads.py), compute (metrics.py), draw (figures.py),
write one HTML file atomically (page.py)."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jobs.common.config import Config
from jobs.common.config.gold import GoldRules
from jobs.common.config.orchestration import DashboardSettings
from jobs.common.log import event
from jobs.orchestration.dashboard import figures as fig
from jobs.orchestration.dashboard import metrics as m
from jobs.orchestration.dashboard.page import Section, render_page
from jobs.orchestration.dashboard.reads import Inputs, default_as_of, missing_note, read_inputs

NO_MODELS = "no registered model yet: run `omnilake train all --as-of D` (or `omnilake demo`)"


@dataclass(frozen=True)
class DashboardResult:
    path: Path
    as_of: date
    bytes: int
    seconds: float
    rendered: list[str]
    missing: list[str]


def _section(inputs: Inputs, key: str, title: str, description: str, needs: dict[str, str], draw) -> Section:
    """A section drawn by `draw()` when every frame it `needs` (frame -> table) was read, else the hints."""
    section = Section(key, title, description, sources=[inputs.notes[f] for f in needs if f in inputs.notes])
    absent = [t for f, t in needs.items() if f not in inputs.frames]
    if absent:
        section.missing = [inputs.missing.get(t) or f"{t}: no rows on or before {inputs.as_of}" for t in absent]
        return section
    section.figure = draw()
    return section


def build_sections(inputs: Inputs, *, conf: DashboardSettings, gold: GoldRules) -> list[Section]:
    """Every section of the page from the frames read (pure: no I/O)."""
    f, as_of = inputs.frames, inputs.as_of
    sales_needs = {"sales": "gold.daily_sales", "orders": "silver.orders"}
    daily = m.channel_daily(f["sales"], f["orders"], f.get("funnel")) if all(k in f for k in sales_needs) else None
    now, _ = m.periods(as_of, conf.kpi_period_days)
    shown = m.periods(as_of, conf.window_days)[0]
    sections = [
        _section(
            inputs,
            "kpis",
            "Headline KPIs",
            f"Last {conf.kpi_period_days} days to {as_of} against the {conf.kpi_period_days} days before. AOV = GMV / "
            "orders; conversion = orders / visitors of the channels with web or app traffic; repurchase rate = "
            "repurchased / eligible customers over every cohort (snapshot as of each period's end).",
            sales_needs,  # without a funnel or retention, visitors / conversion / repurchase show no value
            lambda: fig.kpi_figure(
                m.kpis(
                    daily,
                    as_of=as_of,
                    period_days=conf.kpi_period_days,
                    retention_now=f.get("retention"),
                    retention_before=f.get("retention_before"),
                ),
                period_days=conf.kpi_period_days,
            ),
        ),
        _section(
            inputs,
            "sales_by_channel",
            "Sales by channel",
            f"GMV per business date, {shown[0]} to {as_of}.",
            {"sales": "gold.daily_sales"},
            lambda: fig.sales_by_channel_figure(m.since(m.channel_daily(f["sales"], f.get("orders"), None), shown[0])),
        ),
        _section(
            inputs,
            "gmv_decomposition",
            "GMV = visitors x conversion x AOV",
            f"Per channel with visitors, last {conf.kpi_period_days} days to {as_of}.",
            {**sales_needs, "funnel": "gold.funnel"},
            lambda: fig.decomposition_figure(m.gmv_decomposition(daily, now)),
        ),
        _section(
            inputs,
            "rfm",
            "RFM tiers",
            "Customers and lifetime revenue per business tier (conf gold.rfm.tiers).",
            {"rfm": "gold.rfm_segments"},
            lambda: fig.rfm_figure(f["rfm"]),
        ),
        _section(
            inputs,
            "sku_matrix",
            "SKU matrix: sales x margin",
            f"Trailing {gold.sku_matrix.window_days} days; quadrant lines at conf gold.sku_matrix (sales "
            f"percentile {gold.sku_matrix.high_sales_percentile}, margin rate {gold.sku_matrix.high_margin_rate}).",
            {"sku_matrix": "gold.sku_matrix"},
            lambda: fig.sku_matrix_figure(
                f["sku_matrix"],
                high_sales_percentile=gold.sku_matrix.high_sales_percentile,
                high_margin_rate=gold.sku_matrix.high_margin_rate,
            ),
        ),
        _section(
            inputs,
            "sell_through",
            "Sell-through",
            f"Share of in-stock SKUs that sold, per store x category; red: below {gold.sell_through.flag_below:.0%}.",
            {"sell_through": "gold.sell_through"},
            lambda: fig.sell_through_figure(
                m.sell_through_view(f["sell_through"], flag_below=gold.sell_through.flag_below),
                flag_below=gold.sell_through.flag_below,
            ),
        ),
        _section(
            inputs,
            "funnel",
            "Funnel",
            f"Sessions view -> cart -> order -> paid, {shown[0]} to {as_of}.",
            {"funnel": "gold.funnel"},
            lambda: fig.funnel_figure(m.funnel_totals(m.since(f["funnel"], shown[0]))),
        ),
        _section(
            inputs,
            "cohort_retention",
            "Cohort retention",
            "Active customers / cohort customers per month since the first purchase (monthly cohorts).",
            {"retention": "gold.cohort_retention"},
            lambda: fig.cohort_figure(m.cohort_matrix(f["retention"])),
        ),
        _section(
            inputs,
            "channel_roi",
            "Channel ROI",
            f"Spend, last-touch attributed revenue and ROI, {shown[0]} to {as_of}.",
            {"roi": "gold.channel_roi"},
            lambda: fig.roi_figure(m.roi_by_channel(f["roi"])),
        ),
        _forecast_section(inputs, conf),
        _table_section(
            inputs,
            "inventory_at_risk",
            "Inventory at risk",
            "On hand below the reorder point, largest shortfall first.",
            "inventory",
            "gold.inventory_health",
            lambda x: m.inventory_at_risk(x, conf.max_rows),
            ["store_id", "sku", "on_hand", "on_order", "reorder_point", "shortfall", "days_of_cover", "stockout_risk"],
        ),
        _table_section(
            inputs,
            "alerts",
            "Open alerts",
            "The rules of conf gold.alerts that fired on the latest date.",
            "alerts",
            "gold.alerts",
            lambda x: m.open_alerts(x, conf.max_rows),
            ["business_date", "severity", "rule", "entity_type", "entity_id", "metric", "threshold", "detail"],
        ),
        _table_section(
            inputs,
            "anomalies",
            "Anomalies for review",
            f"Flagged orders {shown[0]} to {as_of}, most unusual first.",
            "anomalies",
            "gold.anomalies",
            lambda x: m.review_anomalies(x, conf.max_rows),
            ["business_date", "channel", "order_id", "amount", "score", "reasons"],
        ),
        _models_section(inputs),
    ]
    return sections


def _forecast_section(inputs: Inputs, conf: DashboardSettings) -> Section:
    f = inputs.frames
    desc = (
        f"The {conf.top_skus} store x SKU series with the most forecast units: P10-P90 band, mean and actual "
        "units (forecast made at least "
        f"{conf.forecast_lookback_days} days before {inputs.as_of} when there is one, so it overlaps actuals)."
    )

    def draw():
        series = m.top_series(f["forecast"], conf.top_skus)
        frame = m.forecast_vs_actual(f["forecast"], f["sales"], series, as_of=inputs.as_of)
        return fig.forecast_figure(frame, origin=str(inputs.snapshots.get("forecast", "?")))

    return _section(
        inputs,
        "forecast",
        "Demand forecast vs actual",
        desc,
        {"forecast": "gold.demand_forecast", "sales": "gold.daily_sales"},
        draw,
    )


def _table_section(inputs, key, title, desc, frame, table, pick, columns) -> Section:
    def draw():
        rows = pick(inputs.frames[frame])
        if "reasons" in rows:
            rows = rows.assign(reasons=rows["reasons"].map(lambda r: ", ".join(r) if r is not None else ""))
        return fig.table_figure(rows, [c for c in columns if c in rows], title=f"{len(rows)} row(s)")

    return _section(inputs, key, title, desc, {frame: table}, draw)


def _models_section(inputs: Inputs) -> Section:
    section = Section(
        "models",
        "Models: champion vs baselines",
        "Each registered model's champion version and the metrics of every role on the held-out "
        "comparison window of the training that made it (MLflow).",
    )
    if not inputs.models:
        section.missing = [NO_MODELS if inputs.models is not None else "MLflow store unreadable"]
        return section
    rows = m.model_rows(inputs.models)
    rows["value"] = rows["value"].map(lambda v: "" if v is None else f"{v:.4g}")
    section.figure = fig.table_figure(rows, ["model", "version", "serving", "role", "metric", "value"])
    return section


def write_dashboard(cfg: Config, *, out: Path, as_of: date | None = None) -> DashboardResult:
    """Read, draw and write the dashboard as of `as_of` (default: the latest date of gold.daily_sales) to `out`,
    atomically (a reader never sees half a file)."""
    from jobs.orchestration.report import model_metrics

    started = time.monotonic()
    day = as_of or default_as_of(cfg)
    inputs = read_inputs(cfg, day)
    try:
        inputs.models = model_metrics(cfg)
    except Exception as exc:  # the dashboard must not fail on a store it cannot read
        event("dashboard.models_unreadable", error=f"{type(exc).__name__}: {exc}")
    sections = build_sections(inputs, conf=cfg.orchestration.dashboard, gold=cfg.gold)
    text = render_page(sections, title=f"omnilake dashboard as of {day}", subtitle=f"lake {cfg.home}")
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    result = DashboardResult(
        out,
        day,
        out.stat().st_size,
        time.monotonic() - started,
        [s.key for s in sections if s.rendered],
        [s.key for s in sections if not s.rendered],
    )
    event(
        "dashboard.written",
        out=str(out),
        as_of=day,
        bytes=result.bytes,
        rendered=len(result.rendered),
        missing=",".join(result.missing) or "none",
    )
    return result


__all__ = ["DashboardResult", "build_sections", "missing_note", "write_dashboard"]
