"""One plotly figure per dashboard section: pure frame -> figure functions (frames from metrics.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

QUADRANT_COLORS = {
    "star": "#2ca02c",
    "traffic_driver": "#1f77b4",
    "profit_driver": "#ff7f0e",
    "slow_mover": "#7f7f7f",
}
FLAG_COLOR, OK_COLOR = "#d62728", "#1f77b4"
MONEY_KPIS = {"gmv", "aov"}
SHARE_KPIS = {"conversion", "repurchase"}


def _layout(fig: go.Figure, *, height: int = 380, **kw: object) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 60, "r": 30, "t": 50, "b": 50}, template="plotly_white", **kw)
    return fig


def kpi_figure(kpis: pd.DataFrame, *, period_days: int) -> go.Figure:
    """One indicator per KPI: the current period's value and its change against the period before (relative)."""
    fig = make_subplots(rows=1, cols=len(kpis), specs=[[{"type": "indicator"}] * len(kpis)])
    for i, row in enumerate(kpis.itertuples(index=False), start=1):
        value = math.nan if pd.isna(row.current) else float(row.current)
        has_previous = not pd.isna(row.previous) and row.previous != 0
        fmt = ",.2f" if row.kpi in MONEY_KPIS else ".1%" if row.kpi in SHARE_KPIS else ",.0f"
        indicator = go.Indicator(
            mode="number+delta" if has_previous else "number",
            value=value,
            number={"valueformat": fmt},
            title={"text": f"{row.label}<br><span style='font-size:0.7em'>last {period_days} days</span>"},
        )
        if has_previous:
            indicator.delta = {"reference": float(row.previous), "relative": True, "valueformat": ".1%"}
        fig.add_trace(indicator, row=1, col=i)
    return _layout(fig, height=220)


def sales_by_channel_figure(daily: pd.DataFrame) -> go.Figure:
    """GMV per business date, one line per channel."""
    fig = go.Figure()
    for channel, rows in daily.groupby("channel", sort=True):
        fig.add_trace(go.Scatter(x=rows["business_date"], y=rows["gmv"], mode="lines+markers", name=str(channel)))
    return _layout(fig, title="GMV by channel per business date", yaxis_title="GMV", xaxis_title="business date")


def decomposition_figure(decomposition: pd.DataFrame) -> go.Figure:
    """GMV = visitors x conversion x AOV per channel, one panel per factor."""
    titles = ("visitors", "conversion (orders / visitors)", "AOV (GMV / orders)", "GMV")
    fig = make_subplots(rows=1, cols=4, subplot_titles=titles)
    for col, (column, fmt) in enumerate(
        [("visitors", ",.0f"), ("conversion", ".1%"), ("aov", ",.2f"), ("gmv", ",.0f")], start=1
    ):
        fig.add_trace(
            go.Bar(
                x=decomposition["channel"],
                y=decomposition[column],
                texttemplate=f"%{{y:{fmt}}}",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    return _layout(fig, height=340)


def rfm_figure(tiers: pd.DataFrame) -> go.Figure:
    """Customers and lifetime revenue per RFM tier."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("customers per tier", "lifetime revenue per tier"))
    fig.add_trace(go.Bar(x=tiers["tier"], y=tiers["customers"], texttemplate="%{y:,}", showlegend=False), 1, 1)
    fig.add_trace(go.Bar(x=tiers["tier"], y=tiers["revenue"], texttemplate="%{y:,.0f}", showlegend=False), 1, 2)
    return _layout(fig, height=340)


def sku_matrix_figure(matrix: pd.DataFrame, *, high_sales_percentile: float, high_margin_rate: float) -> go.Figure:
    """SKUs by sales percentile (x) and margin rate (y), one colour per quadrant, the quadrant lines at the conf
    thresholds (gold.sku_matrix assigns the quadrants)."""
    fig = go.Figure()
    for quadrant, color in QUADRANT_COLORS.items():
        rows = matrix[matrix["quadrant"] == quadrant]
        fig.add_trace(
            go.Scatter(
                x=rows["sales_percentile"],
                y=rows["margin_rate"],
                mode="markers",
                name=f"{quadrant} ({len(rows)})",
                marker={"color": color, "size": 9, "opacity": 0.8},
                text=rows["sku"] + " · " + rows["category"].astype(str),
                customdata=rows[["revenue"]],
                hovertemplate="%{text}<br>revenue %{customdata[0]:,.2f}<br>margin rate %{y:.1%}<extra></extra>",
            )
        )
    fig.add_vline(x=high_sales_percentile, line_dash="dash", line_color="#555")
    fig.add_hline(y=high_margin_rate, line_dash="dash", line_color="#555")
    return _layout(
        fig,
        height=420,
        xaxis={"title": "sales percentile (cumulative share of SKUs by revenue)", "range": [0, 1.02]},
        yaxis={"title": "margin rate", "tickformat": ".0%"},
    )


def sell_through_figure(view: pd.DataFrame, *, flag_below: float) -> go.Figure:
    """Sell-through per store x category, the pairs below the flag in red, the flag as a line."""
    colors = [FLAG_COLOR if b else OK_COLOR for b in view["below"]]
    fig = go.Figure(go.Bar(x=view["pair"], y=view["sell_through"], marker_color=colors, name="sell-through"))
    fig.add_hline(y=flag_below, line_dash="dash", line_color=FLAG_COLOR, annotation_text=f"flag < {flag_below:.0%}")
    return _layout(fig, height=400, yaxis={"title": "sell-through", "tickformat": ".0%"}, xaxis={"tickangle": -45})


def funnel_figure(totals: pd.DataFrame) -> go.Figure:
    """View -> cart -> order -> paid sessions, one funnel per channel."""
    fig = go.Figure()
    for channel, rows in totals.groupby("channel", sort=True):
        fig.add_trace(go.Funnel(name=str(channel), y=rows["stage"].astype(str), x=rows["sessions"], textinfo="value"))
    return _layout(fig, height=380)


def cohort_figure(matrix: pd.DataFrame) -> go.Figure:
    """Retention (active / cohort customers) per monthly cohort and months since the first purchase."""
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=[f"month {c}" for c in matrix.columns],
            y=[str(i) for i in matrix.index],
            colorscale="Blues",
            zmin=0,
            zmax=1,
            texttemplate="%{z:.0%}",
            colorbar={"tickformat": ".0%"},
        )
    )
    return _layout(fig, height=max(300, 40 * len(matrix) + 120), yaxis={"title": "cohort", "type": "category"})


def roi_figure(roi: pd.DataFrame) -> go.Figure:
    """Spend and attributed revenue per channel (bars) and ROI (markers, right axis)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=roi["channel"], y=roi["spend"], name="spend"), secondary_y=False)
    fig.add_trace(go.Bar(x=roi["channel"], y=roi["attributed_revenue"], name="attributed revenue"), secondary_y=False)
    fig.add_trace(
        go.Scatter(x=roi["channel"], y=roi["roi"], name="ROI", mode="markers+text", texttemplate="%{y:.0%}"),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="ROI", tickformat=".0%", secondary_y=True)
    return _layout(fig, height=360, barmode="group")


def forecast_figure(series: pd.DataFrame, *, origin: str) -> go.Figure:
    """Per store x SKU series: the P10-P90 band, the mean forecast and the actual units, one small panel each."""
    names = list(dict.fromkeys(series["series"]))
    cols = min(3, max(1, len(names)))
    rows_n = math.ceil(len(names) / cols)
    fig = make_subplots(rows=rows_n, cols=cols, subplot_titles=names, shared_xaxes=False)
    for i, name in enumerate(names):
        r, c = i // cols + 1, i % cols + 1
        s = series[series["series"] == name]
        first = i == 0
        band = {"mode": "lines", "line": {"width": 0}, "legendgroup": "band"}
        fig.add_trace(go.Scatter(x=s["date"], y=s["p90"], showlegend=False, **band), r, c)
        fig.add_trace(
            go.Scatter(
                x=s["date"],
                y=s["p10"],
                fill="tonexty",
                fillcolor="rgba(31,119,180,0.2)",
                name="P10-P90",
                showlegend=first,
                **band,
            ),
            r,
            c,
        )
        fig.add_trace(
            go.Scatter(
                x=s["date"],
                y=s["mean"],
                name="forecast (mean)",
                line={"color": "#1f77b4"},
                legendgroup="mean",
                showlegend=first,
            ),
            r,
            c,
        )
        fig.add_trace(
            go.Scatter(
                x=s["date"],
                y=s["actual"],
                name="actual",
                mode="lines+markers",
                line={"color": "#d62728"},
                legendgroup="actual",
                showlegend=first,
            ),
            r,
            c,
        )
    return _layout(fig, height=260 * rows_n + 60, title=f"forecast made as of {origin}")


def table_figure(frame: pd.DataFrame, columns: Sequence[str], *, title: str | None = None) -> go.Figure:
    """A plain table (rendered as SVG like the charts) of `columns`; floats with 2 decimals."""
    values = []
    for column in columns:
        cells = frame[column]
        if pd.api.types.is_float_dtype(cells):
            cells = cells.map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
        values.append(cells.astype(str).tolist())
    fig = go.Figure(
        go.Table(
            header={"values": list(columns), "fill_color": "#e8eef6", "align": "left"},
            cells={"values": values, "align": "left"},
        )
    )
    return _layout(fig, height=min(120 + 28 * len(frame), 820), title=title)
