"""The lake half of a forget: find a subject's footprint and delete their rows from every table.

Only the subject's own values are collected to the driver (their identity nodes, tokens, orders and bronze row
keys: a handful); every table is read and deleted from in Spark.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.common.config import Config
from jobs.io.tables import Catalog
from jobs.silver.erasure import (
    MEMBER,
    NEEDLES,
    TOKEN_TYPES,
    Footprint,
    bronze_condition,
    bronze_id_columns,
    is_token_column,
    needles,
    quarantine_condition,
    row_condition,
    rows_of,
)
from jobs.silver.pii import pii_vault_rows
from jobs.silver.upkeep import MAP_VERSION, REKEYED, build_customers, follow_identity_merges
from jobs.sources.contracts import load_contracts

MAP = "silver.identity_map"
VAULT = "restricted.pii"
QUARANTINE = "silver.quarantine"
AUDIT = "ops.batch_audit"
# bookkeeping that holds no person (and the audit of the erasure itself)
SKIPPED = frozenset({AUDIT, "ops.privacy_requests", "ops.file_registry", "ops.gold_watermarks"})


class SubjectFinder:
    """Resolve a subject to their footprint (jobs/silver/erasure.py) over one catalog."""

    def __init__(self, cfg: Config, catalog: Catalog, *, key: bytes) -> None:
        self.cfg, self.catalog, self.key = cfg, catalog, key
        self.norm = {
            "country_code": cfg.business.default_country_code,
            "national_digits": cfg.business.phone_national_digits,
        }
        self.contracts = load_contracts(cfg.ingest.contracts_dir)

    def _map(self) -> DataFrame:
        return self.catalog.read_or_empty(MAP)

    def customer_ids(self, by: str, value: str) -> set[str]:
        """The customer ids an identifier (as silver holds it: subject_value) resolves to."""
        id_map = self._map()
        if by == "customer-id":  # also an id the map does not hold (an interactions-only import)
            return {value}
        if by == "member-id":
            found = id_map.where((F.col("id_type") == MEMBER) & (F.col("id_value") == value))
        else:  # token, email, phone: a phone or email token
            found = id_map.where(F.col("id_type").isin(*TOKEN_TYPES) & (F.col("id_value") == value))
        return {r["customer_id"] for r in found.select("customer_id").distinct().collect()}

    def footprint(self, by: str, value: str) -> Footprint:
        """Customer ids, identity nodes, member tokens, vault values and orders of the subject (bronze not yet)."""
        ids = self.customer_ids(by, value)
        nodes = {
            (r["id_type"], r["id_value"])
            for r in self._map().where(F.col("customer_id").isin(sorted(ids))).select("id_type", "id_value").collect()
        } if ids else set()  # fmt: skip
        if not ids and by == "member-id":
            nodes.add((MEMBER, value))
        tokens = {value} if by in ("token", *TOKEN_TYPES) else set()
        members = sorted(v for t, v in nodes if t == MEMBER)
        if members and self.catalog.exists("silver.members"):
            rows = self.catalog.read("silver.members").where(F.col("member_id").isin(members))
            token_cols = [c for c in rows.columns if is_token_column(c)]
            for row in rows.select(*token_cols).collect():
                tokens |= {row[c] for c in token_cols if row[c]}
        tokens |= {v for t, v in nodes if t in TOKEN_TYPES}
        raw = self._vault_values(tokens)
        orders: set[tuple[str, str]] = set()
        if ids and self.catalog.exists("silver.order_lines"):
            lines = self.catalog.read("silver.order_lines").where(F.col("customer_id").isin(sorted(ids)))
            orders = {(r["channel"], r["order_id"]) for r in lines.select("channel", "order_id").distinct().collect()}
        return Footprint(frozenset(ids), frozenset(nodes), frozenset(tokens), raw, frozenset(orders))

    def _vault_values(self, tokens: Iterable[str]) -> dict[str, frozenset[str]]:
        listed = sorted(tokens)
        if not listed or not self.catalog.exists(VAULT):
            return {}
        out: dict[str, set[str]] = {}
        for row in self.catalog.read(VAULT).where(F.col("token").isin(listed)).collect():
            out.setdefault(row["pii_type"], set()).add(row["value"])
        return {k: frozenset(v) for k, v in out.items()}

    def subject(self, fp: Footprint, *, bronze_rows: Iterable[tuple[str, str, int]] = ()) -> DataFrame:
        """The footprint's needles as a small frame (the source side of every erasing join)."""
        return self.catalog.spark.createDataFrame(needles(fp, bronze_rows=bronze_rows), NEEDLES)

    def bronze_rows(self, subject: DataFrame) -> dict[str, tuple[DataFrame, F.Column]]:
        """Bronze table -> (the subject's rows in it, the join condition that finds them); tables with none left
        out."""
        out = {}
        for name in self.catalog.list_tables():
            if not name.startswith("bronze."):
                continue
            source = name.split(".", 1)[1]
            table = self.catalog.read(name)
            contract = self.contracts.get(source)
            pii = {c: k for c, k in (contract.pii if contract else {}).items() if c in table.columns}
            on = bronze_condition(
                table.columns, id_columns=bronze_id_columns(source, table.columns), pii=pii, **self.norm
            )
            if on is not None:
                out[name] = (rows_of(table, subject, on), on)
        return out

    def bronze_tokens(self, name: str, rows: DataFrame) -> tuple[set[str], dict[str, set[str]]]:
        """The PII tokens and normalised values of the subject's bronze rows of `name`, as silver computes them."""
        contract = self.contracts.get(name.split(".", 1)[1])
        pii = {c: k for c, k in (contract.pii if contract else {}).items() if c in rows.columns}
        if not pii:
            return set(), {}
        tokens, raw = set(), {}
        for row in pii_vault_rows(rows, pii=pii, key=self.key, **self.norm).collect():
            tokens.add(row["token"])
            raw.setdefault(row["pii_type"], set()).add(row["value"])
        return tokens, raw


def erase_tables(finder: SubjectFinder, fp: Footprint) -> tuple[Footprint, dict[str, int]]:
    """Delete the subject from every table; (their full footprint, rows deleted per table)."""
    catalog = finder.catalog
    # identity upkeep caught up first, so the map versions the tables record can move past the erasure below
    map_before = catalog.version(MAP)
    build_customers(catalog)
    follow_identity_merges(catalog, map_before=map_before, max_lag=finder.cfg.ingest.rekey_max_lag_versions)
    map_before = catalog.version(MAP)
    first = finder.subject(fp)
    bronze = finder.bronze_rows(first)
    keys: list[tuple[str, str, int]] = []
    tokens: set[str] = set()
    raw: dict[str, set[str]] = {}
    for name, (rows, _) in bronze.items():
        source = name.split(".", 1)[1]
        keys += [(source, r["_batch_id"], r["_row_id"]) for r in rows.select("_batch_id", "_row_id").collect()]
        found, values = finder.bronze_tokens(name, rows)
        tokens |= found
        for kind, vs in values.items():
            raw.setdefault(kind, set()).update(vs)
    fp = fp.extended(tokens=tokens, raw=raw)
    removed: dict[str, int] = {}
    _count_forgotten(catalog, bronze)
    for name, (_, on) in bronze.items():
        removed[name] = catalog.delete_where(name, on, using=first)
    subject = finder.subject(fp, bronze_rows=keys)
    for name in catalog.list_tables():
        if name.startswith("bronze.") or name in SKIPPED:
            continue
        on = quarantine_condition() if name == QUARANTINE else row_condition(catalog.read(name).columns)
        if on is not None:
            removed[name] = catalog.delete_where(name, on, using=subject)
    advance_map_versions(catalog, map_before)
    return fp, removed


def _count_forgotten(catalog: Catalog, bronze: dict[str, tuple[DataFrame, F.Column]]) -> None:
    """ops.batch_audit.forgotten of every batch the deletes below touch: bronze_rows less the rows that stay, so
    every bronze row ever loaded stays accounted for (loaded + superseded + duplicate + quarantined = bronze_rows,
    of which `forgotten` were erased later). Absolute, not an increment: a forget that stops after this step and
    runs again writes the same counts, and none once the rows are gone."""
    if not catalog.exists(AUDIT):
        return
    parts = []
    for name, (rows, _) in bronze.items():
        erased = rows.groupBy(F.col("_batch_id").alias("batch_id")).agg(F.count(F.lit(1)).alias("_erased"))
        batches = [r["batch_id"] for r in erased.select("batch_id").collect()]
        if not batches:
            continue
        now = (
            catalog.read(name)
            .where(F.col("_batch_id").isin(batches))
            .groupBy(F.col("_batch_id").alias("batch_id"))
            .agg(F.count(F.lit(1)).alias("_now"))
        )
        source = F.lit(name.split(".", 1)[1]).alias("source")
        parts.append(erased.join(now, on="batch_id", how="inner").select(source, "batch_id", "_erased", "_now"))
    if not parts:
        return
    counts = parts[0]
    for part in parts[1:]:
        counts = counts.unionByName(part)
    catalog.add_columns(AUDIT, {"forgotten": "long"})  # an audit from before the column
    audit = catalog.read(AUDIT).select("source", "batch_id", "bronze_rows")
    target = counts.join(audit, on=["source", "batch_id"], how="inner").select(
        "source", "batch_id", (F.col("bronze_rows") - F.col("_now") + F.col("_erased")).alias("forgotten")
    )
    catalog.merge(
        target,
        AUDIT,
        ["source", "batch_id"],
        update_condition="NOT (t.forgotten <=> s.forgotten)",
        update_set={"forgotten": "s.forgotten"},
        insert=False,
    )


def advance_map_versions(catalog: Catalog, map_before: int) -> None:
    """The erasure (or its VACUUM) committed to identity_map since `map_before` and moved nobody: the tables that
    follow the map's change feed (jobs/silver/upkeep.py MAP_VERSION) may start after it, so purging the map's
    history breaks no later ingest."""
    map_now = catalog.version(MAP)
    if map_now == map_before:
        return
    for name in (*REKEYED, "silver.customers"):
        if catalog.exists(name) and catalog.properties(name).get(MAP_VERSION) is not None:
            catalog.set_properties(name, {MAP_VERSION: str(map_now)})
