"""Landing and import files are hashed in chunks, to the same digest as hashing the whole content."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from jobs.bronze.ingest import file_sha256


def test_file_sha256_equals_the_digest_of_the_whole_content(tmp_path: Path) -> None:
    content = np.random.default_rng(0).bytes(3 * 2**20 + 7)  # several read chunks and a ragged end
    for name, data in (("big.bin", content), ("empty.csv", b"")):
        (tmp_path / name).write_bytes(data)
        assert file_sha256(tmp_path / name) == hashlib.sha256(data).hexdigest()


def test_parquet_files_of_another_column_type_or_unreadable_are_rejected_with_their_reason(tmp_path: Path) -> None:
    """Issue 11, defect 2b: footers checked with pyarrow before the Spark read (no session needed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jobs.bronze.ingest import LandingFile, parquet_rejects

    tables = {
        "a": pa.table({"x": pa.array([1], pa.int32()), "y": ["s"]}),
        "b": pa.table({"x": pa.array([2], pa.int32())}),
        "c": pa.table({"x": ["3"]}),
    }
    files = {}
    for name, table in tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet")
    (tmp_path / "d.parquet").write_bytes(b"not parquet")
    for name in "abcd":
        path = tmp_path / f"{name}.parquet"
        files[name] = LandingFile("inventory", f"inventory/2025-01-01/{name}.parquet", str(path), "", 0)
    batch = list(files.values())

    first = parquet_rejects(batch, expected={})  # no bronze yet: most files say x is an int
    assert set(first) == {files["c"], files["d"]}
    assert first[files["c"]] == "column types differ from the source's: x is string, expected int"
    assert first[files["d"]].startswith("not a readable Parquet file: ")
    later = parquet_rejects(batch, expected={"x": "string", "y": "string"})  # bronze's types win
    assert set(later) == {files["a"], files["b"], files["d"]}
    assert later[files["a"]] == "column types differ from the source's: x is int, expected string"


def test_csv_files_not_in_utf8_or_with_a_bad_header_are_rejected_and_the_others_staged(tmp_path: Path) -> None:
    """Issue 11, defect 2 for CSV: a Latin-1 file or a repeated column name is rejected with its reason (raised,
    it would fail this ingest and every later one); the good file is staged with its header."""
    from jobs.bronze.ingest import LandingFile, stage_csv

    contents = {
        "good.csv": "id,city\n1,Köln\n".encode(),
        "latin1.csv": "id,city\n1,Köln\n".encode("latin-1"),
        "repeated.csv": b"id,id\n1,2\n",
    }
    files = {}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
        files[name] = LandingFile("stores", f"stores/2025-01-01/{name}", str(tmp_path / name), "", len(data))
    headers, rejects = stage_csv(list(files.values()), tmp_path / "staging")
    assert headers == {files["good.csv"]: ("id", "city")}
    assert set(rejects) == {files["latin1.csv"], files["repeated.csv"]}
    assert "line 2" in rejects[files["latin1.csv"]] and "repeated" in rejects[files["repeated.csv"]]
    assert (tmp_path / "staging" / "stores/2025-01-01/good.csv").exists()
