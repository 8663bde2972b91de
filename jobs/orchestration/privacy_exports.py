"""Export files that name an erased subject, rewritten without their rows or deleted (no JVM).

Every file under conf paths.exports is checked: a CSV or Parquet file loses the rows with a cell equal to one of
the subject's identifiers (customer ids, tokens, account and member ids, normalised raw values) and is rewritten in
place (a temp file renamed over it, as the export writes it); any other file (the dashboard's HTML, a screenshot's
HTML) that contains one of them anywhere is deleted: it is regenerated from the lake by its command.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from jobs.common.log import event

TABLES = (".csv", ".parquet")


def scrub_exports(root: Path, identifiers: frozenset[str]) -> list[str]:
    """Rewrite or delete the files under `root` that hold one of `identifiers`; their paths relative to `root`
    with what was done (`<path>: rewritten, n rows` / `<path>: deleted`)."""
    if not root.is_dir() or not identifiers:
        return []
    changed = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = str(path.relative_to(root))
        if path.suffix == ".csv":
            dropped = _rewrite(path, _csv_rows(path, identifiers))
        elif path.suffix == ".parquet":
            dropped = _scrub_parquet(path, identifiers)
        elif _mentions(path, identifiers):
            path.unlink()
            changed.append(f"{rel}: deleted")
            continue
        else:
            dropped = 0
        if dropped:
            changed.append(f"{rel}: rewritten, {dropped} row(s) removed")
    event("privacy.exports", files=len(changed))
    return changed


def _mentions(path: Path, identifiers: frozenset[str]) -> bool:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return any(value in text for value in identifiers)


def _csv_rows(path: Path, identifiers: frozenset[str]) -> Iterator[tuple[str, bool]]:
    """Each line as written (kept byte for byte), flagged when one of its cells is an identifier (the header never)."""
    with path.open(newline="", encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            cells = next(csv.reader([line]), [])
            yield line, i > 0 and any(cell in identifiers for cell in cells)


def _rewrite(path: Path, rows: Iterator[tuple[str, bool]]) -> int:
    """Write the lines not flagged to a temp file beside `path`, renamed over it when something was dropped."""
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    dropped = 0
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            for line, drop in rows:
                dropped += drop
                if not drop:
                    out.write(line)
        if dropped:
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dropped


def _scrub_parquet(path: Path, identifiers: frozenset[str]) -> int:
    """Drop the rows whose string column holds an identifier, batch by batch (never the whole file in memory)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    source = pq.ParquetFile(path)
    strings = [f.name for f in source.schema_arrow if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    if not strings:
        return 0
    wanted = pa.array(sorted(identifiers))
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    dropped = 0
    try:
        with pq.ParquetWriter(tmp, source.schema_arrow) as writer:
            for batch in source.iter_batches():
                hit = pc.is_in(batch.column(strings[0]), value_set=wanted)
                for name in strings[1:]:
                    hit = pc.or_(hit, pc.is_in(batch.column(name), value_set=wanted))
                hit = pc.fill_null(hit, False)
                dropped += pc.sum(hit).as_py() or 0
                writer.write_batch(batch.filter(pc.invert(hit)))
        if dropped:
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dropped
