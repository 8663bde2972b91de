"""File-level dirt: late files, a column that appears mid-period, files dropped twice.

Each entry's `match` names a representative row of its file. In a small world a file may be empty of candidates
(no day early enough) or hold only a row and its same-file duplicate (no row matchable on its own): the dirt then
moves to the next file that can carry it, or is skipped and recorded. The random draws are the same as before
whenever the first choice can carry it."""

from __future__ import annotations

import numpy as np

from .dirt_kinds import DirtCtx
from .matches import matchable
from .specs import SPECS

NEW_COLUMN = ("web_orders", "gift_wrap")
TWICE_SOURCES = ("returns", "app_orders", "inventory")
LATE_LEAD = 5  # a late file's business day is at least this many days before the end (it arrives 3-4 days late)
TWICE_LEAD = 3  # a file dropped twice is at least this many days before the end (the copy comes 1-2 days later)
_LATE = f"needs a day with rows at least {LATE_LEAD} days before the end (a late file arrives 3-4 days later)"


def late_files(ctx: DirtCtx) -> None:
    """POS receipts of one store-day and the last hours of a web_events day arrive 3-4 days late."""
    days = ctx.cal.days
    pos = ctx.frames["pos_transactions"]
    pos_days = np.unique(pos.loc[pos["_day"] <= days - LATE_LEAD, "_day"].to_numpy())
    wanted = 1 + days // 90
    if len(pos_days) < wanted:
        ctx.skip("late_file", "pos_transactions", f"{len(pos_days)} of {wanted} late store-days planted: {_LATE}")
    for d in np.sort(ctx.rng.choice(pos_days, size=min(len(pos_days), wanted), replace=False)).tolist():
        store = str(ctx.rng.choice(np.unique(pos.loc[pos["_day"] == d, "store_id"].to_numpy().astype(str))))
        rows = (pos["_day"] == d) & (pos["store_id"] == store)
        _move_late(ctx, "pos_transactions", rows.to_numpy(), d, f"_late_{store}")
    ev = ctx.frames["web_events"]
    ev_days = np.unique(ev.loc[ev["_day"] <= days - LATE_LEAD, "_day"].to_numpy())
    if not len(ev_days):
        ctx.skip("late_file", "web_events", f"0 of 1 late files planted: {_LATE}")
        return
    d = int(ctx.rng.choice(ev_days))
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


def new_column(ctx: DirtCtx) -> tuple[str, str] | None:
    """web_orders gains a gift_wrap column from the first file 60% into the period on; None (skipped) when there is
    no such file or none before it (the column would not be new)."""
    source, col = NEW_COLUMN
    f = ctx.frames[source]
    day = f["_day"].to_numpy()
    gift = np.where(ctx.rng.random(len(f)) < 0.1, "true", "false").astype(object)
    later = day[day >= int(ctx.cal.days * 0.6)]
    start = int(later.min()) if len(later) else ctx.cal.days
    if not len(later) or not (day < start).any():
        since = ctx.cal.iso(int(ctx.cal.days * 0.6))
        ctx.skip("new_column", source, f"needs {source} files both before {since} (60% into the period) and from it on")
        return None
    f[col] = np.where(day >= start, gift, None)
    eid = ctx.entry("new_column", source, None, f"column {col} present from {ctx.cal.iso(start)} on")
    ctx.entries[eid]["_rep_file"] = SPECS[source].path(ctx.cal.iso(start))
    ctx.entries[eid]["_rep_col"] = col
    return col, ctx.cal.iso(start)


def settle_new_column(ctx: DirtCtx, extra: dict[str, tuple[str, str]]) -> None:
    """After row dirt and file assignment: the new column's entry names the first file from its start on with a
    uniquely matchable row that has the column; with none, the column is dropped and the dirt skipped."""
    source, col = NEW_COLUMN
    if source not in extra:
        return
    entry = next(e for e in ctx.entries if e["kind"] == "new_column")
    f, start = ctx.frames[source], extra[source][1]
    files = sorted({p for p in f["_file"].to_numpy().tolist() if p.split("/")[1] >= start})
    for path in [entry["_rep_file"]] + [p for p in files if p > entry["_rep_file"]]:
        if matchable(f, source, path, extra, col):
            entry["_rep_file"] = path
            return
    ctx.entries.remove(entry)  # entries are found by their "_id", not their position
    del extra[source]
    ctx.skip("new_column", source, f"no {source} file from {start} on has a row matchable alone")


def dropped_twice(ctx: DirtCtx) -> list[tuple[str, str]]:
    """Byte-identical copies of normal files under the same name in a later day's folder."""
    copies = []
    for k in range(1 + ctx.cal.days // 90):
        picked = _twice_file(ctx, k)
        if picked is None:
            reason = f"no {'/'.join(TWICE_SOURCES)} file {TWICE_LEAD}+ days before the end with a row matchable alone"
            ctx.skip("file_dropped_twice", TWICE_SOURCES[k % len(TWICE_SOURCES)], reason)
            continue
        source, d = picked
        original = SPECS[source].path(ctx.cal.iso(d))
        folder = d + 1 + int(ctx.rng.integers(0, 2))
        copy = f"{source}/{ctx.cal.iso(folder)}/{original.rsplit('/', 1)[1]}"
        eid = ctx.entry("file_dropped_twice", source, None, f"byte-identical copy of {original}")
        ctx.entries[eid]["_rep_file"] = original
        ctx.entries[eid]["_copy"] = copy
        copies.append((original, copy))
    return copies


def _twice_file(ctx: DirtCtx, k: int) -> tuple[str, int] | None:
    """The k-th copy's source and day: a random day of the k-th source at least TWICE_LEAD days before the end;
    when its file has no row matchable on its own, the next such day (then the next source)."""
    for j in range(len(TWICE_SOURCES)):
        source = TWICE_SOURCES[(k + j) % len(TWICE_SOURCES)]
        f = ctx.frames[source]
        days = np.unique(f.loc[f["_day"] <= ctx.cal.days - TWICE_LEAD, "_day"].to_numpy())
        if not len(days):
            continue
        first = int(np.searchsorted(days, int(ctx.rng.choice(days))))
        for d in np.roll(days, -first).tolist():
            if matchable(f, source, SPECS[source].path(ctx.cal.iso(d)), {}, None):
                return source, int(d)
    return None
