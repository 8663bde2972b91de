"""Plant dirt into the rendered frames: the budget per kind and source, row selection, row-level dirt (file-level
dirt: dirt_files).

Dirt that has nothing to land on (a small world: no clean row before the last day, no day early enough for a late
file) is left out and recorded in `DirtPlan.skipped` (the manifest's `dirt_skipped`); so is a shortfall (fewer
eligible rows than planned). The random draws are the same as before whenever there is something to land on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .dirt_files import NEW_COLUMN, dropped_twice, late_files, new_column, settle_new_column
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
ELIGIBLE = "clean rows (not fraud, not already dirty, not in a late file) delivered before the last day"


@dataclass
class DirtPlan:
    """Everything the writers and the manifest need to know about planted dirt."""

    entries: list[dict]
    skipped: list[dict] = field(default_factory=list)  # {"kind", "source", "reason"} of dirt not (fully) planted
    extra_columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # source -> (column, from ISO day)
    copies: list[tuple[str, str]] = field(default_factory=list)  # (original file, copy file)


def plant(cal: Calendar, seed: int, dirt_rate: float, frames: dict[str, pd.DataFrame]) -> DirtPlan:
    """Mutate frames in place (and append rows); return the plan with manifest entries (matches pending)."""
    ctx = DirtCtx(cal, rng_for(seed, "dirt"), frames)
    plan = DirtPlan(ctx.entries, ctx.skipped)
    late_files(ctx)
    column = new_column(ctx)
    if column is not None:
        plan.extra_columns[NEW_COLUMN[0]] = column
    total = sum(len(f) for f in frames.values())
    for kind, sources in row_sources().items():
        for source, count in _allocate(kind, sources, total, dirt_rate, frames).items():
            rows = _select(ctx, kind, source, count)
            if not len(rows):
                continue
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
    plan.copies = dropped_twice(ctx)
    settle_new_column(ctx, plan.extra_columns)
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


def row_sources() -> dict[str, tuple[str, ...]]:
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
    extra = (budget - floor.sum()) * sizes / sizes.sum() if sizes.sum() else np.zeros(len(sources))
    counts = floor + np.floor(extra).astype(int)
    rest = budget - counts.sum()
    counts[np.argsort(-(extra - np.floor(extra)), kind="stable")[:rest]] += 1
    return dict(zip(sources, counts.tolist(), strict=True))


def _select(ctx: DirtCtx, kind: str, source: str, count: int) -> np.ndarray:
    """Up to `count` distinct clean rows (not fraud, not yet dirty, not in a late file, not on the last day);
    fewer or none (recorded as skipped) when fewer are eligible."""
    f = ctx.frames[source]
    ok = f["_free"].to_numpy() & (f["_day"].to_numpy() <= ctx.cal.days - 2) & (f["_file"].to_numpy() == "")
    needs = ""
    if kind == "record_update" and "status" in f:
        ok &= f["status"].isin(["paid", "created"]).to_numpy()
        needs = " with status paid or created"
    if kind == "near_duplicate" and source == "crm_members":
        ok &= f["phone"].notna().to_numpy()
        needs = " with a phone"
    candidates = ctx.rng.permutation(np.flatnonzero(ok))
    if kind == "missing_key" and source == "inventory":  # blank sku: keep clones of one file distinguishable
        candidates = candidates[~f.iloc[candidates].duplicated(["_day", "store_id"]).to_numpy()]
        needs = ", one per store-day file"
    if len(candidates) < count:
        ctx.skip(kind, source, f"{len(candidates)} of {count} rows planted: too few {ELIGIBLE}{needs}")
    if len(candidates) == 0:
        return np.array([], dtype=np.int64)
    rows = np.sort(ctx.rng.choice(candidates, size=min(count, len(candidates)), replace=False))
    f.loc[rows, "_free"] = False
    return rows


def _assign_files(cal: Calendar, name: str, frame: pd.DataFrame) -> None:
    """Normal rows go to <source>/<day>/<source>_<day>.<ext>."""
    spec = SPECS[name]
    missing = frame["_file"].to_numpy() == ""
    paths = np.array([spec.path(cal.iso(d)) for d in range(cal.days + 1)], dtype=object)
    frame.loc[missing, "_file"] = paths[frame.loc[missing, "_day"].to_numpy().astype(np.int64)]
