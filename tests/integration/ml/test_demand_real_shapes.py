"""Demand on a lake shaped like a real grocery log, imported as a new user would (`omnilake import sales`):
intermittent series (most days zero), compound sizes, weekly profiles, price changes and promotions, two years.
`train demand` compares the global model with the moving average, the seasonal naive and the per-series ETS loop
at every level; it is promoted only because it wins at store x SKU and at the total too, and its bands are
calibrated (randomized PIT) on the held-out origin."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from jobs.cli import main
from jobs.common.config import Config
from jobs.io.tables import Catalog
from ml.serving.registry import tracking_client
from tests.support.retail_shapes import simulate_intermittent

pytestmark = pytest.mark.integration
LEVELS = ("store_sku", "sku", "store", "category", "total")


def test_imported_intermittent_sales_train_a_model_that_wins_at_every_level(
    tmp_path: Path, cfg: Config, catalog: Catalog, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNILAKE__ML__HANDOFF__MAX_ROWS", "400000")  # every series (200 x 26 origins x 28 leads)
    panel = simulate_intermittent(stores=2, skus=100, days=2 * 365, seed=11)
    assert (panel["units"] == 0).mean() > 0.6
    path = tmp_path / "sales.csv"
    panel[["store_id", "sku", "date", "units", "price", "promo"]].to_csv(path, index=False)
    sales_map = "store_id=store_id,sku=sku,date=date,units=units,price=price,promo=promo"
    assert main(["import", "sales", str(path), "--map", sales_map]) == 0
    as_of = pd.to_datetime(panel["date"]).max().date()

    assert main(["train", "demand", "--as-of", str(as_of)]) == 0
    summary = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("train demand"))
    run_id = summary.rsplit("[run ", 1)[1].rstrip("]")
    metrics = tracking_client(cfg).get_run(run_id).data.metrics
    table = pd.DataFrame(
        {
            role: {level: metrics[f"{role}.wape_{level}"] for level in LEVELS}
            for role in ("challenger", "baseline_ets", "baseline_moving_average", "baseline_seasonal_naive")
        }
    )
    print(summary, table.round(4).to_string(), sep="\n")
    assert ": promote " in summary, summary
    for baseline in ("baseline_ets", "baseline_moving_average", "baseline_seasonal_naive"):
        assert (table["challenger"] <= table[baseline]).all(), table
    assert abs(metrics["challenger.bias"]) < 0.1
    assert 0.75 <= metrics["challenger.pit_coverage_80"] <= 0.85
    assert metrics["challenger.rows"] >= 0.9 * 200 * 28  # the held-out origin: 28 days of (nearly) every series

    # the rolling-origin backtest of the new champion against the baselines, every level, two origins
    assert main(["evaluate", "demand", "--as-of", str(as_of), "--origins", "2"]) == 0
    out = capsys.readouterr().out
    print(out)
    rows = catalog.read("gold.model_evaluations").toPandas()
    assert set(rows["origin"]) == {as_of - timedelta(days=28), as_of - timedelta(days=56)}
    assert set(rows["level"]) >= {"store_sku", "sku", "store", "category", "total"}
    wape = rows[rows["metric"] == "wape"].pivot_table(index="level", columns="role", values="value")
    assert (wape["champion"] <= wape["baseline_moving_average"]).all(), wape
