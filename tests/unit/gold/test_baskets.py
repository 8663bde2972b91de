from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import BasketRules
from jobs.gold.baskets import basket_rules, order_baskets
from jobs.io.schemas import ddl

D = date.fromisoformat
AS_OF = D("2025-03-10")  # window 03-01 .. 03-10
# 10 orders in the window: A 5, B 5, C 4, D 3, E 1; AB 4, AC 2, BC 2, ABC 2, CD 2
BASKETS = ["ABC", "ABC", "AB", "AB", "A", "B", "CD", "CD", "D", "E"]
RULES = BasketRules(window_days=10, min_support=0.2, min_orders=2, min_confidence=0.5, min_lift=1.2, max_rules=5)


def _lines(baskets: list[str] = BASKETS, day: str = "2025-03-05", first: int = 0) -> list[dict]:
    return [
        dict(channel="web", order_id=f"O{first + i}", line_no=n, order_date=D(day), sku=s)
        for i, basket in enumerate(baskets)
        for n, s in enumerate(basket, start=1)
    ]


def _frame(silver, rows):
    return silver("silver.order_lines", rows)


def _products(silver):
    return silver("silver.products", [{"sku": "B", "category": "toys", "brand": "Y"}, {"sku": "C", "category": "pet"}])


def test_support_confidence_lift_thresholds_and_the_cap(spark, silver) -> None:
    """Every rule with confidence >= 0.5 and lift >= 1.2 (A -> C, B -> C: confidence 0.4; C -> A, C -> B: lift 1.0
    are out), by lift, then confidence, orders, antecedent: the first 5 of 7 (B -> A and AB -> C are cut)."""
    got = basket_rules(_frame(silver, _lines()), _products(silver), as_of=AS_OF, rules=RULES)
    expected = spark.createDataFrame(
        [
            # rank, antecedent, consequent, category, brand, orders, antecedent, consequent, window, support, conf, lift
            (1, ["A", "C"], "B", "toys", "Y", 2, 2, 5, 10, 0.2, 1.0, 2.0),  # 1.0 / (5 / 10)
            (2, ["B", "C"], "A", "unknown", "unknown", 2, 2, 5, 10, 0.2, 1.0, 2.0),
            (3, ["D"], "C", "pet", "unknown", 2, 3, 4, 10, 0.2, 0.6667, 1.6667),  # (2 / 3) / (4 / 10)
            (4, ["C"], "D", "unknown", "unknown", 2, 4, 3, 10, 0.2, 0.5, 1.6667),  # the same lift, lower confidence
            (5, ["A"], "B", "toys", "Y", 4, 5, 5, 10, 0.4, 0.8, 1.6),
        ],
        ddl("gold.basket_rules").replace("as_of date, ", ""),
    )
    assertDataFrameEqual(got.drop("as_of"), expected, checkRowOrder=False)
    assert {r["as_of"] for r in got.collect()} == {AS_OF}
    assert got.schema.simpleString() == spark.createDataFrame([], ddl("gold.basket_rules")).schema.simpleString()


def test_min_orders_and_the_window(spark, silver) -> None:
    """With 3 orders needed only A -> B and B -> A stay. Orders dated before the window or after as_of, and lines
    without a SKU, are no baskets; a SKU twice in an order counts once."""
    rows = _lines()
    rows += _lines(["CD"] * 5, day="2025-02-28", first=100)  # the day before the window
    rows += _lines(["CD"] * 5, day="2025-03-11", first=200)  # after as_of
    rows += [dict(channel="pos", order_id="P1", line_no=1, order_date=D("2025-03-02"), sku=None)]
    rows += [dict(channel="web", order_id="O4", line_no=9, order_date=D("2025-03-05"), sku="A")]  # A again
    lines = _frame(silver, rows)
    baskets = order_baskets(lines, as_of=AS_OF, window_days=10)
    assert baskets.count() == 10 and baskets.where("order_id = 'O4'").first()["items"] == ["A"]
    got = basket_rules(lines, _products(silver), as_of=AS_OF, rules=replace(RULES, min_orders=3))
    assert [(r["rank"], r["antecedent"], r["consequent"], r["orders"]) for r in got.orderBy("rank").collect()] == [
        (1, ["A"], "B", 4),
        (2, ["B"], "A", 4),
    ]


def test_the_rules_do_not_depend_on_row_order_or_partitioning_and_no_orders_give_none(spark, silver) -> None:
    lines = _frame(silver, _lines())
    products = _products(silver)
    once = basket_rules(lines, products, as_of=AS_OF, rules=RULES)
    shuffled = lines.orderBy("sku", "order_id").repartition(3, "sku")
    assertDataFrameEqual(basket_rules(shuffled, products, as_of=AS_OF, rules=RULES), once, checkRowOrder=False)
    assert basket_rules(lines, products, as_of=AS_OF + timedelta(days=30), rules=RULES).count() == 0


def test_the_generators_planted_pairs_are_found_with_the_conf_rules(spark, cfg) -> None:
    """A 90-day world plants basket_pairs pairs (an order with A gets B with probability 0.5, where B is sold);
    with the rules of conf/base.yaml each is found as the rule [A] -> B, far above the minimum lift. (Other pairs
    may be found too: shoppers of one taste group buy alike.)"""
    from jobs.generate.params import GenerateParams
    from jobs.generate.world import build_world
    from tests.support.world_lines import world_lines

    w = build_world(GenerateParams(customers=800, days=90, stores=4, skus=60, seed=3, basket_pairs=3))
    planted = {(str(w.cat.sku[p.antecedent]), str(w.cat.sku[p.consequent])) for p in w.cat.pairs}
    assert len(planted) == w.params.basket_pairs == 3
    frame = world_lines(spark, w)
    products = spark.createDataFrame([], "sku string, category string, brand string")
    last = w.cal.start + timedelta(days=w.params.days - 1)
    found = basket_rules(frame, products, as_of=last, rules=cfg.gold.basket_rules).where("size(antecedent) = 1")
    lifts = {(r["antecedent"][0], r["consequent"]): r["lift"] for r in found.collect()}
    assert {p: lifts.get(p, 0.0) >= 2 * cfg.gold.basket_rules.min_lift for p in planted} == dict.fromkeys(planted, True)
