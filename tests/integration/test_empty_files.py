"""Issue 11, defect 5: empty and header-only landing files neither fail the ingest nor leave a batch pending forever
(a pending batch made every later ingest process it again and rewrite silver.customers)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.common.config import Config
from jobs.io.tables import Catalog

pytestmark = pytest.mark.integration


def test_empty_and_header_only_files_are_registered_audited_and_never_pending(spark, cfg: Config, seed_home) -> None:
    seed_home(customers=20, days=2, seed=3)  # the generated days ingested: the files below are alone in their batches
    landing = Path(cfg.paths.landing)
    last = max(date.fromisoformat(p.name) for p in (landing / "web_orders").iterdir())
    extra = landing / "crm_members" / (last + timedelta(days=1)).isoformat()  # the source's only file of the day
    extra.mkdir(parents=True)
    header = (next((landing / "crm_members").rglob("*.csv"))).read_text().splitlines()[0]
    (extra / "crm_members_header_only.csv").write_text(header + "\n")
    empty_dir = landing / "marketing_spend" / (last + timedelta(days=1)).isoformat()
    empty_dir.mkdir(parents=True)
    (empty_dir / "marketing_spend_empty.csv").write_text("")  # no bytes: not even a header
    (empty_dir / "marketing_spend_blank.csv").write_text("\n")

    assert main(["ingest"]) == 0
    catalog = Catalog.from_config(spark, cfg)
    registry = {r["file"].rsplit("/", 1)[-1]: r for r in catalog.read("ops.file_registry").collect()}
    assert registry["crm_members_header_only.csv"]["status"] == "loaded"
    assert registry["marketing_spend_empty.csv"]["status"] == "empty"
    assert registry["marketing_spend_blank.csv"]["status"] == "empty"
    header_only = registry["crm_members_header_only.csv"]["batch_id"]
    audit = catalog.read("ops.batch_audit").where(F.col("batch_id") == header_only).collect()
    assert [(a["bronze_rows"], a["loaded"], a["quarantined"]) for a in audit] == [(0, 0, 0)]

    customers = catalog.version("silver.customers")
    assert main(["ingest"]) == 0  # nothing new: nothing pending, nothing rewritten
    assert catalog.version("silver.customers") == customers
