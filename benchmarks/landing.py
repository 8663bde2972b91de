"""Records in the landing zone (what `generate` wrote), counted per file without Spark."""

from __future__ import annotations

import csv
from pathlib import Path


def _records(path: Path) -> int:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        if path.suffix == ".csv":
            return max(sum(1 for _ in csv.reader(fh)) - 1, 0)  # csv.reader: quoted newlines stay in their row
        return sum(1 for line in fh if line.strip())  # .jsonl: one record a line


def landing_records(landing: Path) -> int:
    """Records in every delivery file (<source>/<date>/<file>); the manifest is not a delivery."""
    return sum(_records(p) for p in landing.glob("*/*/*") if p.suffix in (".csv", ".jsonl", ".parquet"))
