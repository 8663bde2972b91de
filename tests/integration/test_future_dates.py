"""Issue 11, defect 3: a far-future date cannot delete history. A future-dated row is quarantined at ingest and
import (DATE_OUT_OF_RANGE), and a future --as-of is refused (exit 3) before anything is written, so neither can
become the as-of whose retention cutoff expires every real snapshot. "Today" is pinned through conf ingest.today."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.common.config import Config
from jobs.io.tables import Catalog

pytestmark = pytest.mark.integration


def _versions(catalog: Catalog) -> dict[str, int]:
    return {name: catalog.version(name) for name in catalog.list_tables()}


def _plant_future_order(landing: Path, order_ts: str) -> None:
    """A valid web order line but for its date, in a file of its own next to the generated ones."""
    source = sorted((landing / "web_orders").rglob("*.csv"))[-1]
    with source.open(newline="") as handle:
        header = next(csv.reader(handle))
    row = {"order_id": "FUTURE-1", "line_no": "1", "account_id": "W-FUTURE", "order_ts": order_ts, "status": "paid"}
    row |= {"sku": "SKU-FUTURE", "quantity": "1", "unit_price": "10.00", "updated_at": order_ts}
    with (source.parent / "web_orders_future.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerow(row)


def test_future_rows_are_quarantined_and_a_future_as_of_is_refused(
    spark, cfg: Config, seed_home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_home(customers=20, days=2, seed=3)  # generated and ingested; the future order below is the new file
    landing = Path(cfg.paths.landing)
    today = date.fromisoformat(json.loads((landing / "_manifest.json").read_text())["end_date"])
    monkeypatch.setenv("OMNILAKE__INGEST__TODAY", today.isoformat())  # the data's last day: the tightest bound
    _plant_future_order(landing, f"{today + timedelta(days=365)}T10:00:00Z")  # a typo: next year
    assert main(["ingest"]) == 0
    catalog = Catalog.from_config(spark, cfg)
    dated = catalog.read("silver.quarantine").where(F.col("reason_code") == "DATE_OUT_OF_RANGE").collect()
    assert [(r.source, r.column, r.record.count("FUTURE-1")) for r in dated] == [("web_orders", "order_ts", 1)]
    assert catalog.read("silver.order_lines").where(F.col("order_id") == "FUTURE-1").count() == 0

    assert main(["build", "gold"]) == 0  # the default as-of is the data's last day, not next year
    assert {r.as_of for r in catalog.read("gold.customer_360").select("as_of").distinct().collect()} == {today}
    before = _versions(catalog)
    capsys.readouterr()
    typo = (today + timedelta(days=3)).isoformat()  # one day past the tolerance (conf ingest.max_future_days: 2)
    for argv in (["build", "gold", "--as-of", typo], ["build", "features", "--as-of", typo]):
        assert main(argv) == 3, argv
        assert capsys.readouterr().err == (
            f"omnilake build: error: --as-of {typo} is in the future: after today ({today}) + 2 day(s) "
            "(conf ingest.max_future_days); nothing written\n"
        )
    assert main(["score", "churn", "--as-of", typo]) == 3
    assert "is in the future" in capsys.readouterr().err
    assert _versions(catalog) == before  # nothing written: snapshots and watermarks as they were
