"""Issue 11, hostile input: landing files of every source and format mutated by hypothesis (wrong types, broken
quoting, truncated lines and files, empty and header-only files, binary garbage, Latin-1 bytes, a 10 MB field,
duplicate keys, far dates, unknown enums, epoch overflow, Parquet type changes).

The contract, for each file: `ingest` exits 0 and the file's rows are all accounted for (its bronze rows are the
records it holds; the mutated rows are quarantined with a reason, the untouched clean rows are not; a file broken as a
whole may instead be rejected whole, with its reason in the registry), or it exits 3 with one line naming the file and
no table changed. Every audited batch balances (bronze_rows = loaded + superseded + duplicate + quarantined).

One ingest per hypothesis example: every kind of ALL_CASES, each on a source drawn for it (32 files in one new
delivery folder). `make test` runs one example (32 cases); HOSTILE_EXAMPLES=N runs N (a deeper search, ~3 min an
example). HOSTILE_SKIP=kind,fmt:kind,... leaves kinds out (to look past a known crash).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from jobs.bronze.ingest import is_empty
from jobs.cli import main
from jobs.io.tables import Catalog
from jobs.sources.contracts import load_contracts
from tests.support.config import make_config
from tests.support.hostile import ALL_CASES, WHEN, Base, Case, hostile_case

pytestmark = pytest.mark.integration
# each example lands one file of every (format, kind) case and runs one ingest; more: HOSTILE_EXAMPLES=5 make test
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "1"))
SUFFIX = {"csv": "csv", "json": "jsonl", "parquet": "parquet"}
_examples = itertools.count()
RAN: list[str] = []
WRITTEN: set[tuple[str, bytes]] = set()  # (source, contents) of earlier examples: a copy is duplicate_content


@dataclass
class World:
    cfg: object
    catalog: Catalog
    landing: Path
    last: date
    bases: dict[str, Base]


def _base(catalog: Catalog, landing: Path, source: str, contract) -> Base | None:
    path = sorted((landing / source).rglob("*.*"))[0]
    rel = str(path.relative_to(landing))
    if contract.format == "parquet":
        table = pq.read_table(path)
        base = Base(source, "parquet", contract, table.column_names, list(range(table.num_rows)), table=table)
    elif contract.format == "csv":
        header, *rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
        base = Base(source, "csv", contract, header, rows)
    else:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        base = Base(source, "json", contract, list(rows[0]), rows)
    bronze = catalog.read(f"bronze.{source}").where(F.col("_source_file") == rel).select("_batch_id", "_row_id")
    ids = [(r[0], r[1]) for r in bronze.orderBy("_row_id").collect()]
    if len(ids) != len(base.rows):  # the generator's own dirt made records span lines: not a base for positions
        return None
    quarantined = {(r[0], r[1]) for r in catalog.read("silver.quarantine").select("batch_id", "row_id").collect()}
    base.dirty = frozenset(i for i, key in enumerate(ids) if key in quarantined)
    return base


@pytest.fixture(scope="module")
def world(spark, tmp_path_factory: pytest.TempPathFactory, ingested_template):
    home = tmp_path_factory.mktemp("hostile") / "home"
    shutil.copytree(ingested_template(customers=20, days=2, seed=3), home)  # generated and ingested
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMNILAKE_ENV", "test")
        mp.setenv("OMNILAKE_HOME", str(home))
        cfg = make_config(home)
        catalog = Catalog.from_config(spark, cfg)
        landing = Path(cfg.paths.landing)
        contracts = load_contracts(cfg.ingest.contracts_dir)
        bases = {}
        for source, contract in contracts.items():
            if (landing / source).is_dir():
                base = _base(catalog, landing, source, contract)
                if base is not None:
                    bases[source] = base
        last = max(date.fromisoformat(p.name) for p in (landing / "web_orders").iterdir())
        yield World(cfg, catalog, landing, last, bases)
        print(f"\nhostile landing cases run: {len(RAN)}")


def _fits(base: Base, kind: str) -> bool:
    names = base.header
    if kind == "epoch_overflow":
        return any(c.format == "epoch_ms" for c in base.contract.columns)
    if kind == "far_date":
        return base.source in WHEN
    if kind == "unknown_enum":
        return any(c.enum and c.name in names for c in base.contract.columns)
    if kind == "wrong_type" and base.fmt != "parquet":
        return any(c.type != "string" and c.name in names for c in base.contract.columns)
    if kind == "wrong_type":
        return any(c.min is not None for c in base.contract.columns)
    if kind in ("broken_quote", "truncated_line", "cut_mid_field") and base.fmt == "csv":
        return True
    return True


def _versions(catalog: Catalog) -> dict[str, int]:
    return {name: catalog.version(name) for name in catalog.list_tables()}


def _ingest_until_clean(catalog: Catalog, cases: dict[str, Path], capsys) -> set[str]:
    """Run ingest; each exit 3 must be one line naming one case file and change no table: that file is then moved
    away and the ingest run again. Returns the refused files."""
    refused: set[str] = set()
    while True:
        before = _versions(catalog)
        capsys.readouterr()
        code = main(["ingest"])
        err = capsys.readouterr().err
        if code == 0:
            return refused
        assert code == 3, err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        named = [n for n in cases if n in lines[0] and n not in refused]
        assert named, f"exit 3 without naming a hostile file: {lines[0]}"
        assert _versions(catalog) == before, f"exit 3 but tables changed: {lines[0]}"
        refused.add(named[0])
        cases[named[0]].rename(cases[named[0]].parent.parent.parent / f"refused-{named[0]}")


def _check_case(case: Case, rel: str, status: str, reason: str | None, bronze: list, quarantine: list) -> None:
    where = f"{case.kind} ({case.source}, {rel})"
    assert all(q["reason_code"] for q in quarantine), f"{where}: a quarantine row without a reason"
    if status != "loaded":  # the file refused as a whole: `rejected`, with its reason in the registry
        assert case.file_level, f"{where}: registered {status}, its good rows not loaded"
        assert status == "rejected" and reason and not bronze, f"{where}: registered {status} with no reason"
        return
    positions = {row_id: i for i, row_id in enumerate(sorted(r["_row_id"] for r in bronze))}
    bad = {positions[q["row_id"]] for q in quarantine if q["row_id"] in positions}
    if case.rows is None:
        if case.kind == "garbage":
            assert bad == set(positions.values()), f"{where}: garbage rows loaded as valid"
        else:  # a CSV quote may swallow the lines after it: then the record that swallowed them is quarantined
            assert len(bronze) <= len(case.maybe), where
            assert len(bronze) == len(case.maybe) or bad, f"{where}: lines swallowed by a quote, none quarantined"
        return
    assert len(bronze) == case.rows, f"{where}: {len(bronze)} bronze rows, the file holds {case.rows}"
    assert case.bad <= bad, f"{where}: rows {sorted(case.bad - bad)} not quarantined"
    assert bad <= case.bad | case.maybe, f"{where}: clean rows {sorted(bad - case.bad - case.maybe)} quarantined"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_hostile_landing_files_are_loaded_quarantined_or_refused(world: World, data, capsys) -> None:
    n = next(_examples)
    skip = set(filter(None, os.environ.get("HOSTILE_SKIP", "").split(",")))
    day = (world.last + timedelta(days=n + 1)).isoformat()
    cases: dict[str, Case] = {}
    for i, (fmt, kind) in enumerate(ALL_CASES):
        fits = [b for b in world.bases.values() if b.fmt == fmt and _fits(b, kind)]
        if kind in skip or f"{fmt}:{kind}" in skip or not fits:
            continue
        base = data.draw(st.sampled_from(sorted(fits, key=lambda b: b.source)), label=f"{kind} source")
        name = f"{base.source}_hostile_{n}_{i}_{kind}.{SUFFIX[fmt]}"
        case = data.draw(hostile_case(base, kind, name), label=name)
        folder = world.landing / base.source / day
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(case.content)
        case.seen = (base.source, case.content) in WRITTEN  # a source's registry dedups its own files
        cases[name] = case
    WRITTEN.update((c.source, c.content) for c in cases.values())  # (before the ingest: a failed example is replayed)
    paths = {name: world.landing / c.source / day / name for name, c in cases.items()}
    refused = _ingest_until_clean(world.catalog, paths, capsys)
    catalog = world.catalog
    rows = catalog.read("ops.file_registry").collect()
    registry = {r["file"]: r["status"] for r in rows}
    reasons = {r["file"]: r["reason"] for r in rows}
    rels = {name: f"{c.source}/{day}/{name}" for name, c in cases.items()}
    failures: list[str] = []
    quarantine = catalog.read("silver.quarantine").where(F.col("source_file").isin(list(rels.values())))
    q_rows = quarantine.select("source_file", "row_id", "reason_code", "column").collect()
    for name, case in cases.items():
        RAN.append(name)
        if name in refused:
            continue
        if is_empty(paths[name], case.fmt):  # no bytes, or (CSV) not even a header: never read
            assert registry.get(rels[name]) == "empty", f"{case.kind}: {rels[name]} holds nothing to load"
            continue
        if case.seen:  # the same bytes loaded before: by design not loaded again
            assert registry.get(rels[name]) == "duplicate_content", f"{case.kind}: {rels[name]}"
            continue
        rel = rels[name]
        assert rel in registry, f"{case.kind}: {rel} not registered"
        bronze = []
        if catalog.exists(f"bronze.{case.source}"):
            bronze = (
                catalog.read(f"bronze.{case.source}").where(F.col("_source_file") == rel).select("_row_id").collect()
            )
        try:  # every case checked: one failing case does not hide the others
            _check_case(case, rel, registry[rel], reasons[rel], bronze, [q for q in q_rows if q["source_file"] == rel])
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    audit = catalog.read("ops.batch_audit")
    total = F.col("loaded") + F.col("superseded") + F.col("duplicate") + F.col("quarantined")
    assert audit.where(total != F.col("bronze_rows")).collect() == []
    print(f"example {n}: {len(cases)} hostile landing files, {len(refused)} refused with exit 3")
    print("\n".join(f"FAILED CASE {f}" for f in failures))
    assert not failures, "\n".join(failures)
