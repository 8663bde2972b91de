"""The planted bought-together pairs: on plain SKUs, added with their probability, nothing else moved, in the truth."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from jobs.generate import GenerateParams
from jobs.generate.world import World, build_world

from ._landing import TINY, tiny_landing

PARAMS = GenerateParams(customers=800, days=90, stores=4, skus=60, seed=3, basket_pairs=3)


@pytest.fixture(scope="module")
def worlds() -> tuple[World, World]:
    """The same world with and without its pairs (simulated without writing files)."""
    return build_world(PARAMS), build_world(replace(PARAMS, basket_pairs=0))


def test_pairs_are_plain_popular_skus_and_the_rest_of_the_baskets_stays(worlds: tuple[World, World]) -> None:
    """Every line of the world without pairs is the same line (order, number, SKU, units, price) in the one with
    them; the only other lines are a unit of a pair's consequent, last in an order with its antecedent."""
    w, plain = worlds
    cat = w.cat
    a, b = np.array([p.antecedent for p in cat.pairs]), np.array([p.consequent for p in cat.pairs])
    assert len(cat.pairs) == 3 and plain.cat.pairs == [] and len(set(a) | set(b)) == 6
    unfit = cat.slow.copy()
    unfit[[t.sku for t in cat.trends]] = True
    for promo in cat.promos:
        unfit[promo.skus] = True
    assert not unfit[a].any() and not unfit[b].any()
    assert w.orders.equals(plain.orders)
    key = ["order", "line_no"]
    merged = w.lines.merge(plain.lines, on=key, how="left", suffixes=("", "_plain"), indicator=True)
    kept = merged[merged["_merge"] == "both"]
    for col in ("sku", "qty", "price", "discount"):
        assert (kept[col] == kept[f"{col}_plain"]).all(), col
    assert len(kept) == len(plain.lines)
    added = merged[merged["_merge"] == "left_only"]
    assert len(added) > 0 and (added["qty"] == 1).all() and added["sku"].isin(b).all()
    pair_of = dict(zip(b.tolist(), a.tolist(), strict=True))
    skus = w.lines.groupby("order")["sku"].apply(set)
    assert all(pair_of[s] in skus[o] for o, s in zip(added["order"], added["sku"], strict=True))


def test_an_online_order_with_the_antecedent_gets_the_consequent_with_the_planted_probability(
    worlds: tuple[World, World],
) -> None:
    """Online every order can take it (a store's only where it is stocked): the share of online orders with A that
    have B is p, plus the few that had B anyway, within 4 standard errors."""
    w, _ = worlds
    order, sku = w.lines["order"].to_numpy(), w.lines["sku"].to_numpy()
    online = w.orders["store"].to_numpy() < 0
    for pair in w.cat.pairs:
        with_a = np.unique(order[(sku == pair.antecedent) & online[order]])
        share = np.isin(with_a, order[sku == pair.consequent]).mean()
        error = 4 * np.sqrt(pair.probability * (1 - pair.probability) / len(with_a))
        assert len(with_a) >= 30 and pair.probability - error < share < pair.probability + error + 0.05, share


def test_manifest_records_the_pairs(tmp_path_factory: pytest.TempPathFactory) -> None:
    _, manifest = tiny_landing(tmp_path_factory)
    w = build_world(TINY)
    assert manifest["truth"]["basket_pairs"] == [
        {"antecedent": w.cat.sku[p.antecedent], "consequent": w.cat.sku[p.consequent], "probability": 0.5}
        for p in w.cat.pairs
    ]
    assert len(manifest["truth"]["basket_pairs"]) == TINY.basket_pairs
    assert build_world(GenerateParams(customers=5, days=3, stores=1, skus=3)).cat.pairs == []  # 2 of 3 are slow


def test_pair_params_are_checked() -> None:
    with pytest.raises(ValueError, match="basket_pairs"):
        GenerateParams(basket_pairs=-1)
    with pytest.raises(ValueError, match="basket_pair_probability"):
        GenerateParams(basket_pair_probability=0.0)
