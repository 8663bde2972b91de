"""The manifest: ground truth (persons, churn, promotions, slow movers, fraud, stock-outs, PII) and dirt."""
from __future__ import annotations

from dataclasses import asdict

import numpy as np

from .people import APP, MKT, WEB
from .world import World

_FRAUD_KINDS = ("ring", "velocity", "large_amount")


def build_manifest(w: World, pii: dict[str, list[str]], dirt: list[dict]) -> dict:
    """Assemble the manifest dict (JSON-serializable, deterministic order)."""
    p, cal = w.params, w.cal
    params = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(p).items()}
    keys = person_keys(w)
    return {
        "seed": p.seed, "customers": p.customers, "days": p.days, "start_date": cal.iso(0),
        "end_date": cal.iso(cal.days - 1), "params": params,
        "truth": {
            "persons": len(keys), "person_keys": keys,
            "churned": [k["person_id"] for k in keys if k["dropout_date"] is not None],
            "promotions": [{"start": cal.iso(x.start), "end": cal.iso(x.end), "uplift": x.uplift,
                            "skus": w.cat.sku[x.skus].tolist()} for x in w.cat.promos],
            "slow_movers": sorted(w.cat.sku[w.cat.slow].tolist()),
            "fraud": _fraud(w),
            "stockouts": [{"store_id": w.stores.store_id[s.store], "sku": w.cat.sku[s.sku],
                           "start": cal.iso(s.start), "end": cal.iso(s.end)} for s in w.stores.stockouts],
            "elasticity": p.elasticity,
            "seasonality": {"weekend_uplift": p.weekend_uplift, "yearly_amplitude": p.yearly_amplitude,
                            "yearly_peak": "12-16"},
            "pii": pii,
        },
        "dirt": [{k: e[k] for k in ("kind", "source", "file", "expected_reason", "match", "note")} for e in dirt],
    }


def _seen_idents(w: World) -> np.ndarray:
    """Identities that occur with their identifier in at least one clean record."""
    seen = np.zeros(len(w.idents), dtype=bool)
    ident = w.orders["ident"].to_numpy()
    seen[ident[ident >= 0]] = True
    for ch in (WEB, APP):
        lookup = {a: i for i, a in enumerate(w.idents.account.tolist()) if w.idents.channel[i] == ch}
        accounts = w.events[ch]["account"].dropna().unique().tolist()
        seen[[lookup[a] for a in accounts]] = True
    return seen


def person_keys(w: World) -> list[dict]:
    """One entry per person with at least one identified record (CRM members always have one)."""
    ids, people = w.idents, w.people
    seen = _seen_idents(w)
    n_total = int(max(ids.person.max() + 1, people.n))
    member = np.full(n_total, None, dtype=object)
    member[: people.n] = people.member_id
    dropout = np.full(n_total, -1)
    dropout[: people.n] = w.dropout
    accounts: dict[int, dict[int, list[str]]] = {}
    for i in np.flatnonzero(seen).tolist():
        accounts.setdefault(int(ids.person[i]), {}).setdefault(int(ids.channel[i]), []).append(ids.account[i])
    out = []
    for person in range(n_total):
        mine = accounts.get(person, {})
        if member[person] is None and not any(c in mine for c in (WEB, APP, MKT)):
            continue
        out.append({
            "person_id": f"P{person + 1:06d}", "crm_member_id": member[person],
            "web_account_ids": sorted(mine.get(WEB, [])), "app_user_ids": sorted(mine.get(APP, [])),
            "marketplace_buyer_ids": sorted(mine.get(MKT, [])),
            "dropout_date": w.cal.iso(dropout[person]) if dropout[person] >= 0 else None})
    return out


def _fraud(w: World) -> list[dict]:
    """Account ids and order ids per planted fraud pattern."""
    out = []
    kinds = w.orders["fraud"].to_numpy()
    for kind in _FRAUD_KINDS:
        rows = w.orders[kinds == kind]
        out.append({"kind": kind, "account_ids": sorted(set(w.idents.account[rows["ident"].to_numpy()].tolist())),
                    "order_ids": sorted(rows["order_id"].tolist())})
    return out
