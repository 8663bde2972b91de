"""`omnilake privacy forget|vacuum`: erase a person from every zone, the exports and the published models, audited.

A request names the subject (`--by` customer-id, token, email, phone or member-id). The forget resolves it through
silver.identity_map to the customer id(s), collects their footprint (jobs/silver/erasure.py: identity nodes, PII
tokens and the normalised raw values restricted.pii holds for them, their orders, then the tokens of every bronze
row of theirs), and deletes, one Delta DELETE per table that has rows of theirs: bronze (matched on raw account
ids and normalised phone/email), restricted.pii, every silver, gold, features and ops table whose columns can name
them (by column name, so tables added later are covered), and their quarantine rows. It then scrubs the export
files and the MLflow models, records the request in ops.privacy_requests (hashes only) and, when conf
privacy.vacuum_retention_hours is 0, purges the touched tables' history at once (else `omnilake privacy vacuum`
does it once the retention has passed). A rerun of a request finds nothing and writes nothing.

Aggregates (daily_sales, funnel, cohort_retention, ...) hold no person and are left as they are.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.common.config import Config
from jobs.common.errors import UserError
from jobs.common.log import event
from jobs.common.secrets import pii_key
from jobs.common.spark import build_spark
from jobs.io.maintenance import purge_history
from jobs.io.schemas import ddl
from jobs.io.tables import Catalog
from jobs.orchestration.privacy_lake import MAP, SubjectFinder, advance_map_versions, erase_tables
from jobs.silver.erasure import BY_KINDS, Footprint, SubjectError, retired_id_hash, subject_hash, subject_value

REQUESTS = "ops.privacy_requests"
REQUEST_COLUMNS = ("request_id", "by", "value")
POSTGRES = "postgres:"  # rows_removed keys of the published copies (jobs/orchestration/publish.py)


@dataclass(frozen=True)
class Request:
    request_id: str | None  # None: derived from the subject's hash, so a repeated request is the same request
    by: str
    value: str


@dataclass
class Outcome:
    request_id: str
    subject_hash: str
    customers: int = 0
    rows_removed: dict[str, int] = field(default_factory=dict)
    exports_changed: list[str] = field(default_factory=list)
    artifacts_scrubbed: list[str] = field(default_factory=list)
    models_to_retrain: list[str] = field(default_factory=list)
    retired_ids: list[str] = field(default_factory=list)
    vacuumed: bool = False
    recorded: bool = False  # a row was written to ops.privacy_requests by this run
    batch_id: str | None = None  # the requests erased together: the counts above are their erasure's
    batch_size: int = 1

    @property
    def tables_touched(self) -> list[str]:
        """The lake tables rows were deleted from (PostgreSQL's, `postgres:<schema>.<table>`, left out)."""
        return sorted(t for t, n in self.rows_removed.items() if n and not t.startswith(POSTGRES))

    def summary(self) -> str:
        removed = sum(n for t, n in self.rows_removed.items() if not t.startswith(POSTGRES))
        published = sum(n for t, n in self.rows_removed.items() if t.startswith(POSTGRES))
        return (
            f"forget {self.request_id}: {self.customers} customer id(s), {removed:,} rows from "
            f"{len(self.tables_touched)} table(s), {published:,} from PostgreSQL, "
            f"{len(self.exports_changed)} export file(s) changed, "
            f"{len(self.artifacts_scrubbed)} model artifact(s) scrubbed, {len(self.models_to_retrain)} model "
            f"version(s) to retrain{', history purged' if self.vacuumed else ''}"
            + (f" (erased together with {self.batch_size - 1} other request(s))" if self.batch_size > 1 else "")
        )


def read_requests(path: Path) -> list[Request]:
    """The requests of a CSV file with the header request_id,by,value (one line error names the row)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != REQUEST_COLUMNS:
            raise UserError(f"{path}: the header must be {','.join(REQUEST_COLUMNS)}, got {reader.fieldnames}")
        out = []
        for line, row in enumerate(reader, start=2):
            if row["by"] not in BY_KINDS or not (row["value"] or "").strip() or not (row["request_id"] or "").strip():
                raise UserError(f"{path}: row {line}: needs a request_id, a value and by in {', '.join(BY_KINDS)}")
            out.append(Request(row["request_id"].strip(), row["by"], row["value"]))
    return out


def forget(cfg: Config, requests: Sequence[Request], *, now: datetime | None = None) -> list[Outcome]:
    """Carry out the requests together (see the module docstring): each is resolved to its footprint, then one
    erasure removes all of them (one scan and one delete per table, one purge, however many requests a file holds);
    one Outcome per request, the erasure's counts shared by the requests of the batch (the same batch_id)."""
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    key = pii_key(cfg)
    finder = SubjectFinder(cfg, catalog, key=key)
    outcomes: dict[str, Outcome] = {}
    footprints: dict[str, Footprint] = {}
    for request in requests:  # a request named twice (or two names of one derived id) is erased once
        outcome, footprint = _resolve(cfg, finder, request, key=key)
        if outcome.request_id not in outcomes:
            outcomes[outcome.request_id], footprints[outcome.request_id] = outcome, footprint
    known = _known_requests(catalog, list(outcomes))
    todo = [i for i in outcomes if not (footprints[i].empty and i in known)]
    for request_id in set(outcomes) - set(todo):
        event("privacy.nothing_left", request_id=request_id)
    if todo:
        _erase(cfg, finder, [outcomes[i] for i in todo], [footprints[i] for i in todo], known=known, now=now)
    return list(outcomes.values())


def _resolve(cfg: Config, finder: SubjectFinder, request: Request, *, key: bytes) -> tuple[Outcome, Footprint]:
    """The request's Outcome (id, subject hash, customers) and footprint; a UserError for an invalid subject."""
    norm = {"country_code": cfg.business.default_country_code, "national_digits": cfg.business.phone_national_digits}
    try:
        value = subject_value(request.by, request.value, key=key, **norm)
    except SubjectError as exc:
        raise UserError(str(exc)) from exc
    hashed = subject_hash(request.by, value, key=key)
    outcome = Outcome(request.request_id or f"forget-{hashed[:16]}", hashed)
    footprint = finder.footprint(request.by, value)
    outcome.customers = len(footprint.customer_ids)
    outcome.retired_ids = sorted(retired_id_hash(c) for c in footprint.customer_ids)
    return outcome, footprint


def _erase(
    cfg: Config,
    finder: SubjectFinder,
    outcomes: list[Outcome],
    footprints: list[Footprint],
    *,
    known: set[str],
    now: datetime | None,
) -> None:
    """Erase the footprints together, then record each request (those already recorded only if this run still
    found something of theirs)."""
    catalog = finder.catalog
    batch = Outcome(uuid.uuid4().hex, "")
    combined = Footprint.union(footprints)
    if not combined.empty:
        # PostgreSQL first: a server it cannot reach stops the forget before the lake loses the ids to find them by
        batch.rows_removed = _erase_published(cfg, combined)
        combined, removed = erase_tables(finder, combined)
        batch.rows_removed |= removed
        batch.exports_changed = _scrub_exports(cfg, combined)
        batch.artifacts_scrubbed, batch.models_to_retrain = _scrub_models(cfg, catalog, combined)
    changed = bool(batch.tables_touched or batch.exports_changed or batch.artifacts_scrubbed)
    # stamped once the deletes are done: `privacy vacuum` purges after requested_at + retention, when every file
    # the deletes removed is older than the retention
    requested_at, vacuumed_at = _utc(now), None
    if cfg.privacy.vacuum_retention_hours == 0 and batch.tables_touched:
        _purge(catalog, batch.tables_touched, retention_hours=0)
        vacuumed_at = _utc(now)
    record = [o for o in outcomes if o.request_id not in known or changed]
    for request_id in {o.request_id for o in outcomes} - {o.request_id for o in record}:
        event("privacy.nothing_left", request_id=request_id)  # a repeated request: nothing written
    for outcome in record:
        outcome.batch_id, outcome.batch_size = batch.request_id, len(record)
        outcome.rows_removed, outcome.exports_changed = dict(batch.rows_removed), list(batch.exports_changed)
        outcome.artifacts_scrubbed, outcome.models_to_retrain = batch.artifacts_scrubbed, batch.models_to_retrain
        outcome.vacuumed, outcome.recorded = vacuumed_at is not None, True
    if record:
        _record(catalog, record, requested_at=requested_at, vacuumed_at=vacuumed_at)
        event("privacy.forget", requests=len(record), tables=len(batch.tables_touched))


def _purge(catalog: Catalog, tables: Sequence[str], *, retention_hours: int) -> None:
    """Purge the history of `tables` (jobs/io/maintenance.py purge_history), then move the tables that follow the
    identity map's change feed past the purge's commits to it: the older log is gone."""
    map_before = catalog.version(MAP)
    for table in tables:
        purge_history(catalog, table, retention_hours=retention_hours)
    advance_map_versions(catalog, map_before)


def _utc(now: datetime | None) -> datetime:
    """A naive UTC timestamp (how Spark stores `timestamp` in a UTC session): `now`, else the wall clock."""
    return (now or datetime.now(UTC)).replace(tzinfo=None)


def _erase_published(cfg: Config, footprint: Any) -> dict[str, int]:
    from jobs.orchestration.publish import erase_published

    removed = erase_published(cfg, sorted(footprint.customer_ids))
    return {f"{POSTGRES}{table}": n for table, n in removed.items()}


def _scrub_exports(cfg: Config, footprint: Any) -> list[str]:
    from jobs.orchestration.privacy_exports import scrub_exports

    return scrub_exports(Path(cfg.paths.exports), footprint.identifiers())


def _scrub_models(cfg: Config, catalog: Catalog, footprint: Any) -> tuple[list[str], list[str]]:
    from ml.serving.erasure import scrub_models

    return scrub_models(cfg, catalog.spark, footprint)


def _known_requests(catalog: Catalog, request_ids: list[str]) -> set[str]:
    """The request ids ops.privacy_requests already holds."""
    if not catalog.exists(REQUESTS) or not request_ids:
        return set()
    found = catalog.read(REQUESTS).where(F.col("request_id").isin(request_ids)).select("request_id")
    return {r["request_id"] for r in found.collect()}  # erasure requests: a handful, not business data


def _record(catalog: Catalog, outcomes: list[Outcome], *, requested_at: datetime, vacuumed_at: datetime | None) -> None:
    """MERGE the requests' rows on request_id (one commit): a repeated request changes no row."""
    rows = [
        (
            o.request_id,
            o.subject_hash,
            o.customers,
            o.tables_touched,
            {t: n for t, n in sorted(o.rows_removed.items()) if n},
            o.exports_changed,
            o.artifacts_scrubbed,
            o.models_to_retrain,
            o.retired_ids,
            requested_at,
            vacuumed_at,
            o.batch_id,
            o.batch_size,
        )
        for o in outcomes
    ]
    df = catalog.spark.createDataFrame(rows, ddl(REQUESTS))
    catalog.merge(df, REQUESTS, ["request_id"], update_condition="false")


def vacuum_requests(cfg: Config, *, now: datetime | None = None) -> dict[str, Any]:
    """`omnilake privacy vacuum`: purge the history of every table touched by the requests not vacuumed yet whose
    retention (conf privacy.vacuum_retention_hours) has passed, then stamp their vacuumed_at."""
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    if not catalog.exists(REQUESTS):
        return {"requests": 0, "tables": []}
    stamp = _utc(now)
    hours = cfg.privacy.vacuum_retention_hours
    due = (
        catalog.read(REQUESTS)
        .where(F.col("vacuumed_at").isNull() & (F.col("requested_at") <= F.lit(stamp - timedelta(hours=hours))))
        .select("request_id", "tables_touched")
        .collect()  # erasure requests: a handful a day, not business data
    )
    tables = sorted({t for r in due for t in r["tables_touched"] if catalog.exists(t)})
    _purge(catalog, tables, retention_hours=hours)
    if due:
        ids = catalog.spark.createDataFrame([(r["request_id"],) for r in due], "request_id string")
        stamped: DataFrame = ids.withColumn("vacuumed_at", F.lit(stamp).cast("timestamp"))
        catalog.merge(stamped, REQUESTS, ["request_id"], update_set={"vacuumed_at": "s.vacuumed_at"}, insert=False)
    return {"requests": len(due), "tables": tables}
