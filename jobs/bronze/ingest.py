"""Landing -> bronze: load each new landing file once, append-only, one commit per source per run.

The file registry (ops.file_registry) remembers every file by its landing-relative path and content hash:
a path seen before is skipped, and a byte-identical copy under another folder is registered as
`duplicate_content` and not loaded. The bronze append carries a Delta transaction id (source, batch number),
so a run that died between the bronze commit and the registry commit cannot load a batch twice; and the next run
first registers the files of such a batch from bronze itself (`recover_batches`), so they are neither lost under
a reused batch number nor loaded again (issue 11, defect 1). A Parquet file that cannot be loaded with the rest
(unreadable, or a column of another type) is registered as `rejected` with its reason and never read (defect 2b).
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.bronze.csvlines import CsvFileError, read_staged, stage_lines
from jobs.bronze.jsonlines import read_json_lines
from jobs.common.log import event
from jobs.io.tables import Catalog
from jobs.sources.contracts import Contract

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

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


def stage_csv(files: Sequence[LandingFile], staging: Path) -> tuple[dict[LandingFile, tuple[str, ...]], dict]:
    """Stage each CSV file (jobs/bronze/csvlines.py): (file -> header of the staged ones, file -> reason of those
    refused). A file that is not valid UTF-8 or whose header cannot be a table's is rejected whole with its reason,
    the others load (issue 11, defect 2: raised, it would fail this ingest and every later one)."""
    headers: dict[LandingFile, tuple[str, ...]] = {}
    rejects: dict[LandingFile, str] = {}
    for f in files:
        try:
            headers[f] = stage_lines(Path(f.abs_path), staging / f.rel_path, delta_names=True)
        except CsvFileError as exc:
            rejects[f] = str(exc)
    return headers, rejects


def read_files(
    spark: SparkSession,
    files: list[LandingFile],
    contract: Contract,
    *,
    staging: Path,
    headers: Mapping[LandingFile, tuple[str, ...]] | None = None,
) -> DataFrame:
    """Read one source's files as delivered: CSV/JSON values as strings, Parquet typed; columns unioned
    by name (a file with a new column keeps it; files without it get nulls). A line that does not parse
    keeps its text in `_corrupt_record` (quarantined as MALFORMED by the contract step). CSV files are read one
    line per record through copies under `staging` (jobs/bronze/csvlines.py), with each line's `_line_no`; JSON
    files one line per record too (jobs/bronze/jsonlines.py)."""
    from pyspark.sql import functions as F

    paths = [f.abs_path for f in files]

    def rel(path: Column) -> Column:  # `<source>/<YYYY-MM-DD>/<file>`: a landing file's, or its staged copy's
        parts = F.split(path, "/")
        return F.concat_ws("/", F.element_at(parts, -3), F.element_at(parts, -2), F.element_at(parts, -1))

    if contract.format == "csv":
        groups: dict[tuple[str, ...], list[str]] = {}
        if headers is None:
            headers, rejects = stage_csv(files, staging)
            if rejects:
                raise CsvFileError(next(iter(rejects.values())))
        for f in files:
            groups.setdefault(headers[f], []).append(str(staging / f.rel_path))
        frames = [  # a new column in some files never shifts values: one read per header
            read_staged(spark, group, header=header)
            .withColumn("_source_file", rel(F.col("_staged_path")))
            .drop("_staged_path")
            for header, group in groups.items()
        ]
    elif contract.format == "json":
        lines = read_json_lines(spark, paths, preferred=[c.name for c in contract.columns])
        frames = [lines.withColumn("_source_file", rel(F.col("_path"))).drop("_path")]
    else:
        frames = [
            spark.read.option("mergeSchema", "true")
            .parquet(*paths)
            .withColumn("_source_file", rel(F.col("_metadata.file_path")))
        ]
    df = frames[0]
    for other in frames[1:]:
        df = df.unionByName(other, allowMissingColumns=True)
    return df


def parquet_rejects(files: Sequence[LandingFile], *, expected: Mapping[str, str]) -> dict[LandingFile, str]:
    """Parquet files that cannot be loaded with the others, each with its reason (issue 11, defect 2b): a footer
    that does not read, or a column whose type is not the one expected: bronze's type (`expected`: column -> Spark
    type string), else the type most of these files have (a tie: the earliest file's). Spark's mergeSchema read, or
    the bronze append, fails on such a file, and with it every later run; rejected, it is registered with its
    reason and never read. Footers only (pyarrow), no Spark job."""
    import pyarrow.parquet as pq

    schemas: dict[LandingFile, dict[str, str]] = {}
    rejects: dict[LandingFile, str] = {}
    for f in files:
        try:
            schemas[f] = {field.name: _spark_type(field.type) for field in pq.read_schema(f.abs_path)}
        except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
            rejects[f] = f"not a readable Parquet file: {exc}"
    types = dict(expected)
    votes = Counter((c, t) for schema in schemas.values() for c, t in schema.items() if c not in types)
    for (column, kind), _ in votes.most_common():  # most_common keeps first-seen order among equal counts
        types.setdefault(column, kind)
    for f, schema in schemas.items():
        wrong = [f"{c} is {t}, expected {types[c]}" for c, t in schema.items() if t != types[c]]
        if wrong:
            rejects[f] = "column types differ from the source's: " + "; ".join(wrong)
    return rejects


def _spark_type(arrow_type: object) -> str:
    """The Spark type (simpleString) a Parquet column of this Arrow type reads as; an Arrow type Spark does not
    map is kept as its Arrow name (it then matches only itself)."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_type

    if isinstance(arrow_type, pa.DictionaryType):
        arrow_type = arrow_type.value_type
    try:
        return from_arrow_type(arrow_type).simpleString()
    except (TypeError, NotImplementedError):
        return f"arrow:{arrow_type}"


def bronze_types(catalog: Catalog, source: str) -> dict[str, str]:
    """column -> Spark type string of bronze.<source>'s delivered columns (empty before its first batch)."""
    if not catalog.exists(f"bronze.{source}"):
        return {}
    fields = catalog.read(f"bronze.{source}").schema.fields
    return {f.name: f.dataType.simpleString() for f in fields if not f.name.startswith("_")}


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
            (source, r["_source_file"], sha, size, batch_id_of(source, r["_batch_no"]), r["_batch_no"], "loaded", None)
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
    staging: Path,
) -> list[tuple]:
    """Append the source's new files to bronze as one batch; returns the rows to add to the file registry
    (written once per run by the caller, after every bronze commit)."""
    known = [r for r in registered if r[0] == contract.source]
    batch_no, recovered = recover_batches(catalog, contract.source, known, lambda rel: landing / rel)
    known += [(r[0], r[1], r[2], r[5]) for r in recovered]
    seen_paths = frozenset(r[1] for r in known)
    loaded_hashes = {r[2] for r in known}
    batch_id = batch_id_of(contract.source, batch_no)
    new, empty, dupes = [], [], []
    for f in discover(landing, contract, up_to=up_to, skip=seen_paths):
        if is_empty(Path(f.abs_path), contract.format):  # `empty` however many empty files came before
            empty.append(f)
            continue
        (dupes if f.sha256 in loaded_hashes else new).append(f)
        loaded_hashes.add(f.sha256)
    rejected: dict[LandingFile, str] = {}
    if contract.format == "parquet":
        rejected = parquet_rejects(new, expected=bronze_types(catalog, contract.source))
    headers = None
    if contract.format == "csv":
        headers, rejected = stage_csv(new, staging)
    for f, reason in rejected.items():
        event("bronze.rejected", level=30, source=contract.source, file=f.rel_path, reason=reason)
    readable = [f for f in new if f not in rejected]
    if readable:
        df = stamp_batch(
            read_files(spark, readable, contract, staging=staging, headers=headers),
            source=contract.source,
            batch_no=batch_no,
            ingested_at=ingest_time(),
        )
        catalog.append_once(
            df, f"bronze.{contract.source}", app_id=f"bronze.{contract.source}", version=batch_no, merge_schema=True
        )
    if new or empty or dupes:
        event(
            "bronze.batch",
            source=contract.source,
            batch=batch_id,
            files=len(readable),
            empty_files=len(empty),
            rejected_files=len(rejected),
            duplicate_files=len(dupes),
        )
    status = {**{f: "loaded" for f in readable}, **{f: "empty" for f in empty}, **{f: "rejected" for f in rejected}}
    return recovered + [
        (
            f.source,
            f.rel_path,
            f.sha256,
            f.size,
            batch_id,
            batch_no,
            status.get(f, "duplicate_content"),
            rejected.get(f),
        )
        for f in new + empty + dupes
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
