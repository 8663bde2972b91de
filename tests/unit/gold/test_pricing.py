from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

from jobs.common.config.gold import MarkdownRules, PriceResponseRules
from jobs.gold.pricing import markdowns, price_response

D = date.fromisoformat
START, CHANGE, AS_OF = D("2025-01-01"), D("2025-02-01"), D("2025-03-15")
PROMO = (D("2025-01-20"), D("2025-01-21"))
RULES = PriceResponseRules(
    lookback_days=74,  # 01-01 .. 03-15
    window_days=28,
    min_after_days=14,
    min_step=0.03,
    min_lines=10,
    min_changes=1,
    promo_min_discount=0.15,
)
LINES = "sku string, order_date date, quantity int, unit_price double, discount double"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _inline(spark):
    """A (toys): 10 a day at 10.00, 12 a day at 8.00 from CHANGE; two promotion days of 30 at 20% off (left out of
    the price series and the units compared). B (toys): the control, 20 a day, 10% campaign discounts on some days
    (not a promotion). C (pet): its price steps twice 10 days apart (no change isolated). Z (home): never sold."""
    rows = []
    for d in _days(START, AS_OF):
        if d in PROMO:
            rows.append(("A", d, 30, 10.0, 60.0))
        else:
            rows.append(("A", d, 10, 10.0, 0.0) if d < CHANGE else ("A", d, 12, 8.0, 0.0))
        rows.append(("B", d, 20, 5.0, 10.0 if D("2025-01-10") <= d <= D("2025-01-15") else 0.0))
        rows.append(("C", d, 3, 3.0 if D("2025-02-01") <= d < D("2025-02-11") else 4.0, 0.0))
    products = spark.createDataFrame(
        [("A", "toys"), ("B", "toys"), ("C", "pet"), ("Z", "home")], "sku string, category string"
    )
    return spark.createDataFrame(rows, LINES), products


def test_elasticity_of_an_isolated_change_against_its_category_and_the_promotion_term(spark) -> None:
    lines, products = _inline(spark)
    got = {r["category"]: r.asDict() for r in price_response(lines, products, as_of=AS_OF, rules=RULES).collect()}
    assert sorted(got) == ["home", "pet", "toys"]
    toys = got["toys"]
    # before: 26 regular days of 10 (the 2 promotion days left out), after: 28 days of 12; B flat: control ratio 1
    e = math.log(12 / 10) / math.log(0.8)
    var = (1 / 26 + 1 / 28 + 1 / 28 + 1 / 28) / math.log(0.8) ** 2
    assert (toys["price_changes"], toys["status"]) == (1, "estimated")
    assert toys["elasticity"] == round(e, 4) and toys["elasticity_se"] == round(math.sqrt(var), 4)
    # promotions: 2 SKU-days at 20% off; 60 units against A's regular rate over its 72 other days of the lookback
    regular = (31 - 2) * 10 + 12 * len(_days(CHANGE, AS_OF))
    assert (toys["promo_sku_days"], toys["promo_discount"]) == (2, 0.2)
    assert toys["promo_lift"] == round(60 / (regular / 72 * 2), 4)
    # C's two steps are 10 days apart: neither has a clean 28-day window; Z never sold
    for cat in ("pet", "home"):
        assert (got[cat]["price_changes"], got[cat]["elasticity"], got[cat]["status"]) == (
            0,
            None,
            "too_few_price_changes",
        )
        assert got[cat]["promo_sku_days"] == 0


def test_changes_need_lines_on_both_sides_a_whole_before_window_and_enough_after_days(spark) -> None:
    lines, products = _inline(spark)

    def toys(rules: PriceResponseRules, as_of: date = AS_OF) -> int:
        rows = price_response(lines, products, as_of=as_of, rules=rules).where("category = 'toys'").collect()
        return rows[0]["price_changes"]

    assert toys(replace(RULES, min_lines=27)) == 0  # 26 regular days before
    assert toys(replace(RULES, lookback_days=60)) == 0  # the before window starts before the lookback
    assert toys(RULES, as_of=CHANGE + timedelta(days=12)) == 0  # 13 days after: under min_after_days
    assert toys(RULES, as_of=CHANGE + timedelta(days=13)) == 1
    assert toys(replace(RULES, min_step=0.25)) == 0  # a 20% step
    too_few = price_response(lines, products, as_of=AS_OF, rules=replace(RULES, min_changes=2))
    assert too_few.where("category = 'toys'").first()["elasticity"] is None


MD = MarkdownRules(
    min_days_of_cover=90,
    clearance_days=60,
    max_markdown=0.5,
    step=0.05,
    default_elasticity=-1.5,
    min_elasticity=0.3,
    max_skus=10,
)
STOCK = "store_id string, sku string, on_hand int, demand_mean double, days_of_cover double"


def test_markdown_clears_a_skus_stock_in_the_clearance_days_with_its_categorys_elasticity(spark) -> None:
    stock = spark.createDataFrame(
        [
            ("S1", "A", 60, 0.5, 120.0),  # toys (-2), two stores: 120 on hand, 1 a day: twice the 60 days' demand
            ("S2", "A", 60, 0.5, 120.0),  # -> 1 - 2 ** -0.5 = 29.3% -> 30%: 58.8 days
            ("S3", "A", 0, 0.5, 0.0),  # no stock here: neither its stock nor its demand counts
            ("S1", "B", 300, 1.0, 300.0),  # toys: 5 x -> 55.3%, capped at 50%: 75 days, does not clear
            ("S2", "C", 120, 1.0, 120.0),  # pet: no usable estimate (-0.1 > -0.3) -> default -1.5: 37.0% -> 40%
            ("S2", "D", 50, 0.0, None),  # no demand: the cap, first in rank
            ("S2", "E", 50, 1.0, 50.0),  # 50 days of cover: not a slow mover
        ],
        STOCK,
    )
    response = spark.createDataFrame(
        [("toys", -2.0, "estimated"), ("pet", -0.1, "estimated")], "category string, elasticity double, status string"
    )
    products = spark.createDataFrame(
        [("A", "toys", 2.0), ("B", "toys", 1.0), ("C", "pet", 1.0), ("D", "pet", 1.0), ("E", "pet", 1.0)],
        "sku string, category string, unit_cost double",
    )
    got = {r["sku"]: r.asDict() for r in markdowns(stock, response, products, as_of=AS_OF, rules=MD).collect()}
    assert sorted(got) == ["A", "B", "C", "D"]
    a, b, c, d = (got[k] for k in "ABCD")
    assert (a["stores"], a["on_hand"], a["demand_mean"], a["days_of_cover"]) == (2, 120, 1.0, 120.0)
    assert (a["markdown"], a["elasticity"], a["elasticity_source"], a["clears"]) == (0.3, -2.0, "category", True)
    assert a["expected_days_to_clear"] == round(120 * 0.7**2, 1)
    assert (b["markdown"], b["expected_days_to_clear"], b["clears"]) == (0.5, 75.0, False)
    assert (c["markdown"], c["elasticity"], c["elasticity_source"]) == (0.4, -1.5, "default")
    assert (d["markdown"], d["days_of_cover"], d["expected_days_to_clear"], d["clears"]) == (0.5, None, None, False)
    # excess stock at cost: (on hand - 60 days of demand) x unit cost
    assert [got[k]["excess_value"] for k in "ABCD"] == [120.0, 240.0, 60.0, 50.0]
    # no demand first, then days of cover (A and C tie: the larger excess value first)
    assert [r["sku"] for r in sorted(got.values(), key=lambda r: r["rank"])] == ["D", "B", "A", "C"]
    kept = markdowns(stock, response, products, as_of=AS_OF, rules=replace(MD, max_skus=3))
    assert sorted(r["sku"] for r in kept.collect()) == ["A", "B", "D"]


def test_the_generators_planted_category_elasticities_and_promotion_uplift_are_recovered(spark, cfg) -> None:
    """A 150-day world whose categories answer price with -0.5 / -1 (inelastic) or -2.5 / -3 (elastic), 80% of its
    SKUs stepping their list price once: with the rules of conf/base.yaml each category's estimate is within 3
    standard errors of its planted value, the elastic ones well below the inelastic ones; promotions (20% off,
    planted 10 x the units) show as such."""
    from jobs.generate.assortment import CATEGORIES
    from jobs.generate.params import GenerateParams
    from jobs.generate.world import build_world
    from tests.support.world_lines import world_lines, world_products

    truth = dict(zip(CATEGORIES, (-0.5, -1.0, -2.5, -3.0, -0.5, -1.0, -2.5, -3.0), strict=True))
    params = GenerateParams(
        customers=6000,
        days=150,
        stores=4,
        skus=120,
        seed=3,
        category_elasticity=tuple(truth.items()),
        price_change_share=0.8,
    )
    w = build_world(params)
    lines, products = world_lines(spark, w), world_products(spark, w)
    last = w.cal.start + timedelta(days=params.days - 1)
    rows = price_response(lines, products, as_of=last, rules=cfg.gold.price_response).collect()
    got = {r["category"]: r for r in rows}
    assert sorted(got) == sorted(CATEGORIES)
    for cat, planted in truth.items():
        r = got[cat]
        assert r["status"] == "estimated", rows
        assert abs(r["elasticity"] - planted) <= 3 * r["elasticity_se"], rows
    mean = {k: sum(got[c]["elasticity"] for c in truth if (truth[c] < -2) == k) / 4 for k in (True, False)}
    assert mean[True] < mean[False] - 1.5, rows
    promoted = [r for r in rows if r["promo_sku_days"] > 0]
    assert promoted, rows
    for r in promoted:
        assert abs(r["promo_discount"] - 0.2) < 0.001 and 6 < r["promo_lift"] < 16, rows  # to the cent
