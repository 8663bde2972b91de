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
