"""Implicit-feedback strengths from silver order lines, events and imported interactions; popularity."""

from __future__ import annotations

from datetime import date, datetime

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.ml import InteractionWeights
from ml.models.recommend.interactions import feedback_span, interactions_from_silver, popularity

AS_OF = date(2024, 5, 31)
WEIGHTS = InteractionWeights(purchase=5.0, cart=2.0, view=1.0, imported_default=0.5)


def _silver(spark):
    lines = spark.createDataFrame(
        [
            ("c1", date(2024, 5, 1), "paid", "A", 3),
            ("c1", date(2024, 5, 2), "paid", "A", 1),
            ("c1", date(2024, 5, 3), "cancelled", "B", 1),  # not a sale
            (None, date(2024, 5, 3), "paid", "B", 1),  # POS walk-in
            ("c2", date(2024, 6, 1), "paid", "B", 1),  # after as_of
        ],
        "customer_id string, order_date date, status string, sku string, quantity int",
    )
    events = spark.createDataFrame(
        [
            ("c1", date(2024, 5, 4), "view", "B"),
            ("c1", date(2024, 5, 4), "cart", "B"),
            ("c2", date(2024, 5, 4), "checkout", "B"),  # only views and carts count
            ("c2", date(2024, 5, 31), "view", "A"),
            ("c2", date(2024, 5, 31), "view", None),
        ],
        "customer_id string, event_date date, event_type string, sku string",
    )
    imported = spark.createDataFrame(
        [
            ("0042", "ítem-7", datetime(2024, 5, 31, 23, 59), 3.5),
            ("0042", "ítem-8", datetime(2024, 5, 30, 0, 0), None),
            ("0042", "ítem-9", datetime(2024, 6, 1, 0, 0), 1.0),
        ],
        "customer_id string, item_id string, interaction_ts timestamp, weight double",
    )
    return lines, events, imported


def test_interactions_weight_purchases_over_carts_and_views(spark):
    lines, events, imported = _silver(spark)
    got = interactions_from_silver(
        lines, events, imported, weights=WEIGHTS, as_of=AS_OF, excluded_statuses=("cancelled",)
    )
    expected = spark.createDataFrame(
        [
            ("c1", "A", 10.0),
            ("c1", "B", 3.0),
            ("c2", "A", 1.0),
            ("0042", "ítem-7", 3.5),
            ("0042", "ítem-8", 0.5),
        ],
        "customer_id string, item_id string, strength double",
    )
    assertDataFrameEqual(got, expected)


def test_popularity_ranks_by_strength_then_item_id(spark):
    interactions = spark.createDataFrame(
        [
            ("c1", "A", 10.0),
            ("c2", "B", 4.0),
            ("c3", "C", 4.0),
            ("c4", "D", 1.0),
            ("c5", "D", -2.0),
        ],
        "customer_id string, item_id string, strength double",
    )
    expected = spark.createDataFrame(
        [("A", 1, 10.0), ("B", 2, 4.0), ("C", 3, 4.0)], "item_id string, rank int, score double"
    )
    assertDataFrameEqual(popularity(interactions, n=3), expected)


def test_a_later_window_holds_only_the_feedback_after_since(spark):
    lines, events, imported = _silver(spark)
    got = interactions_from_silver(
        lines,
        events,
        imported,
        weights=WEIGHTS,
        as_of=date(2024, 6, 1),
        since=date(2024, 5, 30),
        excluded_statuses=("cancelled",),
    )
    expected = spark.createDataFrame(
        [("c2", "B", 5.0), ("c2", "A", 1.0), ("0042", "ítem-7", 3.5), ("0042", "ítem-9", 1.0)],
        "customer_id string, item_id string, strength double",
    )
    assertDataFrameEqual(got, expected)


def test_feedback_span_covers_every_kind_and_says_whether_anyone_bought(spark):
    lines, events, imported = _silver(spark)
    assert feedback_span(lines, events, imported, excluded_statuses=("cancelled",)) == (
        date(2024, 5, 1),
        date(2024, 6, 1),
        True,
    )
    no_lines = lines.limit(0)
    assert feedback_span(no_lines, events.limit(0), imported, excluded_statuses=()) == (
        date(2024, 5, 30),
        date(2024, 6, 1),
        False,
    )
    assert feedback_span(no_lines, events.limit(0), imported.limit(0), excluded_statuses=()) == (None, None, False)
