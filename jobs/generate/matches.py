"""Raw-value views of frames, `match` dicts for dirt entries (verified unique), PII harvesting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .specs import PII_KIND, SPECS, Spec


def raw_array(spec: Spec, column: str, values: np.ndarray) -> np.ndarray:
    """Raw values of one column as a reader sees them: CSV text ('' when empty), JSON scalars, Parquet
    str/int with decimals as '12.50', dates ISO and timestamps as ISO ms 'Z' text."""
    kind = spec.kind(column) if spec.fmt == "parquet" else spec.fmt
    if kind == "csv":
        out = values.astype(object)
        out[pd.isna(out)] = ""
        return out
    if kind == "ts":
        text = np.datetime_as_string(values.astype(np.int64).astype("datetime64[ms]"), unit="ms")
        return np.char.add(text, "Z").astype(object)
    if kind == "dec":
        return np.array([f"{v:.2f}" for v in values.astype(float).tolist()], dtype=object)
    if kind == "date":
        return np.datetime_as_string(values.astype(np.int64).astype("datetime64[D]")).astype(object)
    return values.astype(object)


def _plain(value: object) -> object:
    """numpy scalars -> JSON-serializable Python scalars."""
    return value.item() if isinstance(value, np.generic) else value


def _candidates(spec: Spec, columns: list[str]) -> list[str]:
    """Key, version, then every other non-PII column of the file; never Parquet timestamps (their text
    form is reader-specific)."""
    first = list(spec.key) + ([spec.version] if spec.version else [])
    ordered = first + [c for c in columns if c not in first and c not in spec.pii]
    return [c for c in ordered if not (spec.fmt == "parquet" and spec.kind(c) == "ts")]


class _FileView:
    """Raw values of one file's rows, built per column on demand."""

    def __init__(self, frame: pd.DataFrame, spec: Spec, rows: np.ndarray, extra: dict[str, tuple[str, str]]):
        self.frame, self.spec, self.rows = frame, spec, rows
        self.cache: dict[str, np.ndarray] = {}
        self.columns = list(spec.columns)
        if spec.name in extra and frame.at[rows[0], "_file"].split("/")[1] >= extra[spec.name][1]:
            self.columns.append(extra[spec.name][0])

    def raw(self, column: str) -> np.ndarray:
        """Raw values of a column for the file's rows."""
        if column not in self.cache:
            self.cache[column] = raw_array(self.spec, column, self.frame[column].to_numpy()[self.rows])
        return self.cache[column]

    def match(self, pos: int, expect: int) -> dict:
        """Key + version columns, then further candidate columns until exactly `expect` rows are selected."""
        local = int(np.flatnonzero(self.rows == pos)[0])
        mask = np.ones(len(self.rows), dtype=bool)
        match = {}
        candidates = _candidates(self.spec, self.columns)
        n_first = sum(c in self.spec.key or c == self.spec.version for c in candidates)
        for i, col in enumerate(candidates):
            arr = self.raw(col)
            if arr[local] is not None and arr[local] != "":  # matches never use empty values
                match[col] = _plain(arr[local])
                mask &= arr == arr[local]
            if i + 1 >= n_first and mask.sum() == expect:
                return match
        raise RuntimeError(f"{self.spec.name}: match {match} finds {int(mask.sum())} rows, expected {expect}")

    def representative(self, column: str | None) -> dict:
        """A uniquely matchable row of the file (with `column` set, if given); clean rows first."""
        dirt = self.frame["_dirt"].to_numpy()[self.rows]
        for pos in np.concatenate([self.rows[dirt < 0], self.rows[dirt >= 0]]).tolist():
            if column is not None and self.frame.at[pos, column] is None:
                continue
            try:
                return self.match(pos, 1)
            except RuntimeError:
                continue
        raise RuntimeError(f"{self.spec.name}: no uniquely matchable row")


def matchable(
    frame: pd.DataFrame, source: str, path: str, extra: dict[str, tuple[str, str]], column: str | None
) -> bool:
    """Whether the file has a row matchable on its own (with `column` set, if given), as file-level dirt needs."""
    rows = np.flatnonzero(frame["_file"].to_numpy() == path)
    if not len(rows):
        return False
    try:
        _FileView(frame, SPECS[source], rows, extra).representative(column)
    except RuntimeError:
        return False
    return True


def fill_matches(entries: list[dict], frames: dict[str, pd.DataFrame], extra: dict[str, tuple[str, str]]) -> None:
    """Set file + match on every entry; raise if a match does not find exactly the expected rows."""
    by_source: dict[str, list[dict]] = {}
    for e in entries:
        by_source.setdefault(e["source"], []).append(e)
    for source, todo in by_source.items():
        frame, spec = frames[source], SPECS[source]
        groups = frame.groupby("_file", sort=False).indices
        where = {int(d): i for i, d in enumerate(frame["_dirt"].to_numpy().tolist()) if d >= 0}
        views: dict[str, _FileView] = {}
        for e in todo:
            pos = where.get(e["_id"])
            e["file"] = e["_rep_file"] if "_rep_file" in e else frame.at[pos, "_file"]
            if e["file"] not in views:
                views[e["file"]] = _FileView(frame, spec, groups[e["file"]], extra)
            view = views[e["file"]]
            e["match"] = view.representative(e.get("_rep_col")) if pos is None else view.match(pos, e["_expect"])
            if "_copy" in e:
                e["file"] = e["_copy"]


def harvest_pii(frames: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Every distinct raw PII string written (birth dates excluded: they look like any date)."""
    found: dict[str, set[str]] = {"names": set(), "phones": set(), "emails": set(), "addresses": set()}
    for name, frame in frames.items():
        for col in SPECS[name].pii:
            if col in PII_KIND:
                found[PII_KIND[col]].update(v for v in frame[col].to_numpy().tolist() if v is not None)
    return {k: sorted(v) for k, v in found.items()}
