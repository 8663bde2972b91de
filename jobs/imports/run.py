"""`omnilake import orders|interactions|sales FILE --map ...`: a user's CSV/Parquet through the same
bronze -> silver path as the landing feeds. The file is checked before anything is written: a structurally
broken file (unreadable, a bad header, a mapped column missing, a byte not in its encoding) is refused with one line
naming file and column (or line and byte offset)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs.bronze.csvlines import CORRUPT, LINE_NO, read_header, read_staged, stage_lines, staging_area
from jobs.bronze.ingest import (
    REGISTRY,
    batch_id_of,
    file_sha256,
    ingest_time,
    read_registry,
    recover_batches,
    stamp_batch,
)
from jobs.common.config import Config
from jobs.common.log import event
from jobs.common.spark import build_spark
from jobs.io.schemas import ddl
from jobs.io.tables import Catalog
from jobs.silver.run import process_silver
from jobs.sources.contracts import load_contracts
from jobs.sources.specs import IMPORT_KINDS


class ImportFileError(ValueError):
    """The file or the --map is unusable; nothing was written."""


def parse_map(kind: str, text: str) -> dict[str, str]:
    """'customer_id=cust,order_ts=ts' -> {'customer_id': 'cust', ...}, checked against the kind's keys."""
    required, optional = IMPORT_KINDS[kind].map_keys
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, column = part.partition("=")
        if not sep or not column.strip():
            raise ImportFileError(f"--map: '{part}' is not key=COLUMN")
        if key.strip() not in required + optional:
            raise ImportFileError(f"--map: unknown key '{key}' for {kind}; allowed: {', '.join(required + optional)}")
        mapping[key.strip()] = column.strip()
    missing = [k for k in required if k not in mapping]
    if missing:
        raise ImportFileError(f"--map: missing required key(s) {', '.join(missing)} for {kind}")
    return mapping


ENCODING_HINT = "; give the file's encoding with --encoding (e.g. --encoding latin-1)"


def file_columns(path: Path, fmt: str, *, encoding: str | None = None) -> list[str]:
    """The file's column names, read without Spark; an unreadable file, a bad header (an empty, repeated or
    space-padded name) or a first line not in the encoding is an error naming the file (and the column)."""
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if fmt == "csv":
        return list(read_header(path, encoding=encoding, hint=ENCODING_HINT))
    if encoding:
        raise ImportFileError(f"{path}: --encoding applies to CSV files only")
    try:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow errors: the file is not what it claims to be
        raise ImportFileError(f"{path}: cannot be read as {fmt}: {type(exc).__name__}: {exc}") from exc


def run_import(
    cfg: Config,
    kind: str,
    path: Path,
    *,
    mapping_text: str,
    channel: str | None,
    fmt: str | None,
    encoding: str | None = None,
) -> dict[str, Any]:
    """Validate, append to bronze.imported_<kind> once per file content, then process silver. A CSV file is read
    one line per record (jobs/bronze/csvlines.py): a line that does not parse is quarantined with its line number."""
    from pyspark.sql import functions as F

    if kind == "orders" and not channel:
        raise ImportFileError("import orders needs --channel NAME")
    fmt = fmt or ("parquet" if path.suffix.lower() == ".parquet" else "csv")
    mapping = parse_map(kind, mapping_text)
    columns = file_columns(path, fmt, encoding=encoding)
    for key, column in mapping.items():
        if column not in columns:
            raise ImportFileError(f"{path}: column '{column}' (mapped to {key}) not found; file has {columns}")
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    contracts = load_contracts(cfg.ingest.contracts_dir)
    source = IMPORT_KINDS[kind].name
    sha = file_sha256(path)
    known = [r for r in read_registry(catalog) if r[0] == source]
    if any(r[2] == sha for r in known):
        # registered before; a run killed after the registry left its batch unprocessed: finish it (no-op if done)
        event("import.skip", file=str(path), reason="this file content was imported before")
        return {**process_silver(cfg, catalog, contracts), "skipped": True}
    batch_no, register = recover_batches(catalog, source, known, Path)
    if not any(r[2] == sha for r in register):  # else a killed run appended this very file: register it only
        with staging_area(cfg.home) as staging:
            if fmt == "parquet":
                reader = spark.read.parquet(str(path))
                meta = []
            else:  # the whole file is decoded before anything is written: a bad byte refuses it
                header = stage_lines(path, staging / "import.csv", encoding=encoding, hint=ENCODING_HINT)
                reader = read_staged(spark, [str(staging / "import.csv")], header=header)
                meta = [F.col(LINE_NO), F.col(CORRUPT)]
            df = reader.select(*[F.col(f"`{c}`").cast("string").alias(k) for k, c in mapping.items()], *meta)
            if channel:
                df = df.withColumn("channel", F.lit(channel))
            df = stamp_batch(
                df.withColumn("_source_file", F.lit(str(path))),
                source=source,
                batch_no=batch_no,
                ingested_at=ingest_time(),
            )
            catalog.append_once(df, f"bronze.{source}", app_id=f"bronze.{source}", version=batch_no, merge_schema=True)
        register.append(
            (source, str(path), sha, path.stat().st_size, batch_id_of(source, batch_no), batch_no, "loaded", None)
        )
    registry_rows = spark.createDataFrame(register, ddl(REGISTRY))
    catalog.merge(registry_rows, REGISTRY, ["source", "file", "sha256"], schema_evolution=True)  # older: no reason
    return process_silver(cfg, catalog, contracts)  # every pending batch: one transaction version per run
