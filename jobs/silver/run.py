"""Entry point of the silver step of `omnilake ingest` (after jobs/bronze/run.py) and of `omnilake import`: every
pending bronze batch of every declared source (jobs/sources/specs.py) -> silver.

Order matters: contracts split good rows from quarantine; PII is tokenized (raw values only to
restricted.pii); the identity graph is updated from every source before lines are written, so rows get
their final customer_id; then each source is deduplicated into its silver table and its batch audited.
A rerun finds no new files and no pending batch, so it writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.bronze.ingest import REGISTRY, batch_id_of
from jobs.common.clock import accepted_dates
from jobs.common.config import Config
from jobs.common.frames import union_all
from jobs.common.log import event, stage
from jobs.common.parallel import map_parallel
from jobs.common.secrets import pii_key
from jobs.common.spark import build_spark
from jobs.io.schemas import ddl
from jobs.io.tables import Catalog
from jobs.silver import identity
from jobs.silver.contracts import VIOLATION, apply_contract, unknown_columns
from jobs.silver.dedup import LOADED, classify_rows
from jobs.silver.derived import customer_id_for
from jobs.silver.identity import IMPORTED_PREFIX
from jobs.silver.location import with_location
from jobs.silver.pii import pii_vault_rows, tokenize
from jobs.silver.quarantine import audit_counts, quarantine_rows, unbalanced
from jobs.silver.upkeep import add_unknown_references, build_customers, build_orders, upgrade_location
from jobs.sources.contracts import Contract, ContractError, load_contracts
from jobs.sources.specs import SPECS, SilverTable, SourceSpec

AUDIT = "ops.batch_audit"
PRIVACY_REQUESTS = "ops.privacy_requests"


class Ingest:
    """One ingest run over a warehouse."""

    def __init__(self, cfg: Config, catalog: Catalog) -> None:
        self.cfg, self.catalog, self.spark = cfg, catalog, catalog.spark
        self.key = pii_key(cfg)
        self.norm = {
            "country_code": cfg.business.default_country_code,
            "national_digits": cfg.business.phone_national_digits,
        }
        self.tz = cfg.business.channel_timezones
        self.country = cfg.business.default_country
        self.dates = accepted_dates(cfg)  # once per run: every batch of the run is checked against the same range
        self.cached: list[DataFrame] = []  # frames this run persisted, unpersisted when it ends (release)

    def pending_batches(self) -> dict[str, list[int]]:
        """Loaded-but-unaudited batch numbers per source."""
        registry = (
            self.catalog.read_or_empty(REGISTRY)
            .where(F.col("status") == "loaded")
            .select("source", "batch_id", "batch_no")
            .distinct()
        )
        done = self.catalog.read_or_empty(AUDIT).select("batch_id")
        rows = registry.join(done, on="batch_id", how="left_anti").collect()
        pending: dict[str, list[int]] = {}
        for row in rows:
            pending.setdefault(row["source"], []).append(row["batch_no"])
        return {s: sorted(b) for s, b in pending.items()}

    def check(
        self, contract: Contract, batches: list[int]
    ) -> tuple[DataFrame, DataFrame, DataFrame, DataFrame, DataFrame | None]:
        """(bronze rows, checked rows, tokenized valid rows, quarantine rows, PII vault rows) of pending batches."""
        bronze = self.catalog.read(f"bronze.{contract.source}").where(F.col("_batch_no").isin(batches))
        self._report_new_columns(contract, bronze, batches)
        checked = self._persist(apply_contract(bronze, contract=contract, dates=self.dates))
        bad = quarantine_rows(
            checked, contract=contract, key=self.key, name_words=self.cfg.ingest.pii_name_words, **self.norm
        )
        good = checked.where(F.col(VIOLATION).isNull()).drop(VIOLATION, "_raw_record")
        vault = None
        if contract.pii:
            vault = pii_vault_rows(good, pii=contract.pii, key=self.key, **self.norm)
            if "birth_date" in contract.pii:
                good = good.withColumn("_birth_year", F.year("birth_date"))
            if "address" in contract.pii:  # likewise only its city, state and country (jobs/silver/location.py)
                good = with_location(good, column="address", default_country=self.country, prefix="_")
            good = tokenize(good, pii=contract.pii, key=self.key, **self.norm)
        return bronze, checked, good, bad, vault

    def _persist(self, df: DataFrame) -> DataFrame:
        self.cached.append(df.persist())
        return df

    def release(self) -> None:
        """Unpersist what the run cached: a session that serves more commands (the warm runner) keeps no trace."""
        for df in self.cached:
            df.unpersist()
        self.cached.clear()

    def _report_new_columns(self, contract: Contract, bronze: DataFrame, batches: list[int]) -> None:
        extra = unknown_columns(bronze, contract=contract)
        if not extra:
            return
        seen = bronze.select([F.max(F.col(c).isNotNull().cast("int")).alias(c) for c in extra]).first()
        present = [c for c in extra if seen[c]]
        if not present:
            return
        if contract.unknown_columns == "fail":
            raise ContractError(
                f"{contract.source}: new column(s) {present} in batch {max(batches)} and the "
                "contract says unknown_columns: fail"
            )
        event("silver.new_columns", level=30, source=contract.source, columns=",".join(present))
        # recorded once, with the batch it first came in: a column that stays costs one read of this small table
        # (a row per source and column) per run, not a MERGE commit
        recorded = self.catalog.read_or_empty("ops.schema_changes").where(F.col("source") == contract.source)
        known = {r["column"] for r in recorded.select("column").collect()}
        new = [c for c in present if c not in known]
        if new:
            rows = [(contract.source, c, batch_id_of(contract.source, max(batches)), "ignored") for c in new]
            changes = self.spark.createDataFrame(rows, ddl("ops.schema_changes"))
            self.catalog.merge(changes, "ops.schema_changes", ["source", "column"], update_condition="false")

    def conformed(self, spec: SourceSpec, good: DataFrame) -> DataFrame:
        """The source's valid rows through its conform function, with the arguments its spec declares."""
        conform = spec.conform
        kwargs = dict(conform.kwargs)
        if conform.timezone:
            kwargs["tz"] = self.tz.get(conform.timezone, "UTC")
        for name, lookup in conform.lookups.items():
            kwargs[name] = self.catalog.read_or_empty(lookup.table)
        return conform.function(good, **kwargs)

    def update_identities(self, valid: dict[str, DataFrame], *, full: bool = False) -> None:
        """Add this run's new identifier edges and resolve the customers they touch (`full`: every edge), merge
        the changed silver.identity_map rows. Rows of customers a new link merged are moved later, from the map's
        change feed (jobs/silver/upkeep.py follow_identity_merges), not from this run's result.

        The map is written before the edges: a run that stops in between finds the same new edges again and
        resolves them to the same rows; the other order would leave edges that no run resolves."""

        def kind(id_type: str | None) -> str | Column:  # None: the row's channel, as imported:<channel>
            return F.concat(F.lit(IMPORTED_PREFIX), F.col("channel")) if id_type is None else id_type

        parts = [
            identity.account_edges(
                valid[s.name],
                id_type=kind(s.identity.id_type),
                id_col=s.identity.id_column,
                links=dict(s.identity.links),
            )
            for s in SPECS
            if s.identity and s.name in valid
        ]
        if not parts:
            return
        known = self.catalog.read_or_empty("silver.identity_edges")
        new = identity.new_edges(union_all(parts), known=known).localCheckpoint()
        if not full and not new.limit(1).count():
            return
        changed, _ = identity.resolve(
            new,
            full=full,
            edges=known,
            id_map=self.catalog.read_or_empty("silver.identity_map"),
            max_rounds=self.cfg.ingest.identity_max_rounds,
            local_max_edges=self.cfg.ingest.identity_local_max_edges,
            retired=self.retired_ids(),
        )
        self.catalog.merge(changed, "silver.identity_map", list(identity.NODE))
        self.catalog.merge(new, "silver.identity_edges", list(identity.EDGE_COLUMNS), update_condition="false")

    def retired_ids(self) -> DataFrame | None:
        """The hashed customer ids of forgotten people (ops.privacy_requests.retired_ids), None when there are none:
        identity resolution never gives them out again (jobs/silver/identity.py assign_customer_ids)."""
        if not self.catalog.exists(PRIVACY_REQUESTS):
            return None
        hashes = self.catalog.read(PRIVACY_REQUESTS).select(F.explode("retired_ids").alias("id_hash"))
        return hashes if hashes.limit(1).count() else None

    def classify_source(self, spec: SourceSpec, good: DataFrame) -> tuple[DataFrame, DataFrame]:
        """(every row classified for the audit, the rows to upsert into the spec's target table)."""
        keys = spec.target.keys
        rows = self.conformed(spec, good)
        existing = self.catalog.read_or_empty(spec.target.name)
        classified = self._persist(classify_rows(rows, existing=existing, keys=keys))
        winners = classified.where(F.col("_outcome") == LOADED).drop("_outcome", "_batch_no", "_row_id")
        if spec.target.customer_ids:
            id_map = self.catalog.read_or_empty("silver.identity_map")
            winners = customer_id_for(winners, id_map=id_map)
        return classified, winners

    def upsert(self, target: SilverTable, winners: list[DataFrame]) -> None:
        """One MERGE per target table for every source that feeds it (the channels' keys never collide: the
        channel is part of each key), newer `_version` wins."""
        keys = list(target.keys)
        rows = union_all(winners, allow_missing=True)
        if len(winners) > 1:  # an import may name a landing channel: one row per key, the newest version
            newest = Window.partitionBy(*keys).orderBy(F.col("_version").desc())
            rows = rows.withColumn("_rank", F.row_number().over(newest)).where("_rank = 1").drop("_rank")
        self.catalog.merge(
            rows, target.name, keys, partition_by=list(target.partition_by), update_condition="s._version > t._version"
        )


def batch_filter(pending: Mapping[str, Sequence[int]]) -> str:
    """A SQL predicate selecting the rows of the given batches (sources first: the tables are partitioned by it)."""
    sources = ", ".join(f"'{s}'" for s in sorted(pending))
    batches = ", ".join(f"'{batch_id_of(s, n)}'" for s in sorted(pending) for n in pending[s])
    return f"source IN ({sources}) AND batch_id IN ({batches})"


def run_silver(cfg: Config, *, full_identity: bool = False) -> dict[str, Any]:
    """Process every pending bronze batch of every declared source into silver (`full_identity`: resolve every
    identity edge again, not only the customers this run's new edges touch)."""
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    return process_silver(cfg, catalog, load_contracts(cfg.ingest.contracts_dir), full_identity=full_identity)


def process_silver(
    cfg: Config, catalog: Catalog, contracts: dict[str, Contract], *, full_identity: bool = False
) -> dict[str, Any]:
    """Every pending batch of the sources in `contracts`, in load order (the order of SPECS)."""
    run = Ingest(cfg, catalog)
    upgrade_location(catalog, default_country=cfg.business.default_country)  # before anything reads the members
    all_pending = run.pending_batches()
    pending = {s.name: all_pending[s.name] for s in SPECS if s.name in all_pending and s.name in contracts}
    if not pending:
        event("ingest.silver", pending_batches=0)
        return {"pending_batches": 0}
    try:
        return _load(run, contracts, pending, full_identity=full_identity)
    finally:
        run.release()


def stamped(audit: DataFrame) -> DataFrame:
    """ops.batch_audit rows as written: the counts, processed_at, and 0 rows forgotten (erased later by `omnilake
    privacy forget`) or expired (dropped later by bronze retention, `omnilake maintain`)."""
    return audit.withColumn("processed_at", F.current_timestamp()).withColumns(
        {c: F.lit(0).cast("long") for c in ("forgotten", "expired")}
    )


def _load(
    run: Ingest, contracts: dict[str, Contract], pending: dict[str, list[int]], *, full_identity: bool
) -> dict[str, Any]:
    """process_silver's work on the pending batches (`pending`: source -> batch numbers, in load order)."""
    cfg, catalog = run.cfg, run.catalog
    specs = [s for s in SPECS if s.name in pending]
    checked: dict[str, tuple[DataFrame, DataFrame, DataFrame]] = {}
    with stage("ingest.contracts", sources=len(pending)) as info:
        bad_parts, vault_parts = [], []
        for spec in specs:
            bronze, chk, good, bad, vault = run.check(contracts[spec.name], pending[spec.name])
            checked[spec.name] = (bronze, chk, good)
            bad_parts.append(bad)
            vault_parts += [vault] if vault is not None else []
        quarantine = union_all(bad_parts)
        # the run's batches' rows replace whatever an earlier, interrupted run of the same batches wrote: a rerun
        # (even one that brings new batches too) never appends them twice (issue 11, defect 9)
        catalog.overwrite_where(  # line_no came later: older quarantines gain the column
            quarantine, "silver.quarantine", batch_filter(pending), partition_by=["source"], merge_schema=True
        )
        if vault_parts:
            vault = union_all(vault_parts).dropDuplicates(["token"])
            catalog.merge(vault, "restricted.pii", ["token"], update_condition="false")
        info["quarantined_sources"] = len(bad_parts)
    with stage("ingest.identity"):
        map_before = catalog.version("silver.identity_map")  # where tables without a map version start (defect 4)
        run.update_identities({s: c[2] for s, c in checked.items()}, full=full_identity)

    def classify(spec: SourceSpec) -> tuple[DataFrame, DataFrame]:
        bronze, chk, good = checked[spec.name]
        with stage("ingest.classify", source=spec.name) as info:
            classified, winners = run.classify_source(spec, good)
            batches = [batch_id_of(spec.name, n) for n in pending[spec.name]]
            audit = audit_counts(spec.name, bronze=bronze, checked=chk, classified=classified, batches=batches)
            audit = audit.localCheckpoint()
            info.update({r["batch_id"]: r["bronze_rows"] for r in audit.collect()})
        return audit, winners

    workers = cfg.ingest.parallel_tables
    audits: list[DataFrame] = []
    # tables other sources look up while conforming (silver.stores: the POS time zones) are written first, so rows
    # that arrive in the same run as their store are conformed with it, as when the store came in an earlier run
    lookups = {lookup.table for spec in specs for lookup in spec.conform.lookups.values()}
    for wave in ([s for s in specs if s.target.name in lookups], [s for s in specs if s.target.name not in lookups]):
        upserts: dict[str, tuple[SilverTable, list[DataFrame]]] = {}
        for spec, (audit, winners) in zip(wave, map_parallel(classify, wave, workers=workers), strict=True):
            audits.append(audit)
            upserts.setdefault(spec.target.name, (spec.target, []))[1].append(winners)

        def upsert(target: tuple[SilverTable, list[DataFrame]]) -> None:
            with stage("ingest.silver", table=target[0].name, sources=len(target[1])):
                run.upsert(*target)

        map_parallel(upsert, list(upserts.values()), workers=workers)  # one MERGE per target table: independent commits
    with stage("ingest.derived"):
        batch_ids = [batch_id_of(s, n) for s, nums in pending.items() for n in nums]
        build_orders(catalog, batch_ids=batch_ids, map_before=map_before, max_lag=cfg.ingest.rekey_max_lag_versions)
        add_unknown_references(catalog, batch_ids=batch_ids)
        build_customers(catalog, batch_ids=batch_ids)
    audit = union_all(audits)
    if unbalanced(audit).limit(1).count():
        raise AssertionError(f"lineage does not add up: {unbalanced(audit).collect()}")
    # delivery_date, forgotten and expired came later: older audits gain the columns
    catalog.merge(stamped(audit), AUDIT, ["source", "batch_id"], schema_evolution=True)
    return {"pending_batches": sum(len(b) for b in pending.values()), "audit": [r.asDict() for r in audit.collect()]}
