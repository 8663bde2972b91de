"""CSV files read line by line, for landing ingest and `omnilake import` alike (issue 11, defect 6).

A CSV record is one physical line: a quoted field never spans lines. Spark's multi-line parsing let one unbalanced
quote swallow every following line into a single field; read line by line, a broken line (an unbalanced quote, the
wrong number of fields, a line cut short) is one malformed record, quarantined with its line number, and every
other line loads. No landing feed writes line breaks inside a field (docs/landing.md).

Reading is two passes, both streaming: Python decodes the file strictly (the declared encoding, else UTF-8 with or
without a byte order mark) and writes a UTF-8 copy to a staging folder with each data line prefixed by its line
number; Spark reads that copy as text and parses each line with `from_csv`. A byte that is not valid in the encoding
stops the read with an error naming the file, the line and the byte offset: nothing is silently replaced.
"""

from __future__ import annotations

import codecs
import csv
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.common.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CORRUPT = "_corrupt_record"
LINE_NO = "_line_no"
# the columns bronze adds to a source's own (the reader's and stamp_batch's): no delivered column may be named so
META_COLUMNS = (CORRUPT, "_source_file", "_batch_id", "_batch_no", "_row_id", "_ingested_at", LINE_NO)
DELTA_INVALID = " ,;{}()\n\t="  # characters Delta refuses in a column name (without column mapping)
_BOM = codecs.BOM_UTF8
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class CsvFileError(UserError):
    """A CSV file cannot be read as a whole (encoding, header); the message names the file. Nothing was written."""


def check_encoding(name: str | None) -> str:
    """The codec name to read with (default UTF-8); only encodings that write newline, comma and quote as ASCII
    can be read line by line."""
    try:
        codec = codecs.lookup(name or "utf-8").name
    except LookupError as exc:
        raise CsvFileError(f"unknown encoding '{name}'") from exc
    if '\n,"'.encode(codec) != b'\n,"':
        raise CsvFileError(f"encoding '{name}' is not supported: convert the file to UTF-8 (or Latin-1, CP1252...)")
    return codec


def check_header(path: Path | str, header: list[str], *, delta_names: bool) -> tuple[str, ...]:
    """The header's names, or an error naming the file and the first bad column: empty, with white space around it,
    repeated, or (`delta_names`: every column is written to bronze as is) with a character Delta refuses."""
    if not header or not any(h.strip() for h in header):
        raise CsvFileError(f"{path}: empty file (no header row)")
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        where = f"{path}: header column {i} {name!r}"
        if not name.strip():
            raise CsvFileError(f"{path}: header column {i} has no name")
        if name != name.strip():
            raise CsvFileError(f"{where} has white space around its name")
        if name in seen:
            raise CsvFileError(f"{where} is repeated")
        if delta_names and any(c in DELTA_INVALID for c in name):
            raise CsvFileError(f"{where} has a character a column name cannot have ({DELTA_INVALID!r})")
        seen.add(name)
    return tuple(header)


def _lines(path: Path, encoding: str | None, hint: str) -> Iterator[tuple[int, str]]:
    """(line number, text without its line break) of every line, decoded strictly, streaming."""
    codec = check_encoding(encoding)
    offset = 0
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            body = raw[:-1] if raw.endswith(b"\n") else raw
            body = body[:-1] if body.endswith(b"\r") else body
            skip = 0
            if line_no == 1 and encoding is None and body.startswith(_WIDE_BOMS):
                raise CsvFileError(f"{path}: the file is UTF-16 encoded: convert it to UTF-8")
            if line_no == 1 and codec == "utf-8" and body.startswith(_BOM):
                skip = len(_BOM)
            try:
                text = body[skip:].decode(codec)
            except UnicodeDecodeError as exc:
                at = offset + skip + exc.start
                raise CsvFileError(
                    f"{path}: line {line_no} (byte offset {at}) is not valid {codec}: {exc.reason}{hint}"
                ) from exc
            offset += len(raw)
            yield line_no, text


def read_header(path: Path, *, encoding: str | None = None, delta_names: bool = False, hint: str = "") -> tuple:
    """The checked header of a CSV file (its first line), reading nothing else."""
    for _, text in _lines(path, encoding, hint):
        return check_header(path, next(csv.reader([text]), []), delta_names=delta_names)
    raise CsvFileError(f"{path}: empty file (no header row)")


def stage_lines(
    path: Path, out: Path, *, encoding: str | None = None, delta_names: bool = False, hint: str = ""
) -> tuple[str, ...]:
    """Write `out`: the data lines of CSV file `path` as UTF-8, each as `<line number>,<line>`, blank lines left
    out; returns the checked header. Streams: the file is never held in memory."""
    out.parent.mkdir(parents=True, exist_ok=True)
    header: tuple[str, ...] | None = None
    with out.open("w", encoding="utf-8", newline="\n") as staged:
        for line_no, text in _lines(path, encoding, hint):
            if header is None:
                header = check_header(path, next(csv.reader([text]), []), delta_names=delta_names)
            elif text.strip():
                staged.write(f"{line_no},{text}\n")
    if header is None:
        raise CsvFileError(f"{path}: empty file (no header row)")
    return header


def parse_lines(lines: DataFrame, *, header: tuple[str, ...]) -> DataFrame:
    """Staged lines (`value` = '<line number>,<line>', other columns kept) -> one row per line: `_line_no`, every
    header column as a string and `_corrupt_record` (the line, when it has an unbalanced quote or not exactly the
    header's fields; the values Spark could split are kept, as delivered)."""
    from pyspark.sql import functions as F

    line = F.expr("substr(value, instr(value, ',') + 1)")
    schema = ", ".join([*(f"`{c}` string" for c in header), f"{CORRUPT} string"])
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT, "escape": '"'}
    parsed = F.from_csv(line, schema, options)
    unbalanced = (F.length(line) - F.length(F.regexp_replace(line, '"', ""))) % 2 == 1
    return lines.select(
        *[c for c in lines.columns if c != "value"],
        F.substring_index("value", ",", 1).cast("long").alias(LINE_NO),
        *[parsed[c].alias(c) for c in header],
        F.when(parsed[CORRUPT].isNotNull() | unbalanced, line).alias(CORRUPT),
    )


def read_staged(spark: SparkSession, paths: list[str], *, header: tuple[str, ...]) -> DataFrame:
    """Staged files of one header, parsed; `_staged_path` is the path of each row's staged copy."""
    from pyspark.sql import functions as F

    lines = spark.read.option("lineSep", "\n").text(paths)
    return parse_lines(lines.select("value", F.col("_metadata.file_path").alias("_staged_path")), header=header)


@contextmanager
def staging_area(home: str | Path) -> Iterator[Path]:
    """A staging folder for one ingest or import run: `<home>/run/staging`, emptied first (a killed run's copies)
    and removed after. Ingest and import share one run lock, so no other run uses it meanwhile."""
    root = Path(home) / "run" / "staging"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
