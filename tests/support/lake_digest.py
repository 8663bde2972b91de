"""Row counts and content checksums of lake tables, to compare two lakes built from the same data by different
engines or deployments (local mode and a cluster).

A table's checksum is a SHA-256 of its rows in a canonical form: read with delta-rs (no JVM); columns sorted by
name; wall-clock stamps dropped (MLflow `run_id`, timestamp columns named `*_at`, such as `scored_at`); doubles
rounded to 9 significant digits (a sum's last bits follow the order in which partitions are combined, which the
number of executors changes); nested values in canonical JSON; rows sorted by that form.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

SIGNIFICANT_DIGITS = 9
VOLATILE = frozenset({"run_id"})


@dataclass(frozen=True)
class TableDigest:
    rows: int
    columns: tuple[str, ...]
    sha256: str


def compared_columns(schema: pa.Schema) -> list[str]:
    """Every column but the wall-clock ones, by name."""
    return sorted(
        f.name
        for f in schema
        if f.name not in VOLATILE and not (pa.types.is_timestamp(f.type) and f.name.endswith("_at"))
    )


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # dates, decimals, timestamps


def table_digest(path: Path) -> TableDigest:
    from deltalake import DeltaTable

    table = DeltaTable(str(path)).to_pyarrow_table()
    columns = compared_columns(table.schema)
    rows = sorted(
        json.dumps([_canonical(row[c]) for c in columns], separators=(",", ":"))
        for row in table.select(columns).to_pylist()
    )
    digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return TableDigest(rows=table.num_rows, columns=tuple(columns), sha256=digest)


def lake_digest(warehouse: str | Path, tables: Iterable[str]) -> dict[str, TableDigest]:
    """`zone.table` -> its digest, for each of `tables` under `warehouse`."""
    root = Path(warehouse)
    return {name: table_digest(root.joinpath(*name.split(".", 1))) for name in tables}


def differences(expected: dict[str, TableDigest], actual: dict[str, TableDigest]) -> list[str]:
    """One line per table whose rows, columns or checksum differ (empty: the lakes agree)."""
    out = []
    for name in sorted(set(expected) | set(actual)):
        a, b = expected.get(name), actual.get(name)
        if a is None or b is None:
            out.append(f"{name}: only in {'actual' if a is None else 'expected'}")
        elif a != b:
            what = "rows" if a.rows != b.rows else "columns" if a.columns != b.columns else "content"
            out.append(f"{name}: {what} differ ({a.rows} vs {b.rows} rows)")
    return out
