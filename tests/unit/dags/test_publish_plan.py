"""The pure parts of `omnilake publish` (jobs/orchestration/publish.py): which partitions a publish copies or
deletes, the Arrow -> PostgreSQL types, and the CSV that COPY reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from jobs.common.errors import UserError
from jobs.orchestration.publish import csv_chunks, partition_digests, pg_type, plan

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)


def test_digest_changes_with_the_partition_files_only() -> None:
    before = partition_digests([(D1, "a.parquet"), (D1, "b.parquet"), (D2, "c.parquet")])
    same = partition_digests([(D2, "c.parquet"), (D1, "b.parquet"), (D1, "a.parquet")])  # order does not matter
    rewritten = partition_digests([(D1, "a.parquet"), (D1, "b.parquet"), (D2, "d.parquet")])
    assert before == same
    assert before[D1] == rewritten[D1] and before[D2] != rewritten[D2]


def test_plan_copies_new_and_changed_deletes_gone_keeps_the_rest() -> None:
    lake = {D1: "x", D2: "y2", D3: "z"}
    published = {D1: "x", D2: "y1", date(2025, 2, 28): "gone"}
    assert plan(lake, published) == ([D2, D3], [date(2025, 2, 28)], 1)
    assert plan(lake, lake) == ([], [], 3)
    assert plan({}, {}) == ([], [], 0)


@pytest.mark.parametrize(
    ("arrow", "postgres"),
    [
        (pa.string(), "text"),
        (pa.int32(), "integer"),
        (pa.int64(), "bigint"),
        (pa.float64(), "double precision"),
        (pa.decimal128(18, 2), "numeric(18,2)"),
        (pa.date32(), "date"),
        (pa.timestamp("us", "UTC"), "timestamp with time zone"),
        (pa.timestamp("us"), "timestamp without time zone"),
        (pa.bool_(), "boolean"),
        (pa.list_(pa.string()), "jsonb"),
        (pa.struct([("a", pa.int64())]), "jsonb"),
    ],
)
def test_pg_types(arrow: pa.DataType, postgres: str) -> None:
    assert pg_type(arrow) == postgres


def test_pg_type_refuses_what_it_cannot_map() -> None:
    with pytest.raises(UserError, match="no PostgreSQL type"):
        pg_type(pa.duration("s"))


def test_csv_keeps_empty_strings_apart_from_nulls_and_writes_lists_as_json() -> None:
    schema = pa.schema([("s", pa.string()), ("reasons", pa.list_(pa.string())), ("m", pa.decimal128(18, 2))])
    batch = pa.RecordBatch.from_pylist(
        [
            {"s": "", "reasons": ["recency_days", 'a "quoted" one'], "m": Decimal("1.50")},
            {"s": None, "reasons": None, "m": None},
            {"s": "a,b", "reasons": [], "m": Decimal("-2.00")},
        ],
        schema,
    )
    ((text, rows),) = list(csv_chunks([batch], schema))
    assert rows == 3
    assert text.decode().splitlines() == [
        r'"","[""recency_days"", ""a \""quoted\"" one""]",1.50',
        ",,",
        '"a,b","[]",-2.00',
    ]
