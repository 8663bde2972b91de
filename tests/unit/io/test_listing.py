"""Table exports (delta-rs, no JVM): complete files only, and exports to one file at once do not clash."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake

from jobs.io.lake import lake_path
from jobs.io.listing import export_table
from tests.support.config import make_config

ROWS = 20_000


@pytest.fixture
def cfg(tmp_path: Path):
    cfg = make_config(tmp_path / "home")
    path = lake_path(cfg, "gold.daily_sales")
    path.parent.mkdir(parents=True)
    table = pa.table({"sku": [f"P{i}" for i in range(ROWS)], "units": list(range(ROWS))})
    for start in range(0, ROWS, 5_000):  # several files, several batches
        write_deltalake(str(path), table.slice(start, 5_000), mode="append")
    return cfg


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_parallel_exports_to_one_file_each_complete_and_leave_no_temp_file(cfg, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / "out" / f"sales{suffix}"
    counts: list[int] = []
    errors: list[BaseException] = []

    def export() -> None:
        try:
            counts.append(export_table(cfg, "gold.daily_sales", out))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=export) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert counts == [ROWS] * 4
    written = pacsv.read_csv(out) if suffix == ".csv" else pq.read_table(out)
    assert sorted(written.column("units").to_pylist()) == list(range(ROWS))
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_a_failed_export_leaves_the_old_file_and_no_temp_file(cfg, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "sales.csv"
    out.write_text("old\n")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("jobs.io.listing.flatten_nested", broken)
    with pytest.raises(OSError, match="disk full"):
        export_table(cfg, "gold.daily_sales", out)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == ["sales.csv"]
