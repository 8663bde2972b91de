"""Issue 11, defect 4: a run killed after its identity merge and before the rows of the merged customers moved left
them under a retired customer_id for good (the rerun found no new edge, so it moved nobody). Rows now follow the
identity_map's change feed from the map version each table records: the rerun moves them.

A second ingest lands a web order linking two customers the first ingest kept apart (account A1 with A2's email);
the kill is the hook of jobs/io/faults.py raised in-process right after the silver.identity_edges commit.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.common.config import load_config
from jobs.io.tables import Catalog
from jobs.silver.derived import customer_id_for

pytestmark = pytest.mark.integration
REKEYED = ("silver.order_lines", "silver.events", "silver.orders")


class Killed(BaseException):
    """The injected fault: nothing in the code under test catches a BaseException that is not an Exception."""


def _catalog(spark, home: Path) -> Catalog:
    return Catalog.from_config(spark, load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home)}))


def _first_ingest(home: Path, seed_home, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_home(customers=20, days=2, seed=5, home=home)  # generated and ingested (its PII key too)
    monkeypatch.setenv("OMNILAKE_ENV", "test")
    monkeypatch.setenv("OMNILAKE_HOME", str(home))


def _land_link(catalog: Catalog, landing: Path) -> tuple[str, str]:
    """A new web order of account A1 carrying the email of account A2, a customer the map keeps apart; (A1, A2)."""
    web = catalog.read("silver.identity_map").where(F.col("id_type") == "web")
    owners = {r["id_value"]: r["customer_id"] for r in web.collect()}
    files = sorted((landing / "web_orders").rglob("*.csv"))
    rows = [r for f in files for r in csv.DictReader(f.open(newline=""))]
    emails = {r["account_id"]: r["email"] for r in rows if r["email"].strip()}
    a1 = min(owners)
    a2 = min(a for a in emails if owners.get(a) not in (None, owners[a1]))
    order = {**next(r for r in rows if r["account_id"] == a1), "order_id": "LINK-1", "line_no": "1"}
    order["email"] = emails[a2]
    day = max(date.fromisoformat(p.name) for p in (landing / "web_orders").iterdir()) + timedelta(days=1)
    (landing / "web_orders" / day.isoformat()).mkdir()
    with (landing / "web_orders" / day.isoformat() / "web_orders_link.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(order))
        writer.writeheader()
        writer.writerow(order)
    return a1, a2


def _content(catalog: Catalog) -> dict[str, list[tuple[str, ...]]]:
    out = {}
    for name in REKEYED:
        df = catalog.read(name)
        cols = sorted(c for c in df.columns if not c.startswith("_"))
        out[name] = sorted(tuple(str(v) for v in r) for r in df.select(*cols).collect())
    return out


def _stale(catalog: Catalog) -> dict[str, int]:
    """Per table: rows whose customer_id is not the one the identity map gives their account."""
    id_map = catalog.read("silver.identity_map")
    out = {}
    for name in REKEYED:
        rows = catalog.read(name).where(F.col("account_id").isNotNull())
        mapped = customer_id_for(rows.withColumnRenamed("customer_id", "_had"), id_map=id_map)
        out[name] = mapped.where(~F.col("_had").eqNullSafe(F.col("customer_id"))).count()
    return out


def test_a_run_killed_after_its_identity_merge_moves_the_merged_customers_rows_on_rerun(
    seed_home, spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, reference = tmp_path / "killed", tmp_path / "reference"
    _first_ingest(home, seed_home, monkeypatch)
    catalog = _catalog(spark, home)
    a1, a2 = _land_link(catalog, home / "landing")
    shutil.copytree(home, reference)  # the same lake and link file, for the uninterrupted second ingest

    def after_commit(name: str) -> None:
        if name == "silver.identity_edges":
            raise Killed(f"after the commit to {name}")

    with monkeypatch.context() as m:
        m.setattr("jobs.io.tables.after_commit", after_commit)
        with pytest.raises(Killed):
            main(["ingest"])
    assert main(["ingest"]) == 0  # the rerun: the new edges are known, the map already merged
    web = catalog.read("silver.identity_map").where((F.col("id_type") == "web") & F.col("id_value").isin(a1, a2))
    assert len({r["customer_id"] for r in web.collect()}) == 1  # the link merged the two customers
    assert _stale(catalog) == dict.fromkeys(REKEYED, 0)

    monkeypatch.setenv("OMNILAKE_HOME", str(reference))
    assert main(["ingest"]) == 0
    assert _content(catalog) == _content(_catalog(spark, reference))
