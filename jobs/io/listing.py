"""What is in the warehouse (`omnilake tables`) and table exports, read with delta-rs: no JVM needed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jobs.common.config import Config
from jobs.io.lake import dataset as lake_dataset
from jobs.io.paths import TableError, zone_tables


def table_summaries(cfg: Config) -> list[dict[str, Any]]:
    """Every table: name, row count (from the Delta log's file statistics), version, last commit time."""
    from deltalake import DeltaTable

    out = []
    root = Path(cfg.paths.warehouse)
    for zone in cfg.zones.all:
        for name in zone_tables(root, zone):
            path = root / zone / name
            table = DeltaTable(str(path))
            actions = table.get_add_actions(flatten=True)
            rows = sum(v for v in actions.column("num_records").to_pylist() if v) if actions.num_rows else 0
            last = table.history(1)[0]
            updated = datetime.fromtimestamp(last["timestamp"] / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
            out.append(
                {
                    "table": f"{zone}.{name}",
                    "rows": int(rows),
                    "version": table.version(),
                    "updated": updated,
                }
            )
    return out


def is_restricted(cfg: Config, name: str) -> bool:
    """Whether table `name` lives in a restricted zone (conf zones.restricted: raw PII)."""
    return name.split(".", 1)[0] in cfg.zones.restricted


def export_table(
    cfg: Config,
    name: str,
    out: Path,
    *,
    allow_restricted: bool = False,
    as_of: date | None = None,
    transform: Callable[[Any], Any] | None = None,
) -> int:
    """Stream a table (only its `as_of` rows when given) to CSV or Parquet in record batches; the file appears
    only when complete. `transform` maps each record batch to the one written (its schema: that of an empty batch
    mapped), e.g. to join columns from other tables; returns the rows written."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if is_restricted(cfg, name) and not allow_restricted:
        raise TableError(f"{name} is in the restricted zone (raw PII); pass --allow-restricted if authorised")
    if out.suffix not in (".csv", ".parquet"):
        raise TableError(f"--out must end in .csv or .parquet, got {out}")
    dataset = lake_dataset(cfg, name)
    if as_of is not None and "as_of" not in dataset.schema.names:
        raise TableError(f"{name} has no as_of column: export it whole (without --as-of)")
    wanted = None if as_of is None else pc.field("as_of") == as_of
    # the written schema: an empty batch mapped (before any file: a failing transform leaves none)
    source = dataset.schema if transform is None else transform(pa.RecordBatch.from_pylist([], dataset.schema)).schema
    out.parent.mkdir(parents=True, exist_ok=True)
    # a temp file of this export's own beside the target (exports to the same file at once do not share one),
    # renamed over it when complete: readers see the old file or the new one, never a part
    handle, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    rows = 0
    csv = out.suffix == ".csv"
    schema = csv_schema(source) if csv else source
    writer_cls = pacsv.CSVWriter if csv else pq.ParquetWriter
    try:
        with writer_cls(tmp, schema) as writer:
            for read in dataset.to_batches(filter=wanted):
                batch = read if transform is None else transform(read)
                writer.write_batch(flatten_nested(batch, schema) if csv else batch)
                rows += batch.num_rows
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return rows


def csv_schema(schema: Any) -> Any:
    """CSV has no nested types: lists, maps and structs are written as JSON text."""
    import pyarrow as pa

    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_nested(f.type) else f for f in schema])


def flatten_nested(batch: Any, schema: Any) -> Any:
    import json

    import pyarrow as pa

    columns = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if pa.types.is_nested(field.type):
            column = pa.array(
                [None if v is None else json.dumps(v, default=str) for v in column.to_pylist()], pa.string()
            )
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)
