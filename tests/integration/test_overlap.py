"""Issue 11, overlapping runs: an ingest and an import started while another ingest runs are refused with one
line naming the holder and change nothing; the running ingest finishes, and a rerun finds nothing lost or twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.common.config import Config
from jobs.common.errors import EXIT_BUSY
from jobs.common.locks import lock_dir
from jobs.io.tables import Catalog
from tests.support.locks import wait_until_held

pytestmark = pytest.mark.integration


def test_a_second_ingest_or_import_during_an_ingest_is_refused_and_nothing_is_lost(
    spark, cfg: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--customers", "20", "--days", "2", "--seed", "5"]) == 0
    landed = sorted(p for p in Path(cfg.paths.landing).rglob("*") if p.is_file() and not p.name.startswith("_"))
    first = subprocess.Popen([sys.executable, "-m", "jobs", "ingest"], env={**os.environ}, stderr=subprocess.PIPE)
    wait_until_held(lock_dir(cfg.home) / "silver.lock", first)
    assert main(["ingest"]) == EXIT_BUSY
    orders = next(p for p in landed if p.suffix == ".csv")
    assert main(["import", "orders", str(orders), "--map", "order_id=order_id"]) == EXIT_BUSY
    refused = capsys.readouterr().err.strip().splitlines()
    assert len(refused) == 2 and all("lock 'silver'" in r and f"pid {first.pid}" in r for r in refused)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err.decode()[-2000:]

    assert main(["ingest"]) == 0
    assert "ingested 0 batch(es)" in capsys.readouterr().out
    catalog = Catalog.from_config(spark, cfg)
    registry = catalog.read("ops.file_registry")
    assert registry.count() == registry.select("file").distinct().count() == len(landed)
    audit = catalog.read("ops.batch_audit")
    assert audit.where("loaded + superseded + duplicate + quarantined != bronze_rows").count() == 0
    lines = catalog.read("silver.order_lines")
    assert lines.count() == lines.select("channel", "order_id", "line_no").distinct().count() > 0
    sources = [r["source"] for r in audit.select("source").distinct().collect()]
    assert audit.agg(F.sum("bronze_rows")).first()[0] == sum(catalog.read(f"bronze.{s}").count() for s in sources)
