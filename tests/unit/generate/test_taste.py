"""The planted personal taste: deterministic, exact draws, learnable lift in purchases and views, manifest truth."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.generate import GenerateParams
from jobs.generate.assortment import CATEGORIES, build_assortment
from jobs.generate.baskets import draw_skus, draw_tasted, sku_table
from jobs.generate.people import build_people
from jobs.generate.stores import build_stores
from jobs.generate.taste import TASTE_DIMS, build_taste
from jobs.generate.util import Calendar
from jobs.generate.world import World, build_world

from ._landing import TINY, source_rows, tiny_landing


@pytest.fixture(scope="module")
def world() -> World:
    """The default-size world (2000 customers x 120 days), simulated without writing files."""
    return build_world(GenerateParams())


def _taste_inputs(params: GenerateParams) -> tuple:
    cal = Calendar(params.start_date, params.days, params.weekend_uplift, params.yearly_amplitude)
    cat = build_assortment(params, cal)
    people, _ = build_people(params, cal, build_stores(params, cal, cat), len(CATEGORIES))
    return people, cat


def _fans(w: World) -> np.ndarray:
    """(persons, brands) True where the brand is one of the person's preferred brands."""
    fans = np.zeros((w.people.n, len(w.taste.brands)), dtype=bool)
    fans[np.arange(w.people.n)[:, None], w.taste.preferred_brands()] = True
    return fans


def _lift(fans: np.ndarray, person: np.ndarray, brand: np.ndarray) -> tuple[float, float]:
    """(pooled, median per brand) lift: brand share among its fans' rows / among everyone else's rows."""
    own = fans[person, brand].mean()
    others = fans[np.roll(np.arange(len(fans)), 1)[person], brand].mean()  # the same rows, someone else's brands
    per_brand = [
        (brand[fans[person, b]] == b).mean() / (brand[~fans[person, b]] == b).mean()
        for b in range(fans.shape[1])
        if fans[person, b].sum() >= 200
    ]
    return own / others, float(np.median(per_brand))


def _line_rows(w: World) -> tuple[np.ndarray, np.ndarray]:
    """Buyer and brand of every order line of a simulated customer (no walk-ins, no fraud)."""
    order = w.lines["order"].to_numpy()
    person = w.orders["person"].to_numpy()[order]
    ok = (person >= 0) & (person < w.people.n) & w.orders["fraud"].isna().to_numpy()[order]
    return person[ok], w.taste.sku_brand[w.lines["sku"].to_numpy()[ok]]


def test_taste_is_deterministic_and_seed_sensitive() -> None:
    params = GenerateParams(customers=300, days=30)
    a = build_taste(params, *_taste_inputs(params))
    b = build_taste(params, *_taste_inputs(params))
    assert np.array_equal(a.factors, b.factors) and np.array_equal(a.cap, b.cap) and np.array_equal(a.group, b.group)
    other = GenerateParams(customers=300, days=30, seed=8)
    assert not np.allclose(build_taste(other, *_taste_inputs(other)).factors, a.factors)
    assert a.factors.shape == (300, TASTE_DIMS) and np.allclose(np.linalg.norm(a.factors, axis=1), 1.0)


def test_buyers_prefer_their_brands(world: World) -> None:
    pooled, per_brand = _lift(_fans(world), *_line_rows(world))
    assert pooled >= 2.0 and per_brand >= 2.0, (pooled, per_brand)
    flat = build_world(GenerateParams(taste_strength=0.0))
    pooled, per_brand = _lift(_fans(flat), *_line_rows(flat))
    assert 0.7 < pooled < 1.3 and 0.7 < per_brand < 1.3, (pooled, per_brand)


def test_logged_in_views_follow_the_same_taste(world: World) -> None:
    index = {a: i for i, a in enumerate(world.idents.account.tolist())}
    person, brand = [], []
    for ev in world.events.values():
        views = ev[ev["account"].notna() & (ev["event_type"] == "view")]
        person.append(world.idents.person[[index[a] for a in views["account"]]])
        brand.append(world.taste.sku_brand[views["sku"].to_numpy()])
    p, b = np.concatenate(person), np.concatenate(brand)
    keep = p < world.people.n  # fraud accounts only view what they order
    pooled, per_brand = _lift(_fans(world), p[keep], b[keep])
    assert pooled >= 2.0 and per_brand >= 2.0, (pooled, per_brand)


def test_tasted_draws_are_exact_and_walk_ins_keep_the_day_weights(world: World) -> None:
    cat, taste = world.cat, world.taste
    table, n_cat = sku_table(cat), len(CATEGORIES)
    n, day, category = 200_000, 17, int(cat.category[0])
    person = np.full(n, 5)
    sku = draw_tasted(np.random.default_rng(1), table, n_cat, taste, np.full(n, day), np.full(n, category), person)
    mine = np.flatnonzero(cat.category == category)
    expected = cat.weight[day, mine] * taste.multiplier(np.full(len(mine), 5), mine)
    seen = np.bincount(sku, minlength=cat.n)[mine] / n
    assert np.abs(seen - expected / expected.sum()).sum() / 2 < 0.01  # total variation distance
    walk = np.full(1000, -1)
    args = (table, n_cat)
    got = draw_tasted(np.random.default_rng(2), *args, taste, np.full(1000, day), np.full(1000, category), walk)
    assert np.array_equal(got, draw_skus(np.random.default_rng(2), *args, np.full(1000, day), np.full(1000, category)))


def test_manifest_records_the_planted_taste(tmp_path_factory: pytest.TempPathFactory) -> None:
    root, manifest = tiny_landing(tmp_path_factory)
    truth = manifest["truth"]["taste"]
    w = build_world(TINY)
    assert truth["strength"] == TINY.taste_strength and truth["dims"] == TASTE_DIMS
    assert [g["group"] for g in truth["groups"]] == list(range(TINY.taste_groups))
    assert sum(g["members"] for g in truth["groups"]) == TINY.customers
    assert set(truth["sku_factors"]) == set(source_rows(root, "products")["sku"]) - {""}
    assert set(truth["brand_factors"]) == set(w.taste.brands)
    sku_factors = np.array([truth["sku_factors"][s] for s in w.cat.sku])
    assert np.abs(sku_factors - w.taste.sku_factors).max() < 1e-4
    keys = manifest["truth"]["person_keys"]
    real = [k for k in keys if int(k["person_id"][1:]) <= TINY.customers]
    fraud = [k for k in keys if int(k["person_id"][1:]) > TINY.customers]
    assert real and fraud and all(k["taste_group"] is None and k["preferred_brands"] == [] for k in fraud)
    for key in real:
        person = int(key["person_id"][1:]) - 1
        assert key["taste_group"] == w.taste.group[person]
        assert np.abs(np.array(key["taste_factors"]) - w.taste.factors[person]).max() < 1e-4
        assert key["preferred_brands"] == w.taste.brands[w.taste.preferred_brands()[person]].tolist()


def test_taste_params_are_checked() -> None:
    with pytest.raises(ValueError, match="taste_strength"):
        GenerateParams(taste_strength=-1.0)
    with pytest.raises(ValueError, match="taste_groups"):
        GenerateParams(taste_groups=0)
