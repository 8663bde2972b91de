"""Read one landing file back as raw rows, in the value conventions the manifest `match` uses."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq


def _plain(value: object) -> object:
    """Parquet values -> text/int like the manifest: ISO 'Z' ms timestamps, 2-decimal text, ISO dates."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def read_rows(path: Path) -> list[dict]:
    """CSV: every value text ('' when empty); JSON lines: parsed scalars; Parquet: see _plain."""
    path = Path(path)
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    return [{k: _plain(v) for k, v in row.items()} for row in pq.read_table(path).to_pylist()]


def find(rows: list[dict], match: dict) -> list[dict]:
    """Rows whose values equal every value of `match` (a missing JSON key counts as null)."""
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]
