"""Deterministic file writers: CSV (text), JSON lines, Parquet (fixed writer options, no pandas metadata)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .specs import SPECS, Spec

_ARROW = {
    "str": pa.string(),
    "int": pa.int32(),
    "ts": pa.timestamp("ms", tz="UTC"),
    "dec": pa.decimal128(12, 2),
    "date": pa.date32(),
}


def clear(out_dir: Path) -> None:
    """Remove output of an earlier run (only source folders and the manifest)."""
    for name in SPECS:
        if (out_dir / name).is_dir():
            shutil.rmtree(out_dir / name)
    (out_dir / "_manifest.json").unlink(missing_ok=True)


def write_source(
    out_dir: Path, name: str, frame: pd.DataFrame, extra: tuple[str, str] | None, progress: Callable[[str], None]
) -> list[str]:
    """Write one file per distinct `_file` (frame is sorted by file); return the relative paths."""
    spec = SPECS[name]
    files = []
    for path, rows in frame.groupby("_file", sort=False).indices.items():
        columns = list(spec.columns)
        if extra is not None and path.split("/")[1] >= extra[1]:
            columns.append(extra[0])
        if int(rows[-1]) - int(rows[0]) + 1 != len(rows):
            raise RuntimeError(f"{name}: frame is not sorted by file")
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        _WRITERS[spec.fmt](target, frame.iloc[int(rows[0]) : int(rows[-1]) + 1][columns], spec)
        files.append(path)
    progress(f"{name}: {len(frame):,} rows in {len(files):,} files")
    return files


def _csv(target: Path, df: pd.DataFrame, spec: Spec) -> None:
    target.write_bytes(df.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def _jsonl(target: Path, df: pd.DataFrame, spec: Spec) -> None:
    text = df.to_json(orient="records", lines=True, force_ascii=False, double_precision=10).replace("\\/", "/")
    target.write_bytes((text if text.endswith("\n") else text + "\n").encode("utf-8"))


def _arrow(values: np.ndarray, kind: str) -> pa.Array:
    """Typed Arrow array; decimals are built exactly from integer cents."""
    if kind == "dec":
        cents = np.round(values.astype(float) * 100).astype(np.int64)
        words = np.stack([cents, np.where(cents < 0, -1, 0)], axis=1).astype(np.int64)
        return pa.Array.from_buffers(_ARROW["dec"], len(cents), [None, pa.py_buffer(words.tobytes())])
    if kind == "ts":
        return pa.array(values.astype(np.int64), type=pa.int64()).cast(_ARROW["ts"])
    if kind == "date":
        return pa.array(values.astype(np.int32), type=pa.int32()).cast(_ARROW["date"])
    if kind == "int":
        return pa.array(values.astype(np.int64), type=pa.int64()).cast(_ARROW["int"])
    return pa.array(values.tolist(), type=pa.string())


def _parquet(target: Path, df: pd.DataFrame, spec: Spec) -> None:
    arrays = [_arrow(df[c].to_numpy(), spec.kind(c)) for c in df.columns]
    table = pa.Table.from_arrays(arrays, schema=pa.schema([(c, _ARROW[spec.kind(c)]) for c in df.columns]))
    pq.write_table(
        table,
        target,
        compression="snappy",
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        row_group_size=1_000_000,
    )


_WRITERS = {"csv": _csv, "jsonl": _jsonl, "parquet": _parquet}


def copy_file(out_dir: Path, original: str, copy: str) -> None:
    """Byte-identical re-delivery of a file under the same name in another folder."""
    (out_dir / copy).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out_dir / original, out_dir / copy)
