"""Issue 11, overlapping runs: an ingest and an import started while another ingest runs are refused with one
line naming the holder and change nothing; the running ingest finishes, and a rerun finds nothing lost or twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.common.config import Config
from jobs.common.errors import EXIT_BUSY
from jobs.common.locks import lock_dir
from jobs.io.tables import Catalog

pytestmark = pytest.mark.integration


def _holder_pid(path: Path) -> int | None:
    try:
        return json.loads(path.read_text() or "{}").get("pid")
    except (OSError, ValueError):
        return None


def test_a_second_ingest_or_import_during_an_ingest_is_refused_and_nothing_is_lost(
    spark, cfg: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--customers", "20", "--days", "2", "--seed", "5"]) == 0
    landed = sorted(p for p in Path(cfg.paths.landing).rglob("*") if p.is_file() and not p.name.startswith("_"))
    first = subprocess.Popen([sys.executable, "-m", "jobs", "ingest"], env={**os.environ}, stderr=subprocess.PIPE)
    lock = lock_dir(cfg.home) / "silver.lock"
    deadline = time.monotonic() + 120
    while _holder_pid(lock) != first.pid:
        assert first.poll() is None and time.monotonic() < deadline, "the first ingest never took its lock"
        time.sleep(0.2)
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
