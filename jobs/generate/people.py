"""The person population: BG/NBD parameters, channel mix, category taste, PII and source identities."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import names
from .params import GenerateParams
from .stores import CITIES, Stores
from .util import DAY, Calendar, fmt_ids, rng_for, unique_ints

WEB, APP, MKT, POS = range(4)
TIERS = ("basic", "silver", "gold", "platinum")


@dataclass
class Idents:
    """Source identities (web account, app user, marketplace buyer, POS member card) and their PII."""

    person: np.ndarray
    channel: np.ndarray
    account: np.ndarray
    member_id: np.ndarray
    device: np.ndarray
    platform: np.ndarray
    phone: np.ndarray  # 10 digits
    email: np.ndarray  # canonical lower case
    name: np.ndarray
    address: np.ndarray

    def __len__(self) -> int:
        return len(self.person)

    def extend(self, other: Idents) -> np.ndarray:
        """Append identities; return their new indices."""
        start = len(self)
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))
        return np.arange(start, len(self))


@dataclass
class People:
    """Persons with purchase-process parameters and CRM attributes."""

    person_id: np.ndarray
    lam: np.ndarray
    p_drop: np.ndarray
    spend: np.ndarray
    join_day: np.ndarray
    store: np.ndarray
    mix: np.ndarray  # (n, 4) channel probabilities
    cat_pref: np.ndarray  # (n, categories)
    member_id: np.ndarray  # None for non-members
    name: np.ndarray
    phone: np.ndarray
    email: np.ndarray
    address: np.ndarray
    birth: np.ndarray
    tier: np.ndarray
    joined_ts: np.ndarray
    ident_of: np.ndarray  # (n, 4) identity index per channel, -1 if none
    ident_alt: np.ndarray  # second web account identity, -1 if none
    spare_phones: np.ndarray

    @property
    def n(self) -> int:
        """Number of persons."""
        return len(self.person_id)


def build_people(
    params: GenerateParams, cal: Calendar, stores: Stores, n_cat: int, *, offered: np.ndarray | None = None
) -> tuple[People, Idents]:
    """Draw persons, their PII and their identities in every channel they use; `offered` (bool per category, default
    all) limits the category taste to categories that have SKUs."""
    rng = rng_for(params.seed, "people")
    n = params.customers
    join = np.where(rng.random(n) < 0.6, 0, (rng.random(n) ** 1.3 * cal.days).astype(int))
    join = np.minimum(join, cal.days - 1)
    lam = rng.gamma(params.rate_shape, 1.0 / params.rate_alpha, n)
    nu = rng.gamma(4.0, 1.0 / (params.spend_mean * 3.0 / 6.0), n)
    present = rng.random((n, 4)) < np.array([0.5, 0.35, 0.3, 0.5])
    none = ~present.any(axis=1)
    present[none, rng.choice(4, size=int(none.sum()), p=[0.35, 0.25, 0.15, 0.25])] = True
    mix = rng.dirichlet(np.ones(4), n) * present
    home = rng.integers(0, stores.n, n)
    is_member = rng.random(n) < np.minimum(0.95, params.crm_share * np.where(present[:, POS], 1.35, 0.7))
    people = People(
        person_id=fmt_ids("P", np.arange(1, n + 1), "06d"),
        lam=lam,
        p_drop=_dropout_probs(rng, lam, join, cal, params.churn_share),
        spend=6.0 / nu,
        join_day=join,
        store=home,
        mix=mix / mix.sum(axis=1, keepdims=True),
        cat_pref=_offered_only(rng.dirichlet(np.full(n_cat, 0.8), n), offered),
        member_id=np.where(is_member, fmt_ids("M", unique_ints(rng, n, 10_000_000, 90_000_000)), None),
        tier=np.array(TIERS, dtype=object)[rng.choice(4, n, p=[0.55, 0.25, 0.15, 0.05])],
        joined_ts=np.where(
            join > 0,
            cal.epoch0 + join * DAY + rng.integers(28_800, 79_200, n),
            cal.epoch0 - rng.integers(DAY, 6 * 365 * DAY, n),
        ),
        birth=np.array([cal.iso(-int(x)) for x in rng.integers(18 * 365, 75 * 365, n)], dtype=object),
        ident_of=np.full((n, 4), -1),
        ident_alt=np.full(n, -1),
        spare_phones=np.array([], dtype=object),
        **_pii(rng, n, stores, home),
    )
    people.spare_phones = people.phone[n:]
    people.phone = people.phone[:n]
    return people, _identities(rng, people, present)


def _offered_only(pref: np.ndarray, offered: np.ndarray | None) -> np.ndarray:
    """Category taste renormalized over the offered categories (unchanged when every category is offered)."""
    if offered is None or offered.all():
        return pref
    pref = pref * offered
    total = pref.sum(axis=1, keepdims=True)
    return np.where(total > 0, pref / np.where(total > 0, total, 1.0), offered / offered.sum())


def _dropout_probs(
    rng: np.random.Generator, lam: np.ndarray, join: np.ndarray, cal: Calendar, churn_share: float
) -> np.ndarray:
    """p ~ Beta(1, b) with b solved so that about churn_share of persons drop out in the period."""
    expected = lam * (cal.days - join) * cal.season().mean() + (join > 0)
    u = rng.random(len(lam))
    lo, hi = np.log(0.01), np.log(1e4)
    for _ in range(60):
        mid = (lo + hi) / 2
        p = 1.0 - (1.0 - u) ** np.exp(-mid)
        if np.mean(1.0 - np.exp(-expected * p)) > churn_share:
            lo = mid
        else:
            hi = mid
    return 1.0 - (1.0 - u) ** np.exp(-(lo + hi) / 2)


def _pii(rng: np.random.Generator, n: int, stores: Stores, home: np.ndarray) -> dict[str, np.ndarray]:
    """Names, unique phones (plus spares), unique emails and addresses near the home store."""
    first = rng.choice(len(names.FIRST), n)
    last = rng.choice(len(names.LAST), n)
    city = [CITIES[c] for c in stores.city_idx[home]]
    areas = [c[4][k % len(c[4])] for c, k in zip(city, rng.integers(0, 6, n), strict=True)]
    areas += [c[4][0] for c in city[:64]] + ["555"] * max(0, 64 - len(city))
    local7 = unique_ints(rng, n + 64, 2_000_000, 10_000_000)
    phone = np.array([f"{a}{x:07d}" for a, x in zip(areas, local7.tolist(), strict=True)], dtype=object)
    street = rng.choice(len(names.STREETS), n)
    suffix = rng.choice(len(names.SUFFIXES), n)
    num, apt, zip2 = rng.integers(1, 9900, n), rng.integers(0, 40, n), rng.integers(0, 100, n)
    address = np.array(
        [
            f"{num[i]} {names.STREETS[street[i]]} {names.SUFFIXES[suffix[i]]}"
            + (f", Apt {apt[i]}" if apt[i] < 8 else "")
            + f", {c[0]}, {c[1]} {c[5]}{zip2[i]:02d}"
            for i, c in enumerate(city)
        ],
        dtype=object,
    )
    full = np.array([f"{names.FIRST[f]} {names.LAST[g]}" for f, g in zip(first, last, strict=True)], dtype=object)
    return {"name": full, "phone": phone, "address": address, "email": _emails(rng, first, last)}


def _emails(rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Globally unique lower-case emails built from the names."""
    pattern = rng.integers(0, 4, len(first))
    suffix = rng.integers(1, 1000, len(first))
    out = []
    for f, g, p, s in zip(first, last, pattern, suffix, strict=True):
        a, b = names.ascii_word(names.FIRST[f]), names.ascii_word(names.LAST[g])
        local = (f"{a}.{b}", f"{a}{b}", f"{a[0]}.{b}", f"{a}_{b}")[p] + (str(s) if s < 700 else "")
        out.append(f"{local}@{names.DOMAINS[(f + g) % len(names.DOMAINS)]}")
    seen: set[str] = set()
    for i, email in enumerate(out):
        k = 0
        while email in seen:
            k += 1
            local, domain = out[i].split("@")
            email = f"{local}{i % 97}{k}@{domain}"
        seen.add(email)
        out[i] = email
    return np.array(out, dtype=object)


def _identities(rng: np.random.Generator, people: People, present: np.ndarray) -> Idents:
    """One identity per person and channel used (POS only for CRM members), a few second web accounts."""
    parts = []
    is_member = people.member_id != None  # noqa: E711 - elementwise on object array
    owners = {
        WEB: np.flatnonzero(present[:, WEB]),
        APP: np.flatnonzero(present[:, APP]),
        MKT: np.flatnonzero(present[:, MKT]),
        POS: np.flatnonzero(present[:, POS] & is_member),
    }
    second = owners[WEB][rng.random(len(owners[WEB])) < 0.03]
    ranges = {
        WEB: ("acc_", 10_000_000, 90_000_000, "d"),
        APP: ("u", 100_000_000, 900_000_000, "d"),
        MKT: ("b", 1_000_000_000, 9_000_000_000, "d"),
    }
    start = 0
    for ch, who in list(owners.items()) + [(WEB, second)]:
        n = len(who)
        if ch == POS:
            account = people.member_id[who]
        else:
            prefix, lo, hi, spec = ranges[ch]
            account = fmt_ids(prefix, unique_ints(rng, n, lo, hi), spec)
        linked = (ch == APP) & is_member[who] & (rng.random(n) < 0.6)
        platform = np.where(rng.random(n) < 0.7, "app", "mini_program") if ch == APP else np.full(n, None)
        parts.append(
            Idents(
                person=who,
                channel=np.full(n, ch),
                account=account,
                member_id=np.where(linked | (ch == POS), people.member_id[who], None),
                device=fmt_ids("d-", rng.integers(0, 2**48, n), "012x"),
                platform=platform.astype(object),
                phone=people.phone[who],
                email=people.email[who],
                name=people.name[who],
                address=people.address[who],
            )
        )
        idx = np.arange(start, start + n)
        if who is second:
            people.ident_alt[who] = idx
        else:
            people.ident_of[who, ch] = idx
        start += n
    ident = parts[0]
    for part in parts[1:]:
        ident.extend(part)
    return ident
