"""The dashboard's pure numbers and figures on inline frames, and its reads on a tiny delta-rs lake (no Spark)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from jobs.common.config import Config
from jobs.common.errors import UserError
from jobs.orchestration.dashboard import figures as fig
from jobs.orchestration.dashboard import metrics as m
from jobs.orchestration.dashboard.build import build_sections, write_dashboard
from jobs.orchestration.dashboard.page import render_page
from jobs.orchestration.dashboard.reads import default_as_of, read_inputs
from tests.support.dashboard import AS_OF, sample_inputs

D = date(2025, 3, 10)


def _daily(rows: list[tuple[date, str, float, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=m.DAILY_COLUMNS)


def test_kpis_against_the_previous_period() -> None:
    day = timedelta(days=1)
    daily = _daily(
        [
            (D, "web", 300.0, 3, 30),  # current period: D - 1 .. D
            (D - day, "pos", 100.0, 1, 0),
            (D - 2 * day, "web", 100.0, 2, 40),  # previous period: D - 3 .. D - 2
            (D - 3 * day, "pos", 100.0, 2, 0),
            (D - 4 * day, "web", 9999.0, 99, 99),  # before both: ignored
        ]
    )
    retention = pd.DataFrame(
        {"month_n": [0, 1, 0], "repurchased": [3, 3, 1], "repurchase_eligible": [6, 6, 4]}
    )  # month 1 repeats its cohort's counts: counted once -> 4 / 10
    before = retention.assign(repurchased=[1, 1, 1])  # 2 / 10
    out = m.kpis(daily, as_of=D, period_days=2, retention_now=retention, retention_before=before).set_index("kpi")
    assert out.loc["gmv", ["current", "previous"]].tolist() == [400.0, 200.0]
    assert out.loc["gmv", "change"] == pytest.approx(1.0)
    assert out.loc["orders", ["current", "previous"]].tolist() == [4, 4] and out.loc["orders", "change"] == 0
    assert out.loc["aov", "current"] == pytest.approx(100.0) and out.loc["aov", "change"] == pytest.approx(1.0)
    assert out.loc["visitors", "change"] == pytest.approx(-0.25)
    # conversion counts only the orders of channels with visitors: 3 / 30 against 2 / 40
    assert out.loc["conversion", "current"] == pytest.approx(0.1) and out.loc["conversion", "previous"] == 0.05
    assert out.loc["repurchase", ["current", "previous"]].tolist() == pytest.approx([0.4, 0.2])
    assert out.loc["repurchase", "change"] == pytest.approx(1.0)


def test_kpi_change_is_none_without_a_previous_value() -> None:
    out = m.kpis(_daily([(D, "web", 50.0, 1, 10)]), as_of=D, period_days=7).set_index("kpi")
    assert out.loc["gmv", "previous"] == 0 and pd.isna(out.loc["gmv", "change"])
    assert pd.isna(out.loc["repurchase", "current"]) and pd.isna(out.loc["repurchase", "change"])


def test_gmv_is_visitors_times_conversion_times_aov_per_channel() -> None:
    daily = _daily([(D, "web", 300.0, 3, 30), (D, "app", 90.0, 1, 20), (D, "pos", 500.0, 5, 0)])
    out = m.gmv_decomposition(daily, (D, D)).set_index("channel")
    assert list(out.index) == ["web", "app"]  # no visitors, no decomposition
    product = out["visitors"] * out["conversion"] * out["aov"]
    assert product.tolist() == pytest.approx(out["gmv"].tolist())
    assert out.loc["app", ["conversion", "aov"]].tolist() == pytest.approx([0.05, 90.0])


def test_sku_scatter_puts_each_sku_in_its_quadrant_with_the_conf_lines() -> None:
    matrix = sample_inputs().frames["sku_matrix"]
    figure = fig.sku_matrix_figure(matrix, high_sales_percentile=0.6, high_margin_rate=0.35)
    placed = {t.name.split(" ")[0]: list(t.text) for t in figure.data}
    assert placed == {
        "star": ["A · x"],
        "traffic_driver": ["B · x"],
        "profit_driver": ["C · y"],
        "slow_mover": ["D · y"],
    }
    lines = {(s.type, s.x0, s.y0) for s in figure.layout.shapes}
    assert ("line", 0.6, 0) in lines and ("line", 0, 0.35) in lines


def test_sell_through_flags_only_pairs_below_the_threshold() -> None:
    frame = pd.DataFrame(
        {"store_id": ["S1", "S2", "S3"], "category": ["x", "x", "x"], "sell_through": [0.2, 0.049, 0.05]}
    )
    view = m.sell_through_view(frame, flag_below=0.05)
    assert view[["pair", "below"]].values.tolist() == [["S2 / x", True], ["S3 / x", False], ["S1 / x", False]]
    figure = fig.sell_through_figure(view, flag_below=0.05)
    assert list(figure.data[0].marker.color) == [fig.FLAG_COLOR, fig.OK_COLOR, fig.OK_COLOR]
    assert figure.layout.shapes[0].y0 == 0.05


def test_forecast_vs_actual_zero_on_past_days_without_sales_none_after_as_of() -> None:
    inputs = sample_inputs()
    series = m.top_series(inputs.frames["forecast"], 1)
    assert series == [("S1", "A")]
    sales = pd.DataFrame({"business_date": [AS_OF - timedelta(days=1)], "store_id": ["S1"], "sku": ["A"], "units": [5]})
    out = m.forecast_vs_actual(inputs.frames["forecast"], sales, series, as_of=AS_OF).set_index("date")["actual"]
    assert out[AS_OF - timedelta(days=2)] == 0.0 and out[AS_OF - timedelta(days=1)] == 5.0 and out[AS_OF] == 0.0
    assert math.isnan(out[AS_OF + timedelta(days=1)])


def test_tables_sort_the_urgent_rows_first() -> None:
    frames = sample_inputs().frames
    assert m.inventory_at_risk(frames["inventory"], 5)["sku"].tolist() == ["A", "B"]  # shortfall 4 then 2
    assert m.open_alerts(frames["alerts"], 5)["severity"].tolist() == ["high", "medium"]
    assert m.review_anomalies(frames["anomalies"], 1)["order_id"].tolist() == ["o1"]


def test_every_section_renders_from_inline_frames(cfg: Config) -> None:
    sections = build_sections(sample_inputs(), conf=cfg.orchestration.dashboard, gold=cfg.gold)
    assert [s.key for s in sections if not s.rendered] == []
    html = render_page(sections, title="t", subtitle="s")
    assert html.count('<script type="text/javascript">') == 1  # plotly.js once, not per chart
    assert html.count("Plotly.newPlot(") == len(sections) == 14
    assert "cdn.plot.ly" not in html.split("</head>")[1]


def test_missing_tables_show_the_command_that_builds_them(cfg: Config, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"not built yet: run `omnilake ingest && omnilake build gold`"):
        default_as_of(cfg)
    result = write_dashboard(cfg, out=tmp_path / "d.html", as_of=D)
    assert result.rendered == [] and len(result.missing) == 14
    text = (tmp_path / "d.html").read_text()
    assert "gold.daily_sales: not built yet: run `omnilake ingest &amp;&amp; omnilake build gold`" in text
    assert "gold.demand_forecast: not built yet: run `omnilake train demand --as-of D &amp;&amp; omnilake" in text
    assert "no registered model yet: run `omnilake train all --as-of D`" in text
    assert not Path(cfg.home, "warehouse").exists()  # reading created nothing


def _write(cfg: Config, name: str, table: pa.Table, partition: str) -> None:
    from deltalake import write_deltalake

    from jobs.io.lake import lake_path

    write_deltalake(str(lake_path(cfg, name)), table, partition_by=[partition])


def test_reads_default_to_the_latest_sales_date_and_stay_in_the_window(
    cfg: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jobs.cli import main

    days = [D - timedelta(days=i) for i in (0, 1, 40)]
    sales = pa.table(
        {
            "business_date": days,
            "channel": ["web"] * 3,
            "store_id": pa.array([None] * 3, pa.string()),
            "sku": ["A"] * 3,
            "units": pa.array([1, 2, 3], pa.int64()),
            "revenue": pa.array([10.0, 20.0, 30.0]),
        }
    )
    _write(cfg, "gold.daily_sales", sales, "business_date")
    orders = pa.table(
        {"order_date": days * 2, "channel": ["web"] * 6, "status": ["paid"] * 3 + ["cancelled", None, "x"]}
    )
    _write(cfg, "silver.orders", orders, "order_date")
    assert default_as_of(cfg) == D
    inputs = read_inputs(cfg, D)
    assert sorted(inputs.frames["sales"]["business_date"]) == [D - timedelta(days=1), D]  # day 40 left out
    counts = inputs.frames["orders"].set_index("business_date")["orders"].to_dict()
    assert counts == {D: 1, D - timedelta(days=1): 2}  # cancelled left out, a null status counts
    assert main(["dashboard", "--out", str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr().out
    assert f"dashboard as of {D}: {tmp_path / 'r.html'} (" in out and "sales_by_channel" in out
    assert "sections not built yet (" in out
