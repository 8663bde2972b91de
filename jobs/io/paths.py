"""The one table name -> path resolver: `zone.table` -> `<warehouse>/<zone>/<table>`.

Pure (no Spark, no delta-rs import), so the Spark catalog, the delta-rs readers and DAG files at parse time all
resolve names the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

NAME_RE = re.compile(r"^(?P<zone>[a-z][a-z0-9_]*)\.(?P<table>[a-z][a-z0-9_]*)$")


class TableError(ValueError):
    """A table name is malformed, in an unknown zone, or the table does not exist."""


def table_path(warehouse: str | Path, name: str, zones: Sequence[str] | None = None) -> str:
    """The Delta folder of `name`; `zones` (when given) are the zones a name may use.

    Raises TableError for a name that is not `<zone>.<table>` in lower-case identifiers (it becomes a path, so
    nothing else may pass) or whose zone is not one of `zones`.
    """
    match = NAME_RE.match(name)
    if not match or (zones is not None and match["zone"] not in zones):
        allowed = f" with zone in {tuple(zones)}" if zones is not None else ""
        raise TableError(f"bad table name '{name}': expected <zone>.<table>{allowed}")
    return str(Path(warehouse) / match["zone"] / match["table"])


COMMIT_RE = re.compile(r"^\d{20}\.(json|checkpoint\..*parquet)$")


def is_table(path: str | Path) -> bool:
    """Whether `path` holds a Delta table: its transaction log has a commit (or a checkpoint). A log folder without
    one is a table another process is creating right now, which nothing can read yet."""
    log = Path(path) / "_delta_log"
    if not log.is_dir():
        return False
    with os.scandir(log) as entries:
        return any(COMMIT_RE.match(entry.name) for entry in entries)


def zone_tables(warehouse: str | Path, zone: str) -> list[str]:
    """The names (folder names, sorted) of the tables in `zone` of `warehouse` (is_table); none for no folder."""
    folder = Path(warehouse) / zone
    return sorted(p.name for p in folder.iterdir() if is_table(p)) if folder.is_dir() else []
