"""The intermittent retail fixture has the shapes it promises: mostly zero days, compound sizes, weekly profiles,
price changes and promotions, stock-outs, and its planted mean is the mean of what it draws."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tests.support.retail_shapes import CATEGORIES, PROMO_DEPTH, simulate_intermittent

COLUMNS = ["store_id", "sku", "category", "date", "units", "stockout", "promo", "price", "list_price", "expected"]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_intermittent()


def _zero_share(panel: pd.DataFrame) -> pd.Series:
    return panel["units"].eq(0).groupby([panel["store_id"], panel["sku"]]).mean()


def test_one_row_per_store_sku_day_with_typed_columns() -> None:
    small = simulate_intermittent(stores=3, skus=7, days=20, start=date(2024, 3, 4))
    assert list(small.columns) == COLUMNS
    assert len(small) == 3 * 7 * 20
    assert not small.duplicated(["store_id", "sku", "date"]).any()
    assert sorted(small["store_id"].unique()) == ["S01", "S02", "S03"]
    assert sorted(small["sku"].unique()) == [f"SKU{i:04d}" for i in range(1, 8)]
    assert set(small["category"]) <= set(CATEGORIES)
    assert small["date"].map(type).eq(date).all()
    assert (small["date"].min(), small["date"].max()) == (date(2024, 3, 4), date(2024, 3, 23))
    assert small["stockout"].dtype == bool and small["promo"].dtype == bool


def test_units_are_non_negative_counts_and_stockout_days_are_zero(panel: pd.DataFrame) -> None:
    units = panel["units"].to_numpy()
    assert (units >= 0).all() and (units == np.round(units)).all()
    assert panel["stockout"].any()
    assert panel.loc[panel["stockout"], "units"].eq(0).all()


def test_mostly_zero_days_overall_and_for_the_median_series(panel: pd.DataFrame) -> None:
    assert panel["units"].eq(0).mean() > 0.6
    assert _zero_share(panel).median() > 0.6


def test_levels_are_heavy_tailed(panel: pd.DataFrame) -> None:
    means = panel.groupby(["store_id", "sku"])["units"].mean()
    assert means.median() < 1.0
    assert means.max() > 10 * means.median()


def test_sizes_are_overdispersed_where_series_sell_often(panel: pd.DataFrame) -> None:
    known = panel.loc[~panel["stockout"]]
    units = known.groupby(["store_id", "sku"])["units"]
    ratio = (units.var() / units.mean())[_zero_share(panel) < 0.6]
    assert len(ratio) >= 10
    assert (ratio > 1.5).mean() >= 0.9 and ratio.median() > 2.0


def test_weekday_profile_differs_by_category(panel: pd.DataFrame) -> None:
    known = panel.loc[~panel["stockout"]]
    weekday = pd.to_datetime(known["date"]).dt.dayofweek
    by_day = known.groupby([known["category"], weekday])["units"].mean().unstack()
    saturday_over_tuesday = by_day[5] / by_day[1]
    assert (saturday_over_tuesday > 1.2).all()
    assert saturday_over_tuesday["snacks"] > saturday_over_tuesday["dairy"] + 1.0


def test_regular_prices_change_and_promotions_cut_them(panel: pd.DataFrame) -> None:
    one_store = panel.loc[panel["store_id"] == "S01"]
    assert one_store.groupby("sku")["list_price"].nunique().gt(1).mean() > 0.5
    regular = one_store.loc[~one_store["promo"]]
    assert (regular["price"] == regular["list_price"]).all()
    promo = one_store.loc[one_store["promo"]]
    cut = 1.0 - promo["price"] / promo["list_price"]
    assert len(promo) > 0
    assert cut.between(PROMO_DEPTH[0] - 0.01, PROMO_DEPTH[1] + 0.01).all()
    # promotions are chain-wide: every store has the same promo days and prices
    plan = ["sku", "date", "promo", "price", "list_price"]
    other = panel.loc[panel["store_id"] == "S02", plan].reset_index(drop=True)
    pd.testing.assert_frame_equal(one_store.loc[:, plan].reset_index(drop=True), other)


def test_expected_is_the_mean_of_the_drawn_units(panel: pd.DataFrame) -> None:
    known = panel.loc[~panel["stockout"]]
    assert known["units"].sum() == pytest.approx(known["expected"].sum(), rel=0.03)
    on_promo = known.groupby("promo")[["units", "expected"]].sum()
    assert on_promo.loc[True, "units"] == pytest.approx(on_promo.loc[True, "expected"], rel=0.1)


def test_deterministic_for_a_seed() -> None:
    first = simulate_intermittent(skus=10, days=60, seed=5)
    pd.testing.assert_frame_equal(first, simulate_intermittent(skus=10, days=60, seed=5))
    assert not first["units"].equals(simulate_intermittent(skus=10, days=60, seed=6)["units"])
