"""The manifest: ground truth (persons, churn, taste, promotions, slow movers, trends, bought-together pairs, fraud,
stock-outs, PII) and dirt."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from .assortment import CATEGORIES, elasticities
from .people import APP, MKT, WEB
from .taste import PERSON_NOISE, TASTE_DIMS
from .world import World

_FRAUD_KINDS = ("ring", "velocity", "large_amount")


def build_manifest(w: World, pii: dict[str, list[str]], dirt: list[dict], skipped: list[dict] | None = None) -> dict:
    """Assemble the manifest dict (JSON-serializable, deterministic order); `dirt_skipped` lists the dirt that had
    nothing (or too little) to land on and is written only when there is some."""
    p, cal = w.params, w.cal
    drift = p.drift_day is not None
    params = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in asdict(p).items()
        if (drift or not k.startswith("drift_"))  # without a drift the manifest is the one from before drifts existed
        and (k != "category_elasticity" or v)  # the same for the price knobs at their defaults
        and (k != "price_change_share" or v != 0.2)
    }
    keys = person_keys(w)
    manifest = {
        "seed": p.seed,
        "customers": p.customers,
        "days": p.days,
        "start_date": cal.iso(0),
        "end_date": cal.iso(cal.days - 1),
        "params": params,
        "truth": {
            "persons": len(keys),
            "person_keys": keys,
            "churned": [k["person_id"] for k in keys if k["dropout_date"] is not None],
            "taste": _taste(w),
            "promotions": [
                {
                    "start": cal.iso(x.start),
                    "end": cal.iso(x.end),
                    "uplift": x.uplift,
                    "skus": w.cat.sku[x.skus].tolist(),
                }
                for x in w.cat.promos
            ],
            "slow_movers": sorted(w.cat.sku[w.cat.slow].tolist()),
            "sku_trends": [
                {"sku": w.cat.sku[t.sku], "kind": t.kind, "start": cal.iso(t.start), "factor": t.factor}
                for t in w.cat.trends
            ],
            "basket_pairs": [
                {
                    "antecedent": w.cat.sku[x.antecedent],
                    "consequent": w.cat.sku[x.consequent],
                    "probability": x.probability,
                }
                for x in w.cat.pairs
            ],
            "fraud": _fraud(w),
            "stockouts": [
                {
                    "store_id": w.stores.store_id[s.store],
                    "sku": w.cat.sku[s.sku],
                    "start": cal.iso(s.start),
                    "end": cal.iso(s.end),
                }
                for s in w.stores.stockouts
            ],
            "elasticity": p.elasticity,
            "elasticity_by_category": dict(zip(CATEGORIES, elasticities(p).tolist(), strict=True)),
            "seasonality": {
                "weekend_uplift": p.weekend_uplift,
                "yearly_amplitude": p.yearly_amplitude,
                "yearly_peak": "12-16",
            },
            **({"drift": _drift(w)} if drift else {}),
            "pii": pii,
        },
        "dirt": [{k: e[k] for k in ("kind", "source", "file", "expected_reason", "match", "note")} for e in dirt],
    }
    if skipped:
        manifest["dirt_skipped"] = [{k: s[k] for k in ("kind", "source", "reason")} for s in skipped]
    return manifest


def _drift(w: World) -> dict:
    """The planted drift: from `date` on every list price is price_factor x, the channel's traffic traffic_factor x."""
    p = w.params
    return {
        "date": w.cal.iso(p.drift_day),
        "channel": p.drift_channel,
        "traffic_factor": p.drift_traffic,
        "price_factor": p.drift_price,
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
    brands = w.taste.brands[w.taste.preferred_brands()]
    accounts: dict[int, dict[int, list[str]]] = {}
    for i in np.flatnonzero(seen).tolist():
        accounts.setdefault(int(ids.person[i]), {}).setdefault(int(ids.channel[i]), []).append(ids.account[i])
    out = []
    for person in range(n_total):
        mine = accounts.get(person, {})
        if member[person] is None and not any(c in mine for c in (WEB, APP, MKT)):
            continue
        out.append(
            {
                "person_id": f"P{person + 1:06d}",
                "crm_member_id": member[person],
                "web_account_ids": sorted(mine.get(WEB, [])),
                "app_user_ids": sorted(mine.get(APP, [])),
                "marketplace_buyer_ids": sorted(mine.get(MKT, [])),
                "dropout_date": w.cal.iso(dropout[person]) if dropout[person] >= 0 else None,
                **_person_taste(w, person, brands),
            }
        )
    return out


def _factors(x: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in x]


def _person_taste(w: World, person: int, brands: np.ndarray) -> dict:
    """A person's taste group, factors and preferred brands (fraud persons have none)."""
    if person >= w.people.n:
        return {"taste_group": None, "taste_factors": None, "preferred_brands": []}
    return {
        "taste_group": int(w.taste.group[person]),
        "taste_factors": _factors(w.taste.factors[person]),
        "preferred_brands": brands[person].tolist(),
    }


def _taste(w: World) -> dict:
    """The planted latent taste: weight x exp(strength * <person taste_factors, sku factors>) within a category."""
    t = w.taste
    top = np.argsort(-(t.centre @ t.brand_factors.T), axis=1, kind="stable")[:, :3]
    return {
        "strength": t.strength,
        "dims": TASTE_DIMS,
        "person_noise": PERSON_NOISE,
        "groups": [
            {
                "group": g,
                "anchor_category": CATEGORIES[int(t.anchor[g])],
                "centre": _factors(t.centre[g]),
                "top_brands": t.brands[top[g]].tolist(),
                "members": int((t.group == g).sum()),
            }
            for g in range(len(t.anchor))
        ],
        "brand_factors": {b: _factors(f) for b, f in zip(t.brands.tolist(), t.brand_factors, strict=True)},
        "sku_factors": {s: _factors(f) for s, f in zip(w.cat.sku.tolist(), t.sku_factors, strict=True)},
    }


def _fraud(w: World) -> list[dict]:
    """Account ids and order ids per planted fraud pattern."""
    out = []
    kinds = w.orders["fraud"].to_numpy()
    for kind in _FRAUD_KINDS:
        rows = w.orders[kinds == kind]
        out.append(
            {
                "kind": kind,
                "account_ids": sorted(set(w.idents.account[rows["ident"].to_numpy()].tolist())),
                "order_ids": sorted(rows["order_id"].tolist()),
            }
        )
    return out
