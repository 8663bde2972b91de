"""Issue 15 item 1: `omnilake privacy forget` end to end on a generated lake (generate, ingest, build gold and
features, train and score recommend, export), for two planted people with orders in two or more channels and a CRM
membership, asked for in one requests file by a raw email and by a member id (erased together).

Afterwards every table of every zone at every Delta version still readable (delta-rs), every _delta_log file, the
exports folder and the MLflow store (artifacts and database) are scanned for the person's raw email, phone, name,
tokens, account and member ids and customer id: nothing. Every other row of every table is unchanged (a content
digest of each table less the rows that name the person, before, against the table after), bronze rows stay
accounted for in ops.batch_audit, a rerun of the request writes nothing, and the next gold build does not bring
the person back from a carried snapshot. The scan's numbers go to <tmp>/privacy_scan.json.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from jobs.cli import main
from jobs.common.config import Config, load_config
from jobs.io.tables import Catalog
from jobs.silver.erasure import suspect_columns

pytestmark = pytest.mark.integration
BUSINESS = {"customers": 40, "days": 30, "seed": 3}
FAST = {  # the cheapest honest recommend: compare windows of 7 days after 7 days of history, a tiny ALS
    "OMNILAKE__ML__MIN_HISTORY_DAYS": "7",
    "OMNILAKE__ML__RECOMMEND__CHALLENGER__PARAMS__MAX_ITER": "3",
    "OMNILAKE__ML__RECOMMEND__CHALLENGER__PARAMS__RANK": "4",
}


def _tables(warehouse: Path) -> list[Path]:
    return sorted(p for p in warehouse.glob("*/*") if (p / "_delta_log").is_dir())


def _people(catalog: Catalog, manifest: dict) -> list[dict]:
    """Two planted CRM members with orders, the first in 2+ channels (the tiny lake holds one such member): their
    customer ids and raw values as bronze holds them."""
    from pyspark.sql import functions as F

    members = {k["crm_member_id"]: k for k in manifest["truth"]["person_keys"] if k["crm_member_id"]}
    id_map = catalog.read("silver.identity_map").where(F.col("id_type") == "member")
    channels = (
        catalog.read("silver.order_lines")
        .where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(F.countDistinct("channel").alias("n"))
    )
    crm = catalog.read("bronze.crm_members").where(F.col("email").isNotNull())
    rows = (
        id_map.join(channels, on="customer_id", how="inner")
        .join(crm, on=F.col("id_value") == F.col("member_id"), how="inner")
        .orderBy(F.col("n").desc(), "customer_id")
        .select("customer_id", "member_id", "email", "phone", "full_name", "n")
        .collect()
    )
    people = {}  # two different customers
    for row in rows:
        if row["member_id"] in members and len(people) < 2:
            people.setdefault(row["customer_id"], row.asDict() | {"keys": members[row["member_id"]]})
    assert len(people) == 2 and next(iter(people.values()))["n"] >= 2, people
    return list(people.values())


def _needles(catalog: Catalog, person: dict) -> set[str]:
    """Everything that names the person, read from the lake before the forget (independently of the code tested)."""
    from pyspark.sql import functions as F

    cid = person["customer_id"]
    nodes = catalog.read("silver.identity_map").where(F.col("customer_id") == cid).collect()
    tokens = {r["id_value"] for r in nodes if r["id_type"] in ("phone", "email")}
    member = catalog.read("silver.members").where(F.col("member_id") == person["member_id"]).first()
    tokens |= {member[c] for c in member.asDict() if c.endswith("_token") and member[c]}
    vault = catalog.read("restricted.pii").where(F.col("token").isin(sorted(tokens))).collect()
    raw = {person["email"], person["phone"], person["full_name"]} - {None} | {r["value"] for r in vault}
    ids = {cid} | {r["id_value"] for r in nodes if r["id_type"] not in ("phone", "email")}
    return {v for v in tokens | raw | ids if v and len(v) >= 5}


def _pattern(needles: set[str]) -> re.Pattern[str]:
    """A needle as a whole value inside any text (not the prefix of a longer id)."""
    alts = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alts})(?![A-Za-z0-9])")


def _rows(path: Path, version: int | None = None) -> list[str]:
    table = DeltaTable(str(path), version=version).to_pyarrow_table()
    return [_json(r) for r in table.to_pylist()]


def _json(value: object) -> str:
    """JSON with non-ASCII text as it is (json's default escapes it: a needle 'Núñez' would never match)."""
    return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)


def _plain(text: str) -> str:
    """Lower case letters (any script), digits, '@' and '.' only: a raw value and its normalised form compare equal."""
    return re.sub(r"[^\w@.]|_", "", text.lower())


def _digest(rows: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()


def _scan_files(root: Path, pattern: re.Pattern[str]) -> tuple[int, list[str]]:
    files, hits = 0, []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        files += 1
        text = path.read_bytes().decode("utf-8", errors="replace")
        if path.suffix == ".parquet":  # compressed pages: look at the values
            text += _json(pq.read_table(path).to_pylist())
        if pattern.search(text):
            hits.append(str(path))
    return files, hits


def test_forget_a_cross_channel_person_everywhere(spark, seed_home, tmp_path: Path, monkeypatch) -> None:
    home = seed_home(**BUSINESS)
    monkeypatch.setenv("OMNILAKE_ENV", "test")
    monkeypatch.setenv("OMNILAKE_HOME", str(home))
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    cfg: Config = load_config()
    catalog = Catalog.from_config(spark, cfg)
    manifest = json.loads((home / "landing" / "_manifest.json").read_text())
    as_of = date.fromisoformat(manifest["end_date"]) - timedelta(days=1)
    timing: dict[str, float] = {}
    for argv in (
        ["build", "gold", "--as-of", str(as_of)],
        ["build", "features", "--as-of", str(as_of)],
        ["train", "recommend", "--as-of", str(as_of), "--horizon-days", "7"],
        ["score", "recommend", "--as-of", str(as_of), "--horizon-days", "7"],
        ["export-serving", "--as-of", str(as_of)],
    ):
        started = time.monotonic()
        assert main(argv) == 0, argv
        timing[" ".join(argv[:2])] = round(time.monotonic() - started, 1)
    exports = Path(cfg.paths.exports)
    assert main(["export", "gold.customer_360", "--out", str(exports / "customer_360.csv")]) == 0
    assert main(["export", "features.customer_asof", "--out", str(exports / "customer_asof.parquet")]) == 0
    person, other = _people(catalog, manifest)
    needles = _needles(catalog, person) | _needles(catalog, other)
    pattern = _pattern(needles)
    (exports / "report.html").write_text(f"<html><p>top customer {person['customer_id']}</p></html>")
    (exports / "other.html").write_text("<html><p>no one in particular</p></html>")
    warehouse = Path(cfg.paths.warehouse)
    recs = catalog.read("gold.recommendations").where(f"customer_id = '{person['customer_id']}'").count()
    assert recs > 0, "the person must have recommendations before the forget"
    gaps = {
        f"{p.parent.name}.{p.name}": suspect_columns(DeltaTable(str(p)).schema().to_arrow().names)
        for p in _tables(warehouse)
        if p.parent.name != "bronze"  # raw sources: matched by their specs' account and PII columns
    }
    assert not {t: c for t, c in gaps.items() if c}, "columns that look personal but no erasure rule reads"
    before = {p: _digest([r for r in _rows(p) if not pattern.search(r)]) for p in _tables(warehouse)}
    vault_before = {json.loads(r)["token"]: json.loads(r) for r in _rows(warehouse / "restricted" / "pii")}
    theirs = " ".join(r for p in warehouse.glob("bronze/*") for r in _rows(p) if pattern.search(r))

    requests = tmp_path / "requests.csv"  # one by raw email (as a person would write it), one by CRM member id
    requests.write_text(
        f"request_id,by,value\nr-email,email,  {person['email'].upper()} \nr-member,member-id,{other['member_id']}\n"
    )
    started = time.monotonic()
    assert main(["privacy", "forget", "--requests", str(requests)]) == 0
    timing["privacy forget"] = round(time.monotonic() - started, 1)

    # -- every table, every readable version, the logs, the exports, the MLflow store: nothing names the person
    summary = {"tables": 0, "versions": 0, "rows": 0, "files": 0, "export_files": 0, "mlflow_files": 0}
    hits: list[str] = []
    for path in _tables(warehouse):
        summary["tables"] += 1
        table = DeltaTable(str(path))
        versions = sorted({h["version"] for h in table.history()} | {table.version()})
        for version in versions:
            try:
                rows = _rows(path, version)
            except Exception:  # a version whose files VACUUM deleted is not readable: what the purge is for
                continue
            summary["versions"] += 1
            summary["rows"] += len(rows)
            hits += [f"{path.name}@{version}: {r[:120]}" for r in rows if pattern.search(r)]
        files, found = _scan_files(path, pattern)  # the log, data files of any version, change data
        summary["files"] += files
        hits += found
    summary["export_files"], found = _scan_files(exports, pattern)
    hits += found
    summary["mlflow_files"], found = _scan_files(Path(cfg.home) / "mlflow", pattern)
    hits += found
    summary["hits"] = len(hits)
    summary |= {"needles": len(needles), "seconds": timing}
    (tmp_path / "privacy_scan.json").write_text(json.dumps(summary, indent=2))
    print("privacy scan:", json.dumps(summary))
    assert not hits, hits[:10]
    assert (exports / "other.html").exists() and not (exports / "report.html").exists()

    # -- every other row unchanged; bronze still accounted for; the audit holds the request and no PII
    after = {p: _digest(_rows(p)) for p in _tables(warehouse)}
    vault = warehouse / "restricted" / "pii"
    audits = {warehouse / "ops" / "batch_audit", warehouse / "ops" / "privacy_requests", vault}
    changed = [str(p) for p in before if p not in audits and before[p] != after[p]]
    assert not changed, changed
    # the vault loses the person's values, also those no identifier links (their birth date, a shipping name): each
    # one is in one of their own bronze rows
    vault_after = {json.loads(r)["token"]: json.loads(r) for r in _rows(vault)}
    assert set(vault_after) < set(vault_before)
    assert all(vault_after[t] == vault_before[t] for t in vault_after)
    for token in set(vault_before) - set(vault_after):
        value = vault_before[token]["value"]
        assert _plain(value[-10:] if value.isdigit() else value) in _plain(theirs), vault_before[token]["pii_type"]
    from pyspark.sql import functions as F

    audit = (
        catalog.read("ops.batch_audit")
        .groupBy("source")
        .agg(F.sum(F.col("bronze_rows") - F.coalesce("forgotten", F.lit(0))).alias("n"))
    )
    for row in audit.collect():
        assert catalog.read(f"bronze.{row['source']}").count() == row["n"], row["source"]
    request = catalog.read("ops.privacy_requests").orderBy("request_id").collect()
    assert [(r["request_id"], r["customers"], r["batch_size"]) for r in request] == [
        ("r-email", 1, 2),
        ("r-member", 1, 2),
    ]
    assert request[0]["batch_id"] == request[1]["batch_id"] and request[0]["vacuumed_at"] is not None
    for name in request[0]["tables_touched"]:  # the change data of the erased rows is gone with their files
        assert not list(warehouse.joinpath(*name.split(".")).glob("_change_data/**/*.parquet")), name
    assert "bronze.crm_members" in request[0]["tables_touched"] and request[0]["rows_removed"]["restricted.pii"] > 0
    assert any("recommender/seen" in a for a in request[0]["artifacts_scrubbed"])

    # -- a rerun writes nothing; the next build does not bring the person back from a carried snapshot
    versions = {p: DeltaTable(str(p)).version() for p in _tables(warehouse)}
    store = sorted(str(p) for p in (Path(cfg.home) / "mlflow").rglob("*") if p.is_file() and p.suffix != ".db")
    assert main(["privacy", "forget", "--requests", str(requests)]) == 0
    assert {p: DeltaTable(str(p)).version() for p in _tables(warehouse)} == versions
    assert sorted(str(p) for p in (Path(cfg.home) / "mlflow").rglob("*") if p.is_file() and p.suffix != ".db") == store
    assert main(["build", "gold", "--as-of", str(as_of + timedelta(days=1))]) == 0
    for name in ("gold.customer_360", "gold.rfm_segments", "gold.cohort_members"):
        gone = F.col("customer_id").isin(person["customer_id"], other["customer_id"])
        assert catalog.read(name).where(gone).count() == 0, name
