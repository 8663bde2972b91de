"""A grocery-like store x SKU daily panel: intermittent, erratic, wandering, priced (a fixture, generated).

tests.support.demand_sim is smooth (Poisson around a few units a day); real grocery logs are not, and a model
that only ever saw the smooth panel says little about them. The shapes planted here, and what they measure
(stores=2, skus=800, days=730, seed=11: 1.17M rows, generated in about 1 s):

- levels: lognormal SKU popularity times store and store x SKU factors, so slow movers dominate and a few SKUs
  sell tens a day. Mean units/day per series: p10 0.08, p25 0.19, median 0.45, p75 1.2, p90 2.9, p99 12,
  max 81. Zero days: 69% of all series-days; the median series has 77% zero days.
- erratic sizes: a day's demand is compound: Poisson occurrences (baskets) of 1 + a negative binomial
  (geometric-like, per-SKU mean basket size) units each. Variance/mean of a series' known days: p10 1.7, median
  2.5, p90 4.7.
- calendar: a weekday profile per category (weekend peaks of different strength: Saturday/Tuesday 1.4 for dairy,
  3.3 for snacks) times a mild yearly cosine (+-5..20%).
- wandering levels: an AR(1) on the log level (half-life 120 days) plus rare permanent level shifts, so recent
  weeks say more than last year: predicting the next 28 days' planted demand per series from the mean of the
  last 91 known days is off by 34% (WAPE), from all 702 days by 44%.
- price: a list price per SKU that changes about once a year (mostly up; 85% of SKUs change in two years),
  demand responding with elasticity -1.5; chain-wide promotions (15-30% off, 7-14 days, 60% of SKUs) with a
  steeper promo elasticity (-3: stock-up and switching), `promo` set on those days (9.5% of series-days, 20%
  of the planted demand). `price` is the day's price, `list_price` the regular price.
- stock-outs: runs of 1-7 days (about 3 a year per series, 3.1% of series-days) with stockout=True and units=0
  (demand unknown).
- life cycle: 5% of SKUs launch late and 3% are discontinued; their rows exist with units 0 and expected 0
  outside their life (so every panel has stores x skus x days rows).

`expected` is the planted mean demand of the day (given the level path, price and promo): what a perfect mean
forecast would say; it is the demand even on stock-out days.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy.signal import lfilter

YEAR = 365.25
CATEGORIES = ("bakery", "dairy", "produce", "snacks", "household")
# weekday multipliers Mon..Sun per category (normalized to mean 1 below): weekend peaks of different strength
WEEKLY = np.array(
    [
        [0.8, 0.8, 0.8, 0.9, 1.1, 1.6, 1.5],
        [1.0, 0.9, 0.9, 1.0, 1.1, 1.3, 0.9],
        [0.9, 0.8, 0.9, 1.0, 1.2, 1.5, 1.0],
        [0.6, 0.6, 0.7, 0.8, 1.3, 2.0, 2.0],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 0.8],
    ]
)
YEARLY_AMPLITUDE = np.array([0.10, 0.05, 0.20, 0.15, 0.05])  # mild: +-5..20% around the year
YEARLY_PEAK_DOY = np.array([350, 200, 190, 355, 100])  # day of year of each category's high

SKU_MEDIAN_RATE = 0.3  # units/day of the median SKU in an average store
SKU_SIGMA = 1.3  # log-sd of SKU popularity: the heavy tail (many slow movers, a few fast ones)
STORE_SIGMA = 0.3  # log-sd of store size
PAIR_SIGMA = 0.4  # log-sd of a SKU's fit to a store
WANDER_HALF_LIFE = 120.0  # days: AR(1) persistence of the log level
WANDER_SD = 0.45  # stationary log-sd of the wandering level
SHIFTS_PER_YEAR = 0.4  # permanent level shifts per series and year
SHIFT_SD = 0.4  # log-size of a level shift

BASKET_EXTRA_MEDIAN = 0.6  # median over SKUs of the mean extra units per basket (basket size 1 + extra)
BASKET_EXTRA_SIGMA = 0.6  # log-sd of that mean over SKUs
BASKET_DISPERSION = 1.0  # negative binomial r of the extra units (1 = geometric)

LIST_PRICE_RANGE = (0.8, 15.0)  # initial regular prices
PRICE_CHANGES_PER_YEAR = 1.0
PRICE_CHANGE_MEAN, PRICE_CHANGE_SD = 0.04, 0.08  # log-change of a permanent price change: mostly increases
ELASTICITY = -1.5  # demand response to the regular price relative to its first value
PROMO_SKU_SHARE = 0.6  # SKUs that are ever promoted
PROMOS_PER_YEAR = 6.0  # promotion runs per promoted SKU and year
PROMO_DAYS = (7, 14)  # run length range (inclusive)
PROMO_DEPTH = (0.15, 0.30)  # price cut range
PROMO_ELASTICITY = -3.0  # temporary cuts move more than permanent ones

STOCKOUTS_PER_YEAR = 3.0  # stock-out runs per series and year
STOCKOUT_DAYS = (1, 7)
LAUNCH_SHARE, LAUNCH_SPAN = 0.05, (0.1, 0.6)  # SKUs launched late, launch day as a share of the panel
DISCONTINUE_SHARE, DISCONTINUE_SPAN = 0.03, (0.5, 0.95)


def _runs(
    rng: np.random.Generator, shape: tuple[int, ...], per_year: float, length: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Runs of days along the last axis starting at Poisson-like rate `per_year`: (active mask, start day of the
    run active on each day, -1 before any). A day is in a run when the furthest end of the runs started on or
    before it lies after it: a running maximum, so no loop over runs."""
    days = shape[-1]
    t = np.arange(days)
    starts = rng.random(shape) < per_year / YEAR
    ends = np.where(starts, t + rng.integers(length[0], length[1] + 1, size=shape), 0)
    active = t < np.maximum.accumulate(ends, axis=-1)
    latest = np.maximum.accumulate(np.where(starts, t, -1), axis=-1)
    return active, latest


def _log_levels(rng: np.random.Generator, stores: int, skus: int, days: int) -> np.ndarray:
    """(stores, skus, days) log mean units/day before calendar and price: static lognormal spread plus an AR(1)
    wander (started from its stationary law) plus cumulated rare shifts."""
    static = (
        np.log(SKU_MEDIAN_RATE)
        + SKU_SIGMA * rng.standard_normal(skus)[None, :]
        + STORE_SIGMA * rng.standard_normal(stores)[:, None]
        + PAIR_SIGMA * rng.standard_normal((stores, skus))
    )
    phi = 0.5 ** (1.0 / WANDER_HALF_LIFE)
    innovations = rng.standard_normal((stores, skus, days)) * WANDER_SD * np.sqrt(1.0 - phi**2)
    innovations[..., 0] = rng.standard_normal((stores, skus)) * WANDER_SD
    wander = lfilter([1.0], [1.0, -phi], innovations, axis=-1)
    shifts = np.where(
        rng.random((stores, skus, days)) < SHIFTS_PER_YEAR / YEAR, rng.normal(0.0, SHIFT_SD, (stores, skus, days)), 0
    ).cumsum(axis=-1)
    return static[..., None] + wander + shifts


def _prices(rng: np.random.Generator, skus: int, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(skus, days) regular price, day price and promo flag; promotions are chain-wide (every store)."""
    first = rng.uniform(*LIST_PRICE_RANGE, size=skus)
    changes = rng.random((skus, days)) < PRICE_CHANGES_PER_YEAR / YEAR
    changes[:, 0] = False
    steps = np.where(changes, rng.normal(PRICE_CHANGE_MEAN, PRICE_CHANGE_SD, (skus, days)), 0.0)
    list_price = np.round(first[:, None] * np.exp(steps.cumsum(axis=1)), 2)
    promo, latest = _runs(rng, (skus, days), PROMOS_PER_YEAR, PROMO_DAYS)
    promo &= (rng.random(skus) < PROMO_SKU_SHARE)[:, None]
    depth = rng.uniform(*PROMO_DEPTH, size=(skus, days))
    run_depth = np.take_along_axis(depth, np.maximum(latest, 0), axis=1)
    price = np.where(promo, np.round(list_price * (1.0 - run_depth), 2), list_price)
    return list_price, price, promo


def _compound_units(rng: np.random.Generator, expected: np.ndarray, extra_mean: np.ndarray) -> np.ndarray:
    """Units with mean `expected`: Poisson baskets, each 1 + NB(r, p) units; the extras of n baskets are one
    NB(n r, p) draw. `extra_mean` broadcasts against `expected` (per SKU)."""
    extra_mean = np.broadcast_to(extra_mean, expected.shape)
    baskets = rng.poisson(expected / (1.0 + extra_mean))
    units = baskets.astype(float)
    some = baskets > 0
    p = BASKET_DISPERSION / (BASKET_DISPERSION + extra_mean[some])
    units[some] += rng.negative_binomial(baskets[some] * BASKET_DISPERSION, p)
    return units


def _life(rng: np.random.Generator, skus: int, days: int) -> np.ndarray:
    """(skus, days) True while a SKU is on sale: a few launch late, a few are discontinued."""
    t = np.arange(days)
    launch = np.where(rng.random(skus) < LAUNCH_SHARE, (rng.uniform(*LAUNCH_SPAN, skus) * days).astype(int), 0)
    end = np.where(rng.random(skus) < DISCONTINUE_SHARE, (rng.uniform(*DISCONTINUE_SPAN, skus) * days), days)
    return (t >= launch[:, None]) & (t < end.astype(int)[:, None])


def simulate_intermittent(
    *, stores: int = 2, skus: int = 60, days: int = 3 * 365, start: date = date(2023, 1, 2), seed: int = 11
) -> pd.DataFrame:
    """One row per store x SKU x day (store, then SKU, then date order) with the shapes of the module docstring:
    store_id, sku, category, date, units, stockout, promo, price, list_price, expected. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    cat = np.arange(skus) % len(CATEGORIES)
    calendar = np.datetime64(start, "D") + np.arange(days)
    dow = (start.weekday() + np.arange(days)) % 7
    doy = (calendar - calendar.astype("datetime64[Y]")).astype(int)
    weekly = (WEEKLY / WEEKLY.mean(axis=1, keepdims=True))[cat][:, dow]
    yearly = 1.0 + YEARLY_AMPLITUDE[cat, None] * np.cos(2 * np.pi * (doy[None, :] - YEARLY_PEAK_DOY[cat, None]) / YEAR)
    list_price, price, promo = _prices(rng, skus, days)
    life = _life(rng, skus, days)
    price_effect = (list_price / list_price[:, :1]) ** ELASTICITY * (price / list_price) ** PROMO_ELASTICITY
    sku_effect = weekly * yearly * life * price_effect
    expected = np.exp(_log_levels(rng, stores, skus, days)) * sku_effect[None]
    extra_mean = np.exp(np.log(BASKET_EXTRA_MEDIAN) + BASKET_EXTRA_SIGMA * rng.standard_normal(skus))
    units = _compound_units(rng, expected, extra_mean[None, :, None])
    stockout = _runs(rng, (stores, skus, days), STOCKOUTS_PER_YEAR, STOCKOUT_DAYS)[0] & life[None]
    units[stockout] = 0.0
    series = stores * skus
    day_dates = np.array([start + timedelta(days=d) for d in range(days)], dtype=object)
    store_names = np.array([f"S{i + 1:02d}" for i in range(stores)], dtype=object)
    sku_names = np.array([f"SKU{i + 1:04d}" for i in range(skus)], dtype=object)
    return pd.DataFrame(
        {
            "store_id": np.repeat(store_names, skus * days),
            "sku": np.tile(np.repeat(sku_names, days), stores),
            "category": np.tile(np.repeat(np.array(CATEGORIES, dtype=object)[cat], days), stores),
            "date": np.tile(day_dates, series),
            "units": units.ravel(),
            "stockout": stockout.ravel(),
            "promo": np.tile(promo.ravel(), stores),
            "price": np.tile(price.ravel(), stores),
            "list_price": np.tile(list_price.ravel(), stores),
            "expected": expected.ravel(),
        }
    )
