"""Purchase occasions: a discrete-time BG/NBD process per person plus anonymous POS walk-ins."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import GenerateParams
from .people import POS, People
from .stores import Stores
from .util import Calendar, rng_for, rowwise_choice


@dataclass
class Occasions:
    """One row per purchase occasion (becomes one order / receipt)."""

    person: np.ndarray  # -1 for walk-ins
    day: np.ndarray
    channel: np.ndarray
    store: np.ndarray  # -1 for online channels
    dropout: np.ndarray  # per person: day of dropout or -1


def simulate(params: GenerateParams, cal: Calendar, people: People, stores: Stores) -> Occasions:
    """Daily Poisson purchases at lambda x season; after each purchase drop out with probability p."""
    rng = rng_for(params.seed, "demand")
    season = cal.season()
    alive = np.ones(people.n, dtype=bool)
    dropout = np.full(people.n, -1)
    persons, days = [], []
    for d in range(cal.days):
        idx = np.flatnonzero(alive & (people.join_day <= d))
        k = rng.poisson(people.lam[idx] * season[d])
        k = np.where((people.join_day[idx] == d) & (d > 0), np.maximum(k, 1), k)
        buyers, k = idx[k > 0], k[k > 0]
        persons.append(np.repeat(buyers, k))
        days.append(np.full(int(k.sum()), d))
        gone = rng.random(len(buyers)) >= (1.0 - people.p_drop[buyers]) ** k
        alive[buyers[gone]] = False
        dropout[buyers[gone]] = d
    person = np.concatenate(persons)
    day = np.concatenate(days)
    channel = rowwise_choice(rng, people.mix[person])
    store = np.where(channel == POS, people.store[person], -1)
    away = (channel == POS) & (rng.random(len(person)) < 0.1)
    store[away] = rng.integers(0, stores.n, int(away.sum()))
    walk_store, walk_day = _walk_ins(rng, params, cal, store)
    return Occasions(
        person=np.concatenate([person, np.full(len(walk_day), -1)]),
        day=np.concatenate([day, walk_day]),
        channel=np.concatenate([channel, np.full(len(walk_day), POS)]),
        store=np.concatenate([store, walk_store]),
        dropout=dropout,
    )


def _walk_ins(
    rng: np.random.Generator, params: GenerateParams, cal: Calendar, store: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Anonymous receipts per store and day, sized so walk-ins are walk_in_share of all POS receipts."""
    n_stores = params.stores
    known = np.bincount(store[store >= 0], minlength=n_stores).astype(float)
    known = np.where(known > 0, known, max(known.mean(), 1.0))
    season = cal.season()
    ratio = params.walk_in_share / (1.0 - params.walk_in_share)
    rate = ratio * known[:, None] / season.sum() * season[None, :]
    counts = rng.poisson(rate)
    s, d = np.nonzero(counts)
    reps = counts[s, d]
    return np.repeat(s, reps), np.repeat(d, reps)
