"""Landing -> bronze: load each new landing file once, append-only, one commit per source per run.

The file registry (ops.file_registry) remembers every file by its landing-relative path and content hash:
a path seen before is skipped, and a byte-identical copy under another folder is registered as
`duplicate_content` and not loaded. The bronze append carries a Delta transaction id (source, batch number),
so a run that died between the bronze commit and the registry commit cannot load a batch twice; and the next run
first registers the files of such a batch from bronze itself (`recover_batches`), so they are neither lost under
a reused batch number nor loaded again (issue 11, defect 1).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.common.log import event
from jobs.io.tables import Catalog
from jobs.sources.contracts import Contract

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

REGISTRY = "ops.file_registry"
SUFFIXES = {"csv": (".csv",), "json": (".json", ".jsonl", ".ndjson"), "parquet": (".parquet",)}


def batch_id_of(source: str, batch_no: int) -> str:
    return f"{source}-{batch_no:06d}"


def ingest_time() -> datetime:
    """The `_ingested_at` of a batch written now: UTC wall time, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None)


def stamp_batch(df: DataFrame, *, source: str, batch_no: int, ingested_at: datetime) -> DataFrame:
    """Bronze lineage columns of one batch (after the row's `_source_file`): `_batch_id`, `_batch_no`, `_row_id`
    (unique in the batch) and `_ingested_at`. Landing files and imports are stamped alike."""
    from pyspark.sql import functions as F

    return (
        df.withColumn("_batch_id", F.lit(batch_id_of(source, batch_no)))
        .withColumn("_batch_no", F.lit(batch_no))
        .withColumn("_row_id", F.monotonically_increasing_id())
        .withColumn("_ingested_at", F.lit(ingested_at).cast("timestamp"))
    )


class LandingError(ValueError):
    """A landing file cannot be read; the message names the file."""


@dataclass(frozen=True)
class LandingFile:
    source: str
    rel_path: str
    abs_path: str
    sha256: str
    size: int


def discover(
    landing: Path, contract: Contract, *, up_to: date | None, skip: frozenset[str] = frozenset()
) -> list[LandingFile]:
    """Files of one source in delivery folders up to and including `up_to` (all when None), sorted, less the
    landing-relative paths in `skip` (registered before: they are neither hashed nor read again)."""
    root = landing / contract.source
    if not root.is_dir():
        return []
    files = []
    for day_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            day = date.fromisoformat(day_dir.name)
        except ValueError as exc:
            raise LandingError(f"{day_dir}: delivery folders must be named YYYY-MM-DD") from exc
        if up_to is not None and day > up_to:
            continue
        for path in sorted(day_dir.iterdir()):
            rel = str(path.relative_to(landing))
            if rel not in skip and path.is_file() and path.name.endswith(SUFFIXES[contract.format]):
                files.append(LandingFile(contract.source, rel, str(path), file_sha256(path), path.stat().st_size))
    return files


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in chunks (a landing or import file is never held in memory whole)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_files(spark: SparkSession, files: list[LandingFile], contract: Contract) -> DataFrame:
    """Read one source's files as delivered: CSV/JSON values as strings, Parquet typed; columns unioned
    by name (a file with a new column keeps it; files without it get nulls). A line that does not parse
    keeps its text in `_corrupt_record` (quarantined as MALFORMED by the contract step)."""
    from pyspark.sql import functions as F

    paths = [f.abs_path for f in files]
    parts = F.split(F.col("_metadata.file_path"), "/")
    rel = F.concat_ws("/", F.element_at(parts, -3), F.element_at(parts, -2), F.element_at(parts, -1))
    if contract.format == "csv":
        frames = [
            spark.read.csv(
                group, header=True, schema=_all_strings(header), mode="PERMISSIVE", multiLine=True, escape='"'
            )
            for header, group in _by_csv_header(paths).items()
        ]
    elif contract.format == "json":
        frames = [spark.read.json(paths, primitivesAsString=True, mode="PERMISSIVE")]
    else:
        frames = [spark.read.option("mergeSchema", "true").parquet(*paths)]
    frames = [f.withColumn("_source_file", rel) for f in frames]
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other, allowMissingColumns=True)
    return df


def _all_strings(header: tuple[str, ...]) -> StructType:
    """Every column of a CSV header as a string, plus the column Spark fills with lines it cannot parse. A schema
    object, not DDL text: a delivered name may hold backticks, commas or spaces."""
    from pyspark.sql import types as T

    return T.StructType([T.StructField(c, T.StringType()) for c in (*header, "_corrupt_record")])


def _by_csv_header(paths: list[str]) -> dict[tuple[str, ...], list[str]]:
    """Group CSV files by their header line so a new column in some files never shifts values. Bytes that are not
    UTF-8 are decoded as Spark decodes them (replaced), so a file in another encoding is read, not a crash."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            try:
                header = tuple(next(csv.reader(handle)))
            except StopIteration as exc:
                raise LandingError(f"{path}: empty CSV file (no header)") from exc
        if len(set(header)) != len(header) or any(not h.strip() for h in header):
            raise LandingError(f"{path}: header has empty or repeated column names: {list(header)}")
        groups.setdefault(header, []).append(path)
    return groups


def read_registry(catalog: Catalog) -> list[tuple[str, str, str, int]]:
    """(source, file, sha256, batch_no) of every registered file: metadata, one row per file."""
    rows = catalog.read_or_empty(REGISTRY).select("source", "file", "sha256", "batch_no")
    return [tuple(r) for r in rows.collect()]


def recover_batches(
    catalog: Catalog, source: str, known: list[tuple[str, str, str, int]], locate: Callable[[str], Path]
) -> tuple[int, list[tuple]]:
    """(the next batch number of `source`, registry rows of the batches bronze committed but the registry never
    recorded). A run killed between the two commits leaves such a batch: its files are read back from bronze's
    `_source_file` (`locate` turns one into the file on disk, for its hash and size: empty when it is gone)."""
    from pyspark.sql import functions as F

    registered = max((r[3] for r in known), default=0)
    committed = catalog.txn_version(f"bronze.{source}", app_id=f"bronze.{source}") or 0
    if committed <= registered:
        return registered + 1, []
    lost = (
        catalog.read(f"bronze.{source}")
        .where(F.col("_batch_no") > registered)
        .select("_source_file", "_batch_no")
        .distinct()
        .collect()  # the files of the unrecorded batches: a few per source
    )
    rows = []
    for r in sorted(lost, key=lambda r: (r["_batch_no"], r["_source_file"])):
        path = locate(r["_source_file"])
        sha, size = (file_sha256(path), path.stat().st_size) if path.is_file() else ("", 0)
        rows.append(
            (source, r["_source_file"], sha, size, batch_id_of(source, r["_batch_no"]), r["_batch_no"], "loaded")
        )
    event("bronze.recovered", source=source, batches=committed - registered, files=len(rows))
    return committed + 1, rows


def ingest_source(
    spark: SparkSession,
    catalog: Catalog,
    contract: Contract,
    landing: Path,
    *,
    up_to: date | None,
    registered: list[tuple[str, str, str, int]],
) -> list[tuple]:
    """Append the source's new files to bronze as one batch; returns the rows to add to the file registry
    (written once per run by the caller, after every bronze commit)."""
    known = [r for r in registered if r[0] == contract.source]
    batch_no, recovered = recover_batches(catalog, contract.source, known, lambda rel: landing / rel)
    known += [(r[0], r[1], r[2], r[5]) for r in recovered]
    seen_paths = frozenset(r[1] for r in known)
    loaded_hashes = {r[2] for r in known}
    batch_id = batch_id_of(contract.source, batch_no)
    new, dupes = [], []
    for f in discover(landing, contract, up_to=up_to, skip=seen_paths):
        (dupes if f.sha256 in loaded_hashes else new).append(f)
        loaded_hashes.add(f.sha256)
    empty = [f for f in new if is_empty(Path(f.abs_path), contract.format)]
    readable = [f for f in new if f not in empty]
    if readable:
        df = stamp_batch(
            read_files(spark, readable, contract), source=contract.source, batch_no=batch_no, ingested_at=ingest_time()
        )
        catalog.append_once(
            df, f"bronze.{contract.source}", app_id=f"bronze.{contract.source}", version=batch_no, merge_schema=True
        )
    if new or dupes:
        event(
            "bronze.batch",
            source=contract.source,
            batch=batch_id,
            files=len(readable),
            empty_files=len(empty),
            duplicate_files=len(dupes),
        )
    status = {**{f: "loaded" for f in readable}, **{f: "empty" for f in empty}}
    return recovered + [
        (f.source, f.rel_path, f.sha256, f.size, batch_id, batch_no, status.get(f, "duplicate_content"))
        for f in new + dupes
    ]


def is_empty(path: Path, fmt: str) -> bool:
    """A file with nothing to load: no bytes, or a CSV without even a header line. It is registered as `empty` and
    never read (reading it would fail every run after it; issue 11, defect 5). A header-only CSV is not empty: it
    loads as a batch of no rows, audited with zeros."""
    if path.stat().st_size == 0:
        return True
    if fmt != "csv":
        return False
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return not any(cell.strip() for cell in next(csv.reader(handle), []))
