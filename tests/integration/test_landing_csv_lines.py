"""Issue 11, defects 6 and 7 on landing ingest: a CSV line with an unbalanced quote is quarantined with its line
number and swallows no other line (Spark's multi-line parsing ran it into the lines after it), and the quarantine
holds none of the generated people's raw emails, phones, names or addresses."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.common.config import Config
from jobs.io.tables import Catalog

pytestmark = pytest.mark.integration


def test_a_broken_landing_line_is_quarantined_alone_and_no_raw_pii_is_quarantined(spark, cfg: Config) -> None:
    assert main(["generate", "--customers", "20", "--days", "2", "--seed", "3"]) == 0
    landing = Path(cfg.paths.landing)
    path = sorted((landing / "crm_members").rglob("*.csv"))[0]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) >= 4, "the test needs a crm_members file of at least 3 members"
    fields = next(iter(csv.reader([lines[1]])))
    # line 3 becomes a member whose name opens a quote it never closes, with a raw phone and email after it
    broken = f'M00000001,"Broken Quote,+1 212 555 0199,broken@example.com,{",".join(fields[4:])}\n'
    path.write_text("".join([*lines[:2], broken, *lines[2:]]), encoding="utf-8")
    rel = str(path.relative_to(landing))

    assert main(["ingest", "--date", path.parent.name]) == 0  # that day only: enough, and quicker
    catalog = Catalog.from_config(spark, cfg)
    bronze = catalog.read("bronze.crm_members").where(F.col("_source_file") == rel)
    assert sorted(r._line_no for r in bronze.collect()) == list(range(2, len(lines) + 2))  # one row per line
    quarantine = catalog.read("silver.quarantine")
    mine = [(r.reason_code, r.line_no, r.detail) for r in quarantine.where(F.col("source_file") == rel).collect()]
    assert ("MALFORMED", 3, "unbalanced quote: a quoted field must end on its line") in mine
    after = [r[0] for r in csv.reader(lines[2:])]  # the members after the broken line all load
    loaded = {r.member_id for r in catalog.read("silver.members").collect()}
    reasons = {r.line_no: r.reason_code for r in quarantine.where(F.col("source_file") == rel).collect()}
    assert all(m in loaded for i, m in enumerate(after, start=4) if i not in reasons)

    pii = json.loads((landing / "_manifest.json").read_text())["truth"]["pii"]
    raw = [v for kind in ("emails", "phones", "names", "addresses") for v in pii[kind]] + ["Broken Quote"]
    text = [f"{r.detail} {r.record}" for r in quarantine.collect()]
    assert text and not [v for v in raw if any(v in t for t in text)]
