"""Personal item taste: latent factors shared by taste groups of people with similar category taste.

Persons and SKUs get TASTE_DIMS latent factors; a person's choice weight of a SKU (within the category they shop)
is the day's demand weight x exp(strength * <person, sku>). A SKU's factors are half its brand's, half its own,
so taste shows as brand preference too. A person joins one of `taste_groups` groups (each anchored on a category)
with probability proportional to their taste for the anchor category, and their factors are the group's centre
plus a little personal noise: people who like the same categories share item taste, a low-rank signal below
category level that collaborative filtering can learn. Walk-ins (person < 0) keep the plain demand weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .assortment import CATEGORIES, Assortment
from .params import GenerateParams
from .people import People
from .util import rng_for

TASTE_DIMS = 4
PERSON_NOISE = 0.3  # personal deviation from the group centre (the centre has norm 1)
PREFERRED_BRANDS = 2  # brands per person recorded as preferred (highest brand affinity)


@dataclass
class Taste:
    """Latent taste factors and the choice weight multipliers they imply."""

    strength: float
    brands: np.ndarray  # brand names; a brand index is a position here
    sku_brand: np.ndarray  # (skus,) brand index
    anchor: np.ndarray  # (groups,) category a group's members tend to like
    centre: np.ndarray  # (groups, dims) unit vectors
    brand_factors: np.ndarray  # (brands, dims)
    sku_factors: np.ndarray  # (skus, dims)
    group: np.ndarray  # (persons,) taste group
    factors: np.ndarray  # (persons, dims)
    cap: np.ndarray  # (persons, categories) the highest multiplier of the person in the category

    def multiplier(self, person: np.ndarray, sku: np.ndarray) -> np.ndarray:
        """Choice weight multiplier exp(strength * <person, sku>) of each (person, sku) row (persons >= 0)."""
        return np.exp(self.strength * np.einsum("ij,ij->i", self.factors[person], self.sku_factors[sku]))

    def preferred_brands(self) -> np.ndarray:
        """(persons, PREFERRED_BRANDS) brand indices with the highest affinity, best first."""
        affinity = self.factors @ self.brand_factors.T
        return np.argsort(-affinity, axis=1, kind="stable")[:, :PREFERRED_BRANDS]


def build_taste(params: GenerateParams, people: People, cat: Assortment) -> Taste:
    """Taste groups, person and SKU factors (own random stream: no other component shifts)."""
    rng = rng_for(params.seed, "taste")
    n_cat = len(CATEGORIES)
    brands, sku_brand = np.unique(cat.brand.astype(str), return_inverse=True)
    n_groups = params.taste_groups
    anchor = np.arange(n_groups) % n_cat
    centre = _unit(rng.normal(size=(n_groups, TASTE_DIMS)))
    brand_factors = rng.normal(size=(len(brands), TASTE_DIMS)) / np.sqrt(TASTE_DIMS)
    own = rng.normal(size=(cat.n, TASTE_DIMS)) / np.sqrt(TASTE_DIMS)
    sku_factors = (brand_factors[sku_brand] + own) / np.sqrt(2.0)
    cum = np.cumsum(people.cat_pref[:, anchor], axis=1)
    group = np.minimum((rng.random(people.n)[:, None] * cum[:, -1:] >= cum).sum(axis=1), n_groups - 1)
    noise = rng.normal(size=(people.n, TASTE_DIMS)) * PERSON_NOISE / np.sqrt(TASTE_DIMS)
    factors = _unit(centre[group] + noise)
    best = np.stack([_best(factors, sku_factors[cat.category == c]) for c in range(n_cat)], axis=1)
    return Taste(
        strength=params.taste_strength,
        brands=brands.astype(object),
        sku_brand=sku_brand,
        anchor=anchor,
        centre=centre,
        brand_factors=brand_factors,
        sku_factors=sku_factors,
        group=group,
        factors=factors,
        cap=np.exp(params.taste_strength * best),
    )


def _best(factors: np.ndarray, skus: np.ndarray) -> np.ndarray:
    """Each person's highest affinity among the SKUs (0 for a category without SKUs: nobody shops it)."""
    return (factors @ skus.T).max(axis=1) if len(skus) else np.zeros(len(factors))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def person_categories(rng: np.random.Generator, cat_pref: np.ndarray, person: np.ndarray) -> np.ndarray:
    """One category per row from the person's category taste (a flat search: no rows x categories matrix)."""
    n_cat = cat_pref.shape[1]
    cum = np.cumsum(cat_pref, axis=1)
    cum = cum / cum[:, -1:]
    cum[:, -1] = 1.0
    grid = (np.arange(len(cat_pref))[:, None] + cum).ravel()
    u = rng.random(len(person)) * (1 - 1e-9)
    pos = np.searchsorted(grid, person + u, side="right")
    return np.minimum(pos - person * n_cat, n_cat - 1)
