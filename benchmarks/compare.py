"""Table equality for the benchmarks: Delta tables read with delta-rs, compared as whole tables.

Exact (the incremental day against a full rebuild: both are our Spark job) or with a tolerance for decimals and
doubles (DuckDB against Spark: two engines round differently in the last place).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def table_path(warehouse: Path, name: str) -> Path:
    zone, table = name.split(".", 1)
    return warehouse / zone / table


def read_table(warehouse: Path, name: str, *, as_of: date | None = None, columns: list[str] | None = None) -> pa.Table:
    """A Delta table (only its `as_of` snapshot when given) as Arrow, read with delta-rs (no JVM)."""
    from deltalake import DeltaTable

    dataset = DeltaTable(str(table_path(warehouse, name))).to_pyarrow_dataset()
    wanted = None if as_of is None else pc.field("as_of") == as_of
    return dataset.to_table(columns=columns, filter=wanted)


def sorted_flat(table: pa.Table, columns: list[str] | None = None) -> pa.Table:
    """`columns` (default: every non-nested column, by name) with rows sorted by all of them."""
    if columns is None:
        columns = sorted(c for c in table.column_names if not pa.types.is_nested(table.schema.field(c).type))
    picked = table.select(columns)
    return picked.sort_by([(c, "ascending") for c in columns])


def _close(a: Any, b: Any, tolerance: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float | Decimal) or isinstance(b, float | Decimal):
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return abs(fa - fb) <= tolerance * max(1.0, abs(fa), abs(fb))
    return a == b


def diff_tables(expected: pa.Table, actual: pa.Table, *, keys: list[str], tolerance: float) -> str | None:
    """None when equal: same columns, same row count, and rows matched on `keys` equal column by column
    (numbers within `tolerance`, relative above 1, absolute below). Otherwise the first difference."""
    if sorted(expected.column_names) != sorted(actual.column_names):
        return f"columns differ: {sorted(expected.column_names)} vs {sorted(actual.column_names)}"
    if expected.num_rows != actual.num_rows:
        return f"rows differ: {expected.num_rows} vs {actual.num_rows}"
    columns = keys + sorted(c for c in expected.column_names if c not in keys)
    left = expected.select(columns).sort_by([(k, "ascending") for k in keys]).to_pylist()
    right = actual.select(columns).sort_by([(k, "ascending") for k in keys]).to_pylist()
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        for column in columns:
            if not _close(a[column], b[column], tolerance):
                shown = {k: a[k] for k in keys}
                return f"row {i} {shown}: {column} = {a[column]!r} vs {b[column]!r}"
    return None
