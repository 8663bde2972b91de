"""Row-level dirt that keeps rows loadable: near duplicates, record updates, mixed timezone offsets."""

from __future__ import annotations

import numpy as np

from . import names
from .dirt_kinds import OFFSETS, TS_COLUMNS, DirtCtx
from .people import TIERS
from .util import (
    DAY,
    EMAIL_VARIANTS,
    PHONE_FORMATS,
    iso_utc,
    iso_with_offset,
    normalize_email,
    normalize_phone,
    parse_iso,
)

PHONE_COLUMN = {
    "crm_members": "phone",
    "web_orders": "phone",
    "app_orders": "phone",
    "marketplace_orders": "buyer_phone",
}


def _reformat_phone(rng: np.random.Generator, raw: str) -> str:
    """Same number, another format."""
    d = normalize_phone(raw)
    options = (f"({d[:3]}) {d[3:6]}-{d[6:]}", f"+1 {d[:3]} {d[3:6]} {d[6:]}", f"{d[:3]}.{d[3:6]}.{d[6:]}", f"+1{d}")
    for fmt in rng.permutation(PHONE_FORMATS).tolist():
        out = options[fmt]
        if out != raw:
            return out
    raise AssertionError("no alternative phone format")


def _reformat_email(rng: np.random.Generator, raw: str) -> str:
    """Same email, another case / surrounding spaces."""
    e = normalize_email(raw)
    options = (e, e.title(), e.upper(), f" {e} ", f"{e.title()}  ")
    for variant in rng.permutation(EMAIL_VARIANTS).tolist():
        out = options[variant]
        if out != raw:
            return out
    raise AssertionError("no alternative email variant")


def near_duplicate(ctx: DirtCtx, source: str, recs: list[dict]) -> None:
    """Same key and version re-sent in the next day's file with PII formatted differently."""
    for rec in recs:
        new = dict(rec)
        new["_day"] = rec["_day"] + 1
        changed = []
        phone_col = PHONE_COLUMN[source]
        if new.get(phone_col) is not None:
            new[phone_col] = _reformat_phone(ctx.rng, new[phone_col])
            changed.append(phone_col)
        if "email" in new and (not changed or ctx.rng.random() < 0.5):
            new["email"] = _reformat_email(ctx.rng, new["email"])
            changed.append("email")
        note = (
            f"same key/version as a row delivered {ctx.cal.iso(rec['_day'])}; "
            f"{', '.join(changed)} formatted differently"
        )
        ctx.add(source, new, ctx.entry("near_duplicate", source, None, note))


def _next_status(rng: np.random.Generator, status: str) -> str:
    return "shipped" if status == "paid" else ("paid" if rng.random() < 0.7 else "cancelled")


def record_update(ctx: DirtCtx, source: str, recs: list[dict]) -> None:
    """A later version of the same key delivered 1-3 days later (stores: some day in the period)."""
    last = ctx.cal.days - 1
    for rec in recs:
        new = dict(rec)
        if source == "stores":
            day = int(ctx.rng.integers(1, last)) if last > 1 else last
        else:
            day = rec["_day"] + min(int(ctx.rng.integers(1, 4)), last - rec["_day"])
        ts = ctx.cal.epoch0 + day * DAY + int(ctx.rng.integers(3_600, 80_000))
        new.update({"_day": day, "_ts": ts})
        note = _apply_update(ctx, source, new, ts)
        ctx.add(source, new, ctx.entry("record_update", source, None, note))


def _apply_update(ctx: DirtCtx, source: str, new: dict, ts: int) -> str:
    """Change the row to its next version; return a note."""
    rng = ctx.rng
    stamp = iso_utc(np.array([ts]))[0]
    if source in ("web_orders", "app_orders", "marketplace_orders"):
        old = new["status"]
        new["status"] = _next_status(rng, old)
        if source == "app_orders":
            new["version"] = int(new["version"]) + 1
        elif source == "web_orders":
            new["updated_at"] = stamp
        else:
            new["updated_at"] = ts * 1000 + int(rng.integers(0, 1000))
            final = np.datetime_as_string(np.datetime64(new["updated_at"], "ms"), unit="ms")
            return f"status {old} -> {new['status']} (final version updated_at {final}Z)"
        return f"status {old} -> {new['status']}"
    new["updated_at"] = stamp
    if source == "crm_members":
        tier = TIERS.index(new["tier"])
        if tier < len(TIERS) - 1 and rng.random() < 0.5:
            new["tier"] = TIERS[tier + 1]
            return f"tier {TIERS[tier]} -> {new['tier']}"
        head = (
            f"{rng.integers(1, 9900)} {names.STREETS[rng.integers(0, len(names.STREETS))]} "
            f"{names.SUFFIXES[rng.integers(0, len(names.SUFFIXES))]}"
        )
        new["address"] = ", ".join([head] + new["address"].split(", ")[-2:])
        return "member moved (address changed)"
    if source == "returns":
        new["refund_amount"] = f"{float(new['refund_amount']) * 0.85:.2f}"
        return "refund revised down (15% restocking fee)"
    if source == "marketing_spend":
        new["spend"] = f"{float(new['spend']) * rng.uniform(0.85, 1.15):.2f}"
        return "spend restated by the ad platform"
    new["store_name"] = f"{new['store_name']} Downtown"
    return "store renamed"


def mixed_timezone(ctx: DirtCtx, source: str, rows: np.ndarray) -> None:
    """Rewrite timestamps of existing rows from 'Z' to a local offset (same instant; must load)."""
    frame = ctx.frames[source]
    for i in rows.tolist():
        offset = OFFSETS[int(ctx.rng.integers(0, len(OFFSETS)))]
        for col in TS_COLUMNS[source]:
            frame.at[i, col] = iso_with_offset(parse_iso(frame.at[i, col]), offset)
        frame.at[i, "_dirt"] = ctx.entry("mixed_timezone", source, None, f"timestamps written with offset {offset}")
