"""Serving snapshots: each serving table as CSV/Parquet under <exports>/<run date>/ (delta-rs, no JVM)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from jobs.common.config import Config
from jobs.common.log import event
from jobs.io.lake import exists
from jobs.io.listing import export_table
from jobs.orchestration.assets import SERVING


def snapshot_dir(cfg: Config, as_of: date) -> Path:
    return Path(cfg.paths.exports) / as_of.isoformat()


def export_serving(
    cfg: Config, *, as_of: date, formats: Sequence[str], tables: Sequence[str] = SERVING
) -> dict[str, int]:
    """Write the `as_of` rows of every existing table in `tables` once per format; returns table -> rows. A table
    that does not exist yet (its job has not run) is skipped with a log line. A rerun overwrites the same files
    atomically."""
    out_dir = snapshot_dir(cfg, as_of)
    written: dict[str, int] = {}
    for table in tables:
        if not exists(cfg, table):
            event("export.skip", table=table, reason="table does not exist yet")
            continue
        for fmt in formats:
            written[table] = export_table(cfg, table, out_dir / f"{table}.{fmt}", as_of=as_of)
        event("export.table", table=table, rows=written[table], formats=",".join(formats), out=str(out_dir))
    return written
