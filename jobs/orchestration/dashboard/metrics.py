"""The dashboard's numbers: pure pandas frame -> frame functions (no I/O, no config lookups).

Definitions (every section states its own on the page):
- GMV: net revenue of gold.daily_sales (sales only: conf gold.excluded_statuses are left out upstream).
- orders: distinct orders (silver.orders, same statuses left out); AOV = GMV / orders.
- visitors: sessions with a view (gold.funnel.view_sessions); only web/app-like channels have them.
- conversion = orders / visitors of the channels with visitors, so visitors x conversion x AOV = GMV per channel.
- repurchase rate: repurchased / repurchase-eligible customers over every cohort of gold.cohort_retention.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
DAILY_COLUMNS = ["business_date", "channel", "gmv", "orders", "visitors"]


def ratio(num: float | None, den: float | None) -> float | None:
    """num / den, None when either is missing or den is 0."""
    if num is None or den is None or den == 0 or pd.isna(num) or pd.isna(den):
        return None
    return float(num) / float(den)


def since(frame: pd.DataFrame, first: date, column: str = "business_date") -> pd.DataFrame:
    """The rows dated `first` or later."""
    return frame[frame[column] >= first]


def channel_daily(sales: pd.DataFrame, orders: pd.DataFrame | None, funnel: pd.DataFrame | None) -> pd.DataFrame:
    """One row per business_date x channel: gmv (sum of revenue), orders (0 without them), visitors (0 without a
    funnel)."""
    gmv = (
        sales.groupby(["business_date", "channel"], as_index=False)["revenue"].sum().rename(columns={"revenue": "gmv"})
    )
    out = gmv
    if orders is not None:
        counts = orders.groupby(["business_date", "channel"], as_index=False)["orders"].sum()
        out = out.merge(counts, on=["business_date", "channel"], how="outer")
    else:
        out["orders"] = 0
    if funnel is not None and len(funnel):
        views = funnel.groupby(["business_date", "channel"], as_index=False)["view_sessions"].sum()
        out = out.merge(
            views.rename(columns={"view_sessions": "visitors"}), on=["business_date", "channel"], how="outer"
        )
    else:
        out["visitors"] = 0
    out = out.fillna({"gmv": 0.0, "orders": 0, "visitors": 0})
    return out.astype({"gmv": float, "orders": int, "visitors": int})[DAILY_COLUMNS].sort_values(
        ["business_date", "channel"], ignore_index=True
    )


def periods(as_of: date, days: int) -> tuple[tuple[date, date], tuple[date, date]]:
    """The current period [as_of - days + 1, as_of] and the one before it, inclusive bounds."""
    first = as_of - timedelta(days=days - 1)
    return (first, as_of), (first - timedelta(days=days), first - timedelta(days=1))


def _between(frame: pd.DataFrame, bounds: tuple[date, date], column: str = "business_date") -> pd.DataFrame:
    return frame[(frame[column] >= bounds[0]) & (frame[column] <= bounds[1])]


def period_totals(daily: pd.DataFrame, bounds: tuple[date, date]) -> dict[str, float | None]:
    """GMV, orders, AOV, visitors and conversion (orders of channels with visitors / visitors) in `bounds`."""
    rows = _between(daily, bounds)
    traffic = rows[rows["channel"].isin(rows.loc[rows["visitors"] > 0, "channel"].unique())]
    gmv, orders, visitors = float(rows["gmv"].sum()), int(rows["orders"].sum()), int(rows["visitors"].sum())
    return {
        "gmv": gmv,
        "orders": orders,
        "aov": ratio(gmv, orders),
        "visitors": visitors,
        "conversion": ratio(int(traffic["orders"].sum()), visitors),
    }


def repurchase_rate(retention: pd.DataFrame | None) -> float | None:
    """Repurchased / eligible over every cohort of one gold.cohort_retention snapshot (a cohort's counts repeat on
    each of its month_n rows: month 0 is counted once)."""
    if retention is None or retention.empty:
        return None
    first = retention[retention["month_n"] == 0]
    return ratio(first["repurchased"].sum(), first["repurchase_eligible"].sum())


KPI_LABELS = {
    "gmv": "GMV",
    "orders": "Orders",
    "aov": "AOV",
    "visitors": "Visitors",
    "conversion": "Conversion",
    "repurchase": "Repurchase rate",
}


def kpis(
    daily: pd.DataFrame,
    *,
    as_of: date,
    period_days: int,
    retention_now: pd.DataFrame | None = None,
    retention_before: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Headline KPIs of the last `period_days` to `as_of` against the same number of days before: columns kpi,
    label, current, previous, change (relative, (current - previous) / previous; None without a previous value)."""
    now_bounds, before_bounds = periods(as_of, period_days)
    now, before = period_totals(daily, now_bounds), period_totals(daily, before_bounds)
    now["repurchase"], before["repurchase"] = repurchase_rate(retention_now), repurchase_rate(retention_before)
    rows = []
    for key, label in KPI_LABELS.items():
        cur, prev = now[key], before[key]
        change = None if cur is None or prev is None or prev == 0 else (cur - prev) / abs(prev)
        rows.append({"kpi": key, "label": label, "current": cur, "previous": prev, "change": change})
    return pd.DataFrame(rows)


def gmv_decomposition(daily: pd.DataFrame, bounds: tuple[date, date]) -> pd.DataFrame:
    """Per channel with visitors in `bounds`: visitors, conversion (orders / visitors), aov (gmv / orders) and
    gmv, so that visitors x conversion x aov == gmv."""
    rows = _between(daily, bounds).groupby("channel", as_index=False)[["gmv", "orders", "visitors"]].sum()
    rows = rows[rows["visitors"] > 0].copy()
    rows["conversion"] = rows["orders"] / rows["visitors"]
    rows["aov"] = [ratio(g, o) or 0.0 for g, o in zip(rows["gmv"], rows["orders"], strict=True)]
    return rows[["channel", "visitors", "conversion", "aov", "gmv", "orders"]].sort_values("gmv", ascending=False)


def funnel_totals(funnel: pd.DataFrame) -> pd.DataFrame:
    """Sessions per stage and channel over the window: columns channel, stage, sessions (stages in funnel order)."""
    stages = {"view_sessions": "view", "cart_sessions": "cart", "order_sessions": "order", "paid_sessions": "paid"}
    sums = funnel.groupby("channel")[list(stages)].sum().reset_index()
    long = sums.melt(id_vars="channel", var_name="stage", value_name="sessions")
    long["stage"] = pd.Categorical(long["stage"].map(stages), categories=list(stages.values()), ordered=True)
    return long.sort_values(["channel", "stage"], ignore_index=True)


def cohort_matrix(retention: pd.DataFrame) -> pd.DataFrame:
    """retention_rate with one row per cohort_month (oldest first) and one column per month_n."""
    return retention.pivot_table(index="cohort_month", columns="month_n", values="retention_rate", aggfunc="max")


def roi_by_channel(roi: pd.DataFrame) -> pd.DataFrame:
    """Spend, attributed revenue and new customers per channel over the window; roi = (revenue - spend) / spend
    and cac = spend / new customers (None without spend / new customers)."""
    sums = roi.groupby("channel", as_index=False)[["spend", "attributed_revenue", "new_customers"]].sum()
    sums["roi"] = [ratio(r - s, s) for r, s in zip(sums["attributed_revenue"], sums["spend"], strict=True)]
    sums["cac"] = [ratio(s, n) for s, n in zip(sums["spend"], sums["new_customers"], strict=True)]
    return sums.sort_values("attributed_revenue", ascending=False, ignore_index=True)


def sell_through_view(sell_through: pd.DataFrame, *, flag_below: float) -> pd.DataFrame:
    """Store x category pairs, lowest sell-through first, with `below` = sell_through < flag_below (gold's flag)."""
    out = sell_through.assign(
        pair=sell_through["store_id"].astype(str) + " / " + sell_through["category"].astype(str),
        below=sell_through["sell_through"] < flag_below,
    )
    return out.sort_values(["sell_through", "pair"], ignore_index=True)


def top_series(forecast: pd.DataFrame, n: int) -> list[tuple[str, str]]:
    """The `n` store x SKU series with the most forecast units (mean), largest first."""
    sums = forecast.groupby(["store_id", "sku"])["mean"].sum().sort_values(ascending=False, kind="stable")
    return [(str(s), str(k)) for s, k in sums.head(n).index]


def forecast_vs_actual(
    forecast: pd.DataFrame, sales: pd.DataFrame, series: list[tuple[str, str]], *, as_of: date
) -> pd.DataFrame:
    """Per series and forecast date: mean, p10, p90 and actual units (0 on a past day without sales, None after
    as_of). Columns series, date, mean, p10, p90, actual."""
    wanted = pd.DataFrame(series, columns=["store_id", "sku"])
    fc = forecast.merge(wanted, on=["store_id", "sku"], how="inner")
    sold = sales.groupby(["store_id", "sku", "business_date"], as_index=False)["units"].sum()
    sold = sold.rename(columns={"business_date": "date", "units": "actual"})
    out = fc.merge(sold, on=["store_id", "sku", "date"], how="left")
    past = out["date"] <= as_of
    out["actual"] = out["actual"].astype(float).where(~past | out["actual"].notna(), 0.0).where(past, math.nan)
    out["series"] = out["store_id"].astype(str) + " / " + out["sku"].astype(str)
    return out[["series", "date", "mean", "p10", "p90", "actual"]].sort_values(["series", "date"], ignore_index=True)


def inventory_at_risk(inventory: pd.DataFrame, n: int) -> pd.DataFrame:
    """Store x SKU pairs with on hand below the reorder point, the largest shortfall first (at most n)."""
    risky = inventory[inventory["on_hand"] < inventory["reorder_point"]].copy()
    risky["shortfall"] = risky["reorder_point"] - risky["on_hand"]
    return risky.sort_values(["shortfall", "store_id", "sku"], ascending=[False, True, True]).head(n)


def open_alerts(alerts: pd.DataFrame, n: int) -> pd.DataFrame:
    """The as-of date's alerts, high severity first (at most n)."""
    order = alerts["severity"].map(SEVERITY_ORDER).fillna(len(SEVERITY_ORDER))
    return alerts.assign(_o=order).sort_values(["_o", "rule", "entity_id"]).drop(columns="_o").head(n)


def review_anomalies(anomalies: pd.DataFrame, n: int) -> pd.DataFrame:
    """Flagged orders of the window, most unusual first (at most n)."""
    flagged = anomalies[anomalies["flagged"].astype(bool)]
    return flagged.sort_values(["score", "business_date"], ascending=[False, False]).head(n)


def model_rows(models: list[dict]) -> pd.DataFrame:
    """jobs.orchestration.report.model_metrics rows flattened: model, version, serving role, role, metric, value."""
    rows = [
        {
            "model": m["model"],
            "version": m["version"],
            "serving": m["role"],
            "role": role,
            "metric": metric,
            "value": value,
        }
        for m in models
        for role, metrics in (m["roles"] or {"-": {}}).items()
        for metric, value in (metrics or {"-": None}).items()
    ]
    return pd.DataFrame(rows, columns=["model", "version", "serving", "role", "metric", "value"])
