"""The dashboard's reads: delta-rs, no JVM, every read bounded by a partition filter (one as-of snapshot, or the
business dates of conf orchestration.dashboard's window), aggregated in Arrow where the rows are many."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyarrow.compute as pc
from deltalake import DeltaTable

from jobs.common.config import Config
from jobs.common.errors import UserError
from jobs.io.lake import exists, lake_path, read_arrow
from jobs.io.lakeview import arrow_to_pandas, build_hint, partition_dates

SALES = "gold.daily_sales"


@dataclass
class Inputs:
    """What the sections read: frame name -> frame (absent when its table is not built yet) and the hints."""

    as_of: date
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # table -> `not built yet: run ...` note
    notes: dict[str, str] = field(default_factory=dict)  # frame name -> what was read (partition dates)
    snapshots: dict[str, date] = field(default_factory=dict)  # frame name -> the as_of partition read
    models: list[dict[str, Any]] | None = None


def missing_note(table: str) -> str:
    """The note a section shows instead of a chart when `table` does not exist yet."""
    return f"{table}: not built yet: run `{build_hint(table)}`"


def _dates(cfg: Config, table: str, column: str) -> list[date]:
    return partition_dates(DeltaTable(str(lake_path(cfg, table))), column)


def default_as_of(cfg: Config) -> date:
    """The latest business date in gold.daily_sales (from the Delta log: no data file is read)."""
    if not exists(cfg, SALES):
        raise UserError(f"no --as-of and {missing_note(SALES)}")
    dates = _dates(cfg, SALES, "business_date")
    if not dates:
        raise UserError(f"no --as-of and {SALES} has no rows yet")
    return dates[-1]


class _Reader:
    def __init__(self, cfg: Config, inputs: Inputs) -> None:
        self.cfg, self.inputs = cfg, inputs

    def _ok(self, table: str) -> bool:
        if exists(self.cfg, table):
            return True
        self.inputs.missing[table] = missing_note(table)
        return False

    def window(self, key: str, table: str, first: date, columns: list[str], where: Any = None) -> None:
        """`columns` of the business dates [first, as_of] of a fact table (partition filter), as pandas."""
        if not self._ok(table):
            return
        day = pc.field("business_date")
        cond = (day >= first) & (day <= self.inputs.as_of)
        rows = read_arrow(self.cfg, table, columns=columns, where=cond if where is None else cond & where)
        self.inputs.frames[key] = arrow_to_pandas(rows)
        self.inputs.notes[key] = f"{table} business dates {first} .. {self.inputs.as_of}"

    def snapshot_arrow(self, key: str, table: str, columns: list[str] | None, *, until: date, where: Any = None):
        """`columns` of the newest as_of partition on or before `until` (Arrow; None when there is none)."""
        if not self._ok(table):
            return None
        dates = [d for d in _dates(self.cfg, table, "as_of") if d <= until]
        if not dates:
            self.inputs.notes[key] = f"{table}: no snapshot on or before {until}"
            return None
        cond = pc.field("as_of") == dates[-1]
        self.inputs.notes[key] = f"{table} as of {dates[-1]}"
        self.inputs.snapshots[key] = dates[-1]
        return read_arrow(self.cfg, table, columns=columns, where=cond if where is None else cond & where)

    def snapshot(self, key: str, table: str, columns: list[str] | None, *, until: date, where: Any = None) -> None:
        rows = self.snapshot_arrow(key, table, columns, until=until, where=where)
        if rows is not None:
            self.inputs.frames[key] = arrow_to_pandas(rows)

    def orders(self, first: date, excluded: tuple[str, ...]) -> None:
        """Distinct orders per business date x channel from silver.orders (statuses that are not sales left out,
        as gold's sales do; a null status counts), counted in Arrow."""
        if not self._ok("silver.orders"):
            return
        day, status = pc.field("order_date"), pc.field("status")
        cond = (day >= first) & (day <= self.inputs.as_of)
        if excluded:
            cond = cond & (status.is_null() | ~status.isin(list(excluded)))
        rows = read_arrow(self.cfg, "silver.orders", columns=["order_date", "channel"], where=cond)
        counts = rows.group_by(["order_date", "channel"]).aggregate([("channel", "count")]).to_pandas()
        frame = counts.rename(columns={"order_date": "business_date", "channel_count": "orders"})
        self.inputs.frames["orders"] = frame[["business_date", "channel", "orders"]]
        self.inputs.notes["orders"] = f"silver.orders order dates {first} .. {self.inputs.as_of}"


def read_inputs(cfg: Config, as_of: date) -> Inputs:
    """Every frame the sections need, as of `as_of` (conf orchestration.dashboard bounds the windows)."""
    conf = cfg.orchestration.dashboard
    inputs = Inputs(as_of=as_of)
    reader = _Reader(cfg, inputs)
    span = max(conf.window_days, 2 * conf.kpi_period_days, conf.forecast_lookback_days + 1)
    first = as_of - timedelta(days=span - 1)
    shown = as_of - timedelta(days=conf.window_days - 1)
    reader.window("sales", SALES, first, ["business_date", "channel", "store_id", "sku", "units", "revenue"])
    reader.orders(first, cfg.gold.excluded_statuses)
    funnel_cols = ["business_date", "channel", "view_sessions", "cart_sessions", "order_sessions", "paid_sessions"]
    reader.window("funnel", "gold.funnel", first, funnel_cols)
    roi_cols = ["business_date", "channel", "spend", "attributed_revenue", "new_customers"]
    reader.window("roi", "gold.channel_roi", shown, roi_cols)
    reader.window("anomalies", "gold.anomalies", shown, None, where=pc.field("flagged"))
    retention_cols = ["cohort_month", "month_n", "customers", "repurchase_eligible", "repurchased", "retention_rate"]
    reader.snapshot("retention", "gold.cohort_retention", retention_cols, until=as_of)
    before = as_of - timedelta(days=conf.kpi_period_days)
    reader.snapshot("retention_before", "gold.cohort_retention", retention_cols, until=before)
    rfm = reader.snapshot_arrow("rfm", "gold.rfm_segments", ["tier", "monetary"], until=as_of)
    if rfm is not None:  # one row per customer: counted and summed per tier in Arrow
        tiers = arrow_to_pandas(rfm.group_by("tier").aggregate([("tier", "count"), ("monetary", "sum")]))
        tiers = tiers.rename(columns={"tier_count": "customers", "monetary_sum": "revenue"})
        inputs.frames["rfm"] = tiers[["tier", "customers", "revenue"]].sort_values("revenue", ascending=False)
    matrix_cols = ["sku", "category", "revenue", "margin", "margin_rate", "sales_percentile", "quadrant"]
    reader.snapshot("sku_matrix", "gold.sku_matrix", matrix_cols, until=as_of)
    reader.snapshot("sell_through", "gold.sell_through", None, until=as_of)
    risky = pc.field("on_hand") < pc.field("reorder_point")
    reader.snapshot("inventory", "gold.inventory_health", None, until=as_of, where=risky)
    if reader._ok("gold.alerts"):
        dates = [d for d in _dates(cfg, "gold.alerts", "business_date") if d <= as_of]
        reader.window("alerts", "gold.alerts", dates[-1] if dates else as_of, None)  # no date yet: no alerts
    forecast_cols = ["store_id", "sku", "date", "mean", "p10", "p90"]
    origin = as_of - timedelta(days=conf.forecast_lookback_days)
    reader.snapshot("forecast", "gold.demand_forecast", forecast_cols, until=origin)
    if "forecast" not in inputs.frames and "gold.demand_forecast" not in inputs.missing:
        reader.snapshot("forecast", "gold.demand_forecast", forecast_cols, until=as_of)
    return inputs
