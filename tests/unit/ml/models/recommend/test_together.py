"""Bought-together candidates: rules matched on a customer's recent purchases, blended ahead of another source."""

from __future__ import annotations

from datetime import date

from pyspark.testing import assertDataFrameEqual

from ml.models.recommend.together import blend, together_candidates

D = date.fromisoformat
AS_OF = D("2025-03-31")  # recent_days 30: purchases of 03-02 .. 03-31
RULES = [  # antecedent, consequent, confidence, lift
    (["A"], "B", 0.6, 5.0),
    (["A"], "C", 0.3, 8.0),
    (["A", "D"], "E", 0.9, 10.0),
    (["F"], "B", 0.7, 2.0),
    (["G"], "B", 0.7, 3.0),  # the same confidence as F -> B, a higher lift
    (["F"], "H", 0.5, 4.0),
    (["F"], "J", 0.5, 6.0),
]
LINES = [  # customer, sku, date
    ("c1", "A", "2025-03-20"),
    ("c1", "D", "2025-03-01"),  # before the recent days: [A, D] -> E does not match
    ("c2", "A", "2025-03-25"),
    ("c2", "A", "2025-03-26"),  # twice: still one SKU of the antecedent
    ("c2", "D", "2025-03-25"),
    ("c2", "F", "2025-03-30"),
    ("c2", "G", "2025-03-31"),
    ("c3", "D", "2025-03-10"),  # D alone is no antecedent
    ("c4", "A", "2025-04-01"),  # after as_of
]


def _candidates(spark):
    rules = spark.createDataFrame(RULES, "antecedent array<string>, consequent string, confidence double, lift double")
    lines = spark.createDataFrame(
        [(c, s, D(d)) for c, s, d in LINES], "customer_id string, sku string, order_date date"
    )
    return together_candidates(lines, rules, as_of=AS_OF, recent_days=30)


def test_candidates_are_the_consequents_of_the_rules_a_customer_bought_the_whole_antecedent_of(spark) -> None:
    expected = spark.createDataFrame(
        [
            ("c1", "B", 0.6, 5.0),
            ("c1", "C", 0.3, 8.0),
            ("c2", "B", 0.7, 3.0),  # the best of A -> B, F -> B and G -> B
            ("c2", "C", 0.3, 8.0),
            ("c2", "E", 0.9, 10.0),
            ("c2", "H", 0.5, 4.0),
            ("c2", "J", 0.5, 6.0),
        ],
        "customer_id string, item_id string, score double, lift double",
    )
    assertDataFrameEqual(_candidates(spark), expected)


def test_blend_puts_the_best_unseen_in_stock_candidates_first_and_fills_from_the_other_source(spark) -> None:
    """slots 2, n 4: c1's B (C is out of stock) then its ALS items without B; c2's E is seen, so B and J (the higher
    lift of the two at 0.5) lead; c5 has no candidate and keeps its list."""
    base = spark.createDataFrame(
        [
            ("c1", "X1", 1, 0.9),
            ("c1", "B", 2, 0.8),
            ("c1", "X3", 3, 0.7),
            ("c1", "X4", 4, 0.6),
            ("c2", "Y1", 1, 0.5),
            ("c2", "Y2", 2, 0.4),
            ("c2", "Y3", 3, 0.3),
            ("c5", "Z1", 1, 0.2),
            ("c5", "Z2", 2, 0.1),
        ],
        "customer_id string, item_id string, rank int, score double",
    )
    seen = spark.createDataFrame([("c2", "E")], "customer_id string, item_id string")
    out_of_stock = spark.createDataFrame([("C",)], "item_id string")
    got = blend(base, _candidates(spark), n=4, slots=2, exclude=seen, out_of_stock=out_of_stock)
    expected = spark.createDataFrame(
        [
            ("c1", "B", 1, 0.6),
            ("c1", "X1", 2, 0.9),
            ("c1", "X3", 3, 0.7),
            ("c1", "X4", 4, 0.6),
            ("c2", "B", 1, 0.7),
            ("c2", "J", 2, 0.5),
            ("c2", "Y1", 3, 0.5),
            ("c2", "Y2", 4, 0.4),
            ("c5", "Z1", 1, 0.2),
            ("c5", "Z2", 2, 0.1),
        ],
        "customer_id string, item_id string, rank int, score double",
    )
    assertDataFrameEqual(got, expected)
