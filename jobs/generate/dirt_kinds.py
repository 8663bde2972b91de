"""Row-level dirt: how each kind changes or adds raw rows, per source."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .specs import SPECS
from .util import Calendar, iso_utc, parse_iso

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def _word(v: object) -> str:
    n = int(v)
    return _WORDS[n] if 0 <= n < len(_WORDS) else "many"


def _comma(v: object) -> str:
    return f"{float(v):.2f}".replace(".", ",")


def _euro(v: object) -> str:
    return f"{float(v):,.2f}".translate(str.maketrans(",.", ".,"))


def _bad_month(v: object) -> str:
    return f"{str(v)[:5]}13{str(v)[7:]}"


def _bad_epoch(v: object) -> str:
    return f"{str(v)[:-3]}OOO"


def _neg(v: object) -> object:
    return f"-{v}" if isinstance(v, str) else -float(v)


def _const(value: object) -> Callable[[object], object]:
    return lambda _v: value


Recipe = list[tuple[str, Callable[[object], object]]]
REJECTS: dict[str, tuple[str, dict[str, Recipe]]] = {
    "bad_type": (
        "BAD_TYPE",
        {
            "web_orders": [("quantity", _word), ("unit_price", _comma), ("order_ts", _bad_month)],
            "app_orders": [("qty", _word), ("price", _comma), ("order_ts", _bad_epoch)],
            "pos_transactions": [("quantity", _word), ("unit_price", _comma), ("txn_ts", _bad_month)],
            "web_events": [("event_ts", _bad_month)],
            "app_events": [("event_ts", _bad_epoch)],
            "returns": [("refund_amount", _comma), ("quantity", _word)],
            "marketing_spend": [("spend", _euro), ("clicks", _const("n/a"))],
            "crm_members": [("joined_at", _bad_month), ("consent_email", _const("maybe"))],
        },
    ),
    "out_of_range": (
        "OUT_OF_RANGE",
        {
            "web_orders": [("quantity", _const("0")), ("quantity", _const("10000")), ("unit_price", _neg)],
            "app_orders": [("qty", _const(0)), ("qty", _const(10000)), ("price", _neg)],
            "marketplace_orders": [("quantity", _const(0)), ("quantity", _const(10000)), ("unit_price", _neg)],
            "pos_transactions": [("quantity", _const("-1")), ("quantity", _const("0")), ("quantity", _const("10000"))],
            "returns": [("quantity", _const("0")), ("refund_amount", _neg)],
            "marketing_spend": [("spend", _neg), ("clicks", _const("-5"))],
        },
    ),
    "missing_key": (
        "MISSING_KEY",
        {
            "web_orders": [("order_id", _const(None)), ("line_no", _const(None))],
            "app_orders": [("order_id", _const(None)), ("line_no", _const(None))],
            "marketplace_orders": [("order_id", _const(None))],
            "pos_transactions": [("txn_id", _const(None)), ("line_no", _const(None))],
            "web_events": [("event_id", _const(None))],
            "app_events": [("event_id", _const(None))],
            "returns": [("return_id", _const(None))],
            "inventory": [("sku", _const(None))],
            "crm_members": [("member_id", _const(None))],
        },
    ),
    "bad_enum": (
        "BAD_ENUM",
        {
            "web_orders": [("status", _const("shiped"))],
            "app_orders": [("status", _const("payed")), ("platform", _const("ios"))],
            "marketplace_orders": [("status", _const("shiped"))],
            "pos_transactions": [("payment_type", _const("crd")), ("payment_type", _const("bitcoin"))],
            "web_events": [("event_type", _const("veiw"))],
            "app_events": [("event_type", _const("add_to_cart"))],
            "returns": [("reason", _const("broken"))],
            "crm_members": [("tier", _const("platnum"))],
            "marketing_spend": [("channel", _const("tv"))],
        },
    ),
}
OTHER_SOURCES = {
    "exact_duplicate": (
        "pos_transactions",
        "web_events",
        "app_events",
        "inventory",
        "web_orders",
        "marketplace_orders",
        "returns",
        "marketing_spend",
        "products",
    ),
    "near_duplicate": ("crm_members", "web_orders", "app_orders", "marketplace_orders"),
    "record_update": (
        "web_orders",
        "app_orders",
        "marketplace_orders",
        "crm_members",
        "returns",
        "marketing_spend",
        "stores",
    ),
    "mixed_timezone": ("web_orders", "web_events", "returns"),
}
TS_COLUMNS = {
    "web_orders": ("order_ts", "updated_at"),
    "web_events": ("event_ts",),
    "returns": ("return_ts", "updated_at"),
}
OFFSETS = ("-05:00", "-04:00", "-08:00", "+08:00", "+05:30", "-07:00")


@dataclass
class DirtCtx:
    """Mutable state while planting dirt."""

    cal: Calendar
    rng: np.random.Generator
    frames: dict[str, pd.DataFrame]
    entries: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    pending: dict[str, list[dict]] = field(default_factory=dict)
    fresh: dict[str, int] = field(default_factory=dict)

    def entry(self, kind: str, source: str, reason: str | None, note: str, expect: int = 1) -> int:
        """Register a manifest entry; its row(s) are tagged with the returned id."""
        self.entries.append(
            {
                "kind": kind,
                "source": source,
                "expected_reason": reason,
                "note": note,
                "_id": len(self.entries),
                "_expect": expect,
            }
        )
        return len(self.entries) - 1

    def skip(self, kind: str, source: str, reason: str) -> None:
        """Record dirt that had nothing (or too little) to land on."""
        self.skipped.append({"kind": kind, "source": source, "reason": reason})

    def add(self, source: str, row: dict, entry_id: int) -> None:
        """Queue an extra raw row."""
        row.update({"_dirt": entry_id, "_free": False, "_seq": row["_seq"] + 0.5})
        self.pending.setdefault(source, []).append(row)

    def fresh_key(self, source: str, rec: dict) -> dict:
        """A key value that no clean row uses (for rejected clones)."""
        j = self.fresh[source] = self.fresh.get(source, 0) + 1
        return {
            "web_orders": lambda: {"order_id": str(900_000_000 + j)},
            "app_orders": lambda: {"order_id": f"A{self.cal.date(rec['_day']).strftime('%Y%m%d')}{900_000 + j}"},
            "marketplace_orders": lambda: {"order_id": f"MP-9{j:09d}"},
            "pos_transactions": lambda: {"txn_id": f"{rec['txn_id'].rsplit('-', 1)[0]}-9{j:04d}"},
            "web_events": lambda: {"event_id": f"we-x{j:09x}"},
            "app_events": lambda: {"event_id": f"ae-x{j:09x}"},
            "returns": lambda: {"return_id": f"R9{j:08d}"},
            "crm_members": lambda: {"member_id": f"M9{j:07d}"},
            "marketing_spend": lambda: {"campaign_id": f"CMP-ZZZ-{j:03d}"},
            "inventory": dict,
        }[source]()


def reject(ctx: DirtCtx, kind: str, source: str, recs: list[dict]) -> None:
    """Clones that the pipeline must quarantine: fresh key (unless the key is what is broken) + one bad value."""
    reason, table = REJECTS[kind]
    spec = SPECS[source]
    for j, rec in enumerate(recs):
        col, fn = table[source][j % len(table[source])]
        new = dict(rec)
        if col in spec.key:
            new.update(_nudge(ctx, source, rec))
        else:
            new.update(ctx.fresh_key(source, rec))
        new[col] = fn(rec[col])
        eid = ctx.entry(kind, source, reason, f"{col} = {new[col]!r}")
        ctx.add(source, new, eid)


def _shift_iso(value: str, seconds: int) -> str:
    return iso_utc(np.array([parse_iso(value) + seconds]))[0]


def _nudge(ctx: DirtCtx, source: str, rec: dict) -> dict:
    """A blank-key clone must still differ from its original in a non-empty column (so `match` can find it), and
    from every other row: an event moves by under 8 s, the least gap between two events of a session (events.py),
    so it never lands on the session's next view of the same SKU (at 100k customers a 1-59 s shift did)."""
    secs = int(ctx.rng.integers(1, 60))
    if source in ("web_orders", "crm_members", "returns"):
        return {"updated_at": _shift_iso(rec["updated_at"], secs)}
    if source == "web_events":
        return {"event_ts": _shift_iso(rec["event_ts"], 1 + secs % 7)}
    if source == "app_events":
        return {"event_ts": int(rec["event_ts"]) + (secs % 7) * 1000 + int(ctx.rng.integers(1, 1000))}
    if source == "app_orders":
        return {"order_ts": int(rec["order_ts"]) + secs * 1000 + int(ctx.rng.integers(1, 1000))}
    if source == "pos_transactions":
        local = np.datetime64(rec["txn_ts"].replace(" ", "T")) + np.timedelta64(secs, "s")
        return {"txn_ts": np.datetime_as_string(local, unit="s").replace("T", " ")}
    if source == "marketplace_orders":
        return {"commission": round(float(rec["commission"]) + 0.01, 2)}
    on_hand = ctx.frames["inventory"]["on_hand"]
    ctx.fresh["inventory"] = ctx.fresh.get("inventory", int(on_hand.max())) + 1
    return {"on_hand": ctx.fresh["inventory"]}


def exact_duplicate(ctx: DirtCtx, source: str, recs: list[dict]) -> None:
    """The same row again, in the same file or in the next day's file."""
    for rec in recs:
        new = dict(rec)
        same = bool(ctx.rng.random() < 0.5)
        new["_day"] = rec["_day"] + (0 if same else 1)
        note = (
            "duplicate in the same file (match finds both copies)"
            if same
            else f"re-sent copy of a row first delivered on {ctx.cal.iso(rec['_day'])}"
        )
        ctx.add(source, new, ctx.entry("exact_duplicate", source, None, note, 2 if same else 1))
