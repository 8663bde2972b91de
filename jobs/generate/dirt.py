"""Plant dirt into the rendered frames: budget, row selection, file-level dirt (late, new column, twice)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .dirt_kinds import OTHER_SOURCES, REJECTS, DirtCtx, exact_duplicate, reject
from .dirt_updates import mixed_timezone, near_duplicate, record_update
from .specs import SPECS
from .util import Calendar, rng_for

SHARES = {
    "exact_duplicate": 0.22,
    "near_duplicate": 0.1,
    "record_update": 0.22,
    "bad_type": 0.1,
    "out_of_range": 0.09,
    "missing_key": 0.09,
    "bad_enum": 0.09,
    "mixed_timezone": 0.09,
}
NEW_COLUMN = ("web_orders", "gift_wrap")
TWICE_SOURCES = ("returns", "app_orders", "inventory")


@dataclass
class DirtPlan:
    """Everything the writers and the manifest need to know about planted dirt."""

    entries: list[dict]
    extra_columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # source -> (column, from ISO day)
    copies: list[tuple[str, str]] = field(default_factory=list)  # (original file, copy file)


def plant(cal: Calendar, seed: int, dirt_rate: float, frames: dict[str, pd.DataFrame]) -> DirtPlan:
    """Mutate frames in place (and append rows); return the plan with manifest entries (matches pending)."""
    ctx = DirtCtx(cal, rng_for(seed, "dirt"), frames)
    plan = DirtPlan(ctx.entries)
    _late_files(ctx)
    plan.extra_columns[NEW_COLUMN[0]] = _new_column(ctx)
    total = sum(len(f) for f in frames.values())
    for kind, sources in _sources().items():
        for source, count in _allocate(kind, sources, total, dirt_rate, frames).items():
            rows = _select(ctx, kind, source, count)
            if kind == "mixed_timezone":
                mixed_timezone(ctx, source, rows)
                continue
            recs = frames[source].iloc[rows].to_dict("records")
            if kind in REJECTS:
                reject(ctx, kind, source, recs)
            else:
                {"exact_duplicate": exact_duplicate, "near_duplicate": near_duplicate, "record_update": record_update}[
                    kind
                ](ctx, source, recs)
    for source, rows in ctx.pending.items():
        frames[source] = _append(frames[source], rows)
    for name, frame in frames.items():
        _assign_files(cal, name, frame)
        frames[name] = frame.sort_values(["_file", "_ts", "_seq"], kind="mergesort").reset_index(drop=True)
    plan.copies = _dropped_twice(ctx)
    return plan


def _append(base: pd.DataFrame, rows: list[dict]) -> pd.DataFrame:
    """Append raw rows keeping value types: a numeric column stays numeric unless a planted value is text
    or empty, then it becomes an object column of Python ints/floats, strings and None (never NaN)."""
    extra = pd.DataFrame(rows, columns=base.columns, dtype=object)
    out = pd.concat(
        [base.astype({c: object for c in base.columns if base[c].dtype != object}), extra], ignore_index=True
    )
    for col in base.columns:
        values = out[col].to_numpy()
        if base[col].dtype != object and not any(v is None or isinstance(v, str) for v in values[len(base) :]):
            out[col] = out[col].astype(base[col].dtype)
        elif base[col].dtype != object:
            out[col] = pd.Series([v.item() if isinstance(v, np.generic) else v for v in values.tolist()], dtype=object)
    return out


def _sources() -> dict[str, tuple[str, ...]]:
    """Eligible sources per row-level kind, in planting order."""
    out = {k: tuple(v[1]) for k, v in REJECTS.items()}
    out.update(OTHER_SOURCES)
    return {k: out[k] for k in SHARES}


def _allocate(
    kind: str, sources: tuple[str, ...], total: int, rate: float, frames: dict[str, pd.DataFrame]
) -> dict[str, int]:
    """Every variant of the kind at least once per eligible source, the rest of the budget by source size."""
    floor = np.array([len(REJECTS[kind][1][s]) if kind in REJECTS else 1 for s in sources])
    budget = max(int(floor.sum()), round(rate * total * SHARES[kind]))
    sizes = np.array([len(frames[s]) for s in sources], dtype=float)
    extra = (budget - floor.sum()) * sizes / sizes.sum()
    counts = floor + np.floor(extra).astype(int)
    rest = budget - counts.sum()
    counts[np.argsort(-(extra - np.floor(extra)), kind="stable")[:rest]] += 1
    return dict(zip(sources, counts.tolist(), strict=True))


def _select(ctx: DirtCtx, kind: str, source: str, count: int) -> np.ndarray:
    """Distinct clean rows (not fraud, not yet dirty, not in a late file, not on the last day)."""
    f = ctx.frames[source]
    ok = f["_free"].to_numpy() & (f["_day"].to_numpy() <= ctx.cal.days - 2) & (f["_file"].to_numpy() == "")
    if kind == "record_update" and "status" in f:
        ok &= f["status"].isin(["paid", "created"]).to_numpy()
    if kind == "near_duplicate" and source == "crm_members":
        ok &= f["phone"].notna().to_numpy()
    candidates = ctx.rng.permutation(np.flatnonzero(ok))
    if kind == "missing_key" and source == "inventory":  # blank sku: keep clones of one file distinguishable
        candidates = candidates[~f.iloc[candidates].duplicated(["_day", "store_id"]).to_numpy()]
    if len(candidates) == 0:
        raise RuntimeError(f"no rows of {source} available for {kind}")
    rows = np.sort(ctx.rng.choice(candidates, size=min(count, len(candidates)), replace=False))
    f.loc[rows, "_free"] = False
    return rows


def _late_files(ctx: DirtCtx) -> None:
    """POS receipts of one store-day and the last hours of a web_events day arrive 3-4 days late."""
    days = ctx.cal.days
    pos = ctx.frames["pos_transactions"]
    pos_days = np.unique(pos.loc[pos["_day"] <= days - 5, "_day"].to_numpy())
    for d in np.sort(ctx.rng.choice(pos_days, size=min(len(pos_days), 1 + days // 90), replace=False)).tolist():
        store = str(ctx.rng.choice(np.unique(pos.loc[pos["_day"] == d, "store_id"].to_numpy().astype(str))))
        rows = (pos["_day"] == d) & (pos["store_id"] == store)
        _move_late(ctx, "pos_transactions", rows.to_numpy(), d, f"_late_{store}")
    ev = ctx.frames["web_events"]
    d = int(ctx.rng.choice(np.unique(ev.loc[ev["_day"] <= days - 5, "_day"].to_numpy())))
    rows = (ev["_day"] == d).to_numpy()
    late = rows & (ev["_ts"].to_numpy() >= ctx.cal.epoch0 + (d + 1) * 86_400 - 3 * 3_600)
    _move_late(ctx, "web_events", late if late.any() else rows, d, "_late")


def _move_late(ctx: DirtCtx, source: str, rows: np.ndarray, d: int, suffix: str) -> None:
    """Deliver the rows of business day d in the folder of day d+3 or d+4 under a distinct name."""
    f = ctx.frames[source]
    folder = min(ctx.cal.days - 1, d + 3 + int(ctx.rng.integers(0, 2)))
    path = SPECS[source].path(ctx.cal.iso(folder), ctx.cal.iso(d), suffix)
    f.loc[rows, "_file"] = path
    f.loc[rows, "_free"] = False
    eid = ctx.entry("late_file", source, None, f"{int(rows.sum())} rows of {ctx.cal.iso(d)} delivered late")
    ctx.entries[eid]["_rep_file"] = path


def _new_column(ctx: DirtCtx) -> tuple[str, str]:
    """web_orders gains a gift_wrap column from 60% into the period on."""
    source, col = NEW_COLUMN
    f = ctx.frames[source]
    start = int(ctx.cal.days * 0.6)
    gift = np.where(ctx.rng.random(len(f)) < 0.1, "true", "false").astype(object)
    f[col] = np.where(f["_day"].to_numpy() >= start, gift, None)
    eid = ctx.entry("new_column", source, None, f"column {col} present from {ctx.cal.iso(start)} on")
    ctx.entries[eid]["_rep_file"] = SPECS[source].path(ctx.cal.iso(start))
    ctx.entries[eid]["_rep_col"] = col
    return col, ctx.cal.iso(start)


def _assign_files(cal: Calendar, name: str, frame: pd.DataFrame) -> None:
    """Normal rows go to <source>/<day>/<source>_<day>.<ext>."""
    spec = SPECS[name]
    missing = frame["_file"].to_numpy() == ""
    paths = np.array([spec.path(cal.iso(d)) for d in range(cal.days + 1)], dtype=object)
    frame.loc[missing, "_file"] = paths[frame.loc[missing, "_day"].to_numpy().astype(np.int64)]


def _dropped_twice(ctx: DirtCtx) -> list[tuple[str, str]]:
    """Byte-identical copies of normal files under the same name in a later day's folder."""
    copies = []
    for k in range(1 + ctx.cal.days // 90):
        source = TWICE_SOURCES[k % len(TWICE_SOURCES)]
        f = ctx.frames[source]
        days = np.unique(f.loc[f["_day"] <= ctx.cal.days - 3, "_day"].to_numpy())
        d = int(ctx.rng.choice(days))
        original = SPECS[source].path(ctx.cal.iso(d))
        folder = d + 1 + int(ctx.rng.integers(0, 2))
        copy = f"{source}/{ctx.cal.iso(folder)}/{original.rsplit('/', 1)[1]}"
        eid = ctx.entry("file_dropped_twice", source, None, f"byte-identical copy of {original}")
        ctx.entries[eid]["_rep_file"] = original
        ctx.entries[eid]["_copy"] = copy
        copies.append((original, copy))
    return copies
