"""Hostile landing files for tests/integration/test_hostile_input.py (issue 11): a mutation of a real generated file
of one source, and what its rows must become. Pure Python (csv, json, pyarrow), no Spark."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from jobs.sources.contracts import Contract

HUGE = 10 * 1024 * 1024  # one 10 MB field
EPOCH_OVERFLOW = 99999999999999999
# the business time of each source's rows: where a far date is planted
WHEN = {
    "web_orders": "order_ts",
    "app_orders": "order_ts",
    "pos_transactions": "txn_ts",
    "marketing_spend": "date",
    "web_events": "event_ts",
    "app_events": "event_ts",
    "inventory": "snapshot_date",
    "marketplace_orders": "order_time",
    "crm_members": "updated_at",
    "products": "updated_at",
    "stores": "updated_at",
}
FAR = {"iso": ("9999-12-31T23:59:59Z", "1900-01-01T00:00:00Z"), "local": ("9999-12-31 23:59:59", "1900-01-01 00:00:00")}
FAR_EPOCH = (253402300799000, -2208988800000)
# the kinds run for each format; file-level kinds may quarantine the whole file (or exit 3)
KINDS = {
    "csv": (
        "wrong_type",
        "broken_quote",
        "truncated_line",
        "cut_mid_field",
        "garbage",
        "latin1",
        "huge_field",
        "duplicate_keys",
        "far_date",
        "unknown_enum",
        "empty",
        "header_only",
    ),
    "json": (
        "wrong_type",
        "broken_quote",
        "truncated_line",
        "cut_mid_field",
        "garbage",
        "latin1",
        "duplicate_keys",
        "duplicate_json_key",
        "far_date",
        "unknown_enum",
        "epoch_overflow",
        "empty",
        "header_only",
    ),
    "parquet": ("wrong_type", "type_change", "garbage", "truncated_file", "duplicate_keys", "far_date", "unknown_enum"),
}
FILE_LEVEL = frozenset({"garbage", "type_change", "truncated_file", "latin1"})
ALL_CASES = tuple((fmt, kind) for fmt, kinds in KINDS.items() for kind in kinds)


@dataclass
class Base:
    """A generated file of one source: its rows (strings for CSV, dicts for JSON, a table for Parquet), and the
    positions of the rows the first ingest quarantined (the generator plants dirt)."""

    source: str
    fmt: str
    contract: Contract = field(repr=False)
    header: list[str] = field(repr=False)
    rows: list = field(default_factory=list, repr=False)
    dirty: frozenset[int] = frozenset()
    table: pa.Table | None = field(default=None, repr=False)


@dataclass
class Case:
    """One hostile file. `rows` is how many records it must yield in bronze when loaded (None: unpredictable);
    `bad` the positions that must be quarantined, `maybe` those that may be (or load)."""

    name: str
    source: str
    fmt: str
    kind: str
    content: bytes = field(repr=False)  # (a 10 MB field: kept out of failure reports)
    rows: int | None
    bad: frozenset[int] = frozenset()
    maybe: frozenset[int] = frozenset()
    seen: bool = False  # the same bytes were a case of an earlier example

    @property
    def file_level(self) -> bool:
        return self.kind in FILE_LEVEL


def _csv(header: list[str], rows: list[list[str]], *, newline: bool = True) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    text = out.getvalue()
    return text if newline else text.rstrip("\n")


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _typed_columns(contract: Contract, present: list[str]) -> list[str]:
    return [c.name for c in contract.columns if c.type != "string" and c.name in present]


def _far(contract: Contract, column: str, future: bool):
    rule = next(c for c in contract.columns if c.name == column)
    i = 0 if future else 1
    if rule.format == "epoch_ms":
        return FAR_EPOCH[i]
    if rule.type == "date":
        return ("9999-12-31", "1900-01-01")[i]
    return FAR[rule.format or "iso"][i]


@st.composite
def hostile_case(draw, base: Base, kind: str, name: str) -> Case:  # noqa: C901, PLR0912, PLR0915 (one branch a kind)
    """A hostile file of `kind` made from `base` (at most 8 of its rows)."""
    k = min(len(base.rows) if base.table is None else base.table.num_rows, 8)
    j = draw(st.integers(0, k - 1))
    keep = frozenset(base.dirty & set(range(k)))
    if base.fmt == "parquet":
        table = base.table.slice(0, k)
        if kind in ("garbage", "truncated_file"):
            data = _parquet(table)
            cut = draw(st.integers(8, len(data) - 8))
            content = draw(st.binary(min_size=16, max_size=512)) if kind == "garbage" else data[:cut]
            return Case(name, base.source, "parquet", kind, content, None)
        rows = table.to_pylist()
        schema = table.schema
        maybe = keep
        bad: set[int] = set()
        if kind == "type_change":
            col = draw(st.sampled_from([f.name for f in schema if not pa.types.is_string(f.type)]))
            table = table.set_column(table.schema.get_field_index(col), col, table[col].cast(pa.string()))
            return Case(name, base.source, "parquet", kind, _parquet(table), k, maybe=keep)
        if kind == "duplicate_keys":
            rows = [*rows, rows[j]]
            maybe = keep | {k}
        elif kind == "wrong_type":  # typed columns cannot hold text: an out-of-range value instead
            col = draw(st.sampled_from([c.name for c in base.contract.columns if c.min is not None]))
            rows[j][col] = -1
            bad = {j}
        elif kind == "far_date":
            col = WHEN[base.source]
            import datetime as dt

            year = 9999 if draw(st.booleans()) else 1900
            old = rows[j][col]
            rows[j][col] = old.replace(year=year) if old is not None else dt.date(year, 1, 1)
            bad = {j}
        elif kind == "unknown_enum":
            col = next(c.name for c in base.contract.columns if c.enum)
            rows[j][col] = "zzz_unknown"
            bad = {j}
        table = pa.Table.from_pylist(rows, schema=schema)
        return Case(name, base.source, "parquet", kind, _parquet(table), len(rows), frozenset(bad), maybe - bad)

    if kind == "empty":
        return Case(name, base.source, base.fmt, kind, b"", 0)
    if kind == "header_only":
        text = ",".join(base.header) + "\n" if base.fmt == "csv" else "\n"
        return Case(name, base.source, base.fmt, kind, text.encode(), 0)
    if kind == "garbage":
        return Case(name, base.source, base.fmt, kind, draw(st.binary(min_size=1, max_size=2048)), None)
    rows = [list(r) if base.fmt == "csv" else dict(r) for r in base.rows[:k]]
    col_of = base.header.index if base.fmt == "csv" else (lambda c: c)
    bad, maybe = {j}, set(keep)
    encoding = "utf-8"
    present = base.header
    text = None
    if kind == "wrong_type":
        col = draw(st.sampled_from(_typed_columns(base.contract, present)))
        values = ["abc", "12abc", "--1", "1,5", "2025-13-45"]
        if base.fmt == "json":
            values += [{"nested": 1}, [1, 2]]
        rows[j][col_of(col)] = draw(st.sampled_from(values))
    elif kind == "far_date":
        rows[j][col_of(WHEN[base.source])] = _far(base.contract, WHEN[base.source], draw(st.booleans()))
    elif kind == "epoch_overflow":
        rows[j][col_of(WHEN[base.source])] = EPOCH_OVERFLOW
    elif kind == "unknown_enum":
        col = draw(st.sampled_from([c.name for c in base.contract.columns if c.enum and c.name in present]))
        rows[j][col_of(col)] = draw(st.sampled_from(["zzz_unknown", "PAID ", "Paid", "\u00fcber"]))
    elif kind == "duplicate_keys":
        rows.append(list(rows[j]) if base.fmt == "csv" else dict(rows[j]))
        bad, maybe = set(), maybe | {j, k}
    elif kind == "duplicate_json_key":
        col = draw(st.sampled_from(present))
        line = json.dumps(rows[j])
        text_rows = [json.dumps(r) for r in rows]
        text_rows[j] = line[:-1] + f', "{col}": "zzz_second"' + "}"
        text = "".join(r + "\n" for r in text_rows)
        bad, maybe = set(), maybe | {j}
    elif kind == "latin1":
        col = draw(st.sampled_from([c for c in present if c not in base.contract.keys]))
        rows[j][col_of(col)] = "Jos\u00e9 M\u00fcller"
        encoding = "latin-1"
        bad, maybe = set(), maybe | {j}
    elif kind == "huge_field":
        col = draw(st.sampled_from(present))
        rows[j][col_of(col)] = "x" * HUGE
        bad, maybe = set(), maybe | {j}
    if text is None:
        text = _csv(base.header, rows) if base.fmt == "csv" else _jsonl(rows)
    if kind in ("broken_quote", "truncated_line", "cut_mid_field"):
        lines = text.split("\n")
        first = 1 if base.fmt == "csv" else 0  # the header is no record
        if kind == "broken_quote":
            line = lines[first + j]
            at = draw(st.integers(1, len(line) - 1))
            lines[first + j] = line[:at] + '"' + line[at:]
            text = "\n".join(lines)
            if base.fmt == "csv":  # a quote may swallow the lines after it: counted by the test, not here
                return Case(name, base.source, base.fmt, kind, text.encode(), None, maybe=frozenset(range(k)))
        else:
            line = lines[first + j]
            delims = [i for i, ch in enumerate(line) if ch == ","]
            if kind == "truncated_line":
                at = draw(st.sampled_from(delims)) + 1
            else:
                at = draw(st.integers(1, max(1, delims[-1] - 1))) if delims else len(line) // 2
            text = "\n".join([*lines[: first + j], line[:at]])
            return Case(name, base.source, base.fmt, kind, text.encode(), j + 1, frozenset({j}), keep & set(range(j)))
    return Case(name, base.source, base.fmt, kind, text.encode(encoding), len(rows), frozenset(bad), maybe - bad)
