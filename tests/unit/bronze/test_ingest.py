"""Landing and import files are hashed in chunks, to the same digest as hashing the whole content."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from jobs.bronze.ingest import _all_strings, _by_csv_header, file_sha256


def test_file_sha256_equals_the_digest_of_the_whole_content(tmp_path: Path) -> None:
    content = np.random.default_rng(0).bytes(3 * 2**20 + 7)  # several read chunks and a ragged end
    for name, data in (("big.bin", content), ("empty.csv", b"")):
        (tmp_path / name).write_bytes(data)
        assert file_sha256(tmp_path / name) == hashlib.sha256(data).hexdigest()


def test_csv_headers_of_files_not_in_utf8_or_with_odd_names_are_read(tmp_path: Path) -> None:
    """Issue 11 hostile input: a Latin-1 landing CSV crashed the ingest (UnicodeDecodeError, a traceback) and a
    header name with a backtick broke the schema DDL; both are now read (bad bytes replaced, as Spark reads them)."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes("member_id,full_name\nM1,Jos\u00e9 M\u00fcller\n".encode("latin-1"))
    odd = tmp_path / "odd.csv"
    odd.write_text('a`b,"c, d"\n1,2\n')
    groups = _by_csv_header([str(latin), str(odd)])
    assert groups == {("member_id", "full_name"): [str(latin)], ("a`b", "c, d"): [str(odd)]}
    assert [f.name for f in _all_strings(("a`b", "c, d")).fields] == ["a`b", "c, d", "_corrupt_record"]
