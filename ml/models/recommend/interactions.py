"""Implicit feedback for the recommender: weighted customer x item strengths and item popularity (pure Spark)."""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.ml import InteractionWeights
from jobs.gold.sales import sales_lines

INTERACTION_COLUMNS = ("customer_id", "item_id", "strength")
POPULARITY_COLUMNS = ("item_id", "rank", "score")


def _typed(df: DataFrame, strength: Column) -> DataFrame:
    return df.select(
        F.col("customer_id").cast("string").alias("customer_id"),
        F.col("item_id").cast("string").alias("item_id"),
        strength.cast("double").alias("strength"),
    )


def interactions_from_silver(
    order_lines: DataFrame,
    events: DataFrame,
    imported: DataFrame,
    *,
    weights: InteractionWeights,
    as_of: date,
    excluded_statuses: tuple[str, ...],
    since: date | None = None,
) -> DataFrame:
    """customer_id, item_id (= sku, or the imported item id as given), strength: summed weights up to as_of (and
    after `since`, when given: a later window's feedback).

    Purchases are silver.order_lines rows (one `purchase` weight per line, whatever the quantity, so bulk buys
    don't drown taste) that count as sales (jobs.gold.sales.sales_lines with `excluded_statuses`, conf
    gold.excluded_statuses) and have a customer and a SKU; cart and view events come
    from silver.events; silver.interactions_imported rows count with their own weight. Rows without a customer
    or item are dropped, as are pairs whose strengths sum to zero. Dates are business dates; imported
    interaction_ts is UTC (its business time zone), so its date is the UTC date.
    """
    lines = (
        purchase_lines(order_lines, excluded_statuses=excluded_statuses)
        .where(within(F.col("order_date"), as_of, since))
        .withColumn("item_id", F.col("sku"))
    )
    event_weight = F.when(F.col("event_type") == "cart", F.lit(weights.cart)).when(
        F.col("event_type") == "view", F.lit(weights.view)
    )
    evts = feedback_events(events).where(within(F.col("event_date"), as_of, since)).withColumn("item_id", F.col("sku"))
    imp = feedback_imported(imported).where(within(F.to_date("interaction_ts"), as_of, since))
    parts = (
        _typed(lines, F.lit(weights.purchase))
        .unionByName(_typed(evts, event_weight))
        .unionByName(_typed(imp, F.coalesce(F.col("weight").cast("double"), F.lit(weights.imported_default))))
    )
    return (
        parts.groupBy("customer_id", "item_id")
        .agg(F.sum("strength").alias("strength"))
        .where(F.col("strength") != 0)
        .select(*INTERACTION_COLUMNS)
    )


def within(day: Column, as_of: date, since: date | None) -> Column:
    """`day` in (since, as_of] (no lower bound when since is None)."""
    upto = day <= F.lit(as_of)
    return upto if since is None else upto & (day > F.lit(since))


def purchase_lines(order_lines: DataFrame, *, excluded_statuses: tuple[str, ...]) -> DataFrame:
    """Order lines that count as sales and have a customer and a SKU: the purchase feedback."""
    sales = sales_lines(order_lines, excluded_statuses=excluded_statuses)
    return sales.where(F.col("customer_id").isNotNull() & F.col("sku").isNotNull())


def feedback_events(events: DataFrame) -> DataFrame:
    """Cart and view events with a customer and a SKU."""
    return events.where(
        F.col("customer_id").isNotNull() & F.col("sku").isNotNull() & F.col("event_type").isin("cart", "view")
    )


def feedback_imported(imported: DataFrame) -> DataFrame:
    """Imported interactions with a customer and an item."""
    return imported.where(F.col("customer_id").isNotNull() & F.col("item_id").isNotNull())


def feedback_span(
    order_lines: DataFrame, events: DataFrame, imported: DataFrame, *, excluded_statuses: tuple[str, ...]
) -> tuple[date | None, date | None, bool]:
    """(first, last) business date of any feedback (purchases, cart/view events, imported interactions), and
    whether there is any purchase: one aggregate over the three sources' dates."""
    days = (
        purchase_lines(order_lines, excluded_statuses=excluded_statuses)
        .select(F.col("order_date").alias("day"), F.lit(True).alias("purchase"))
        .unionByName(feedback_events(events).select(F.col("event_date").alias("day"), F.lit(False).alias("purchase")))
        .unionByName(
            feedback_imported(imported).select(F.to_date("interaction_ts").alias("day"), F.lit(False).alias("purchase"))
        )
    )
    row = days.agg(F.min("day").alias("first"), F.max("day").alias("last"), F.max("purchase").alias("any")).first()
    if row is None or row["first"] is None:
        return None, None, False
    return row["first"], row["last"], bool(row["any"])


def popularity(interactions: DataFrame, *, n: int | None) -> DataFrame:
    """item_id, rank (1 = most popular), score (summed positive strength); the top n, or every item if n is None.

    Ties break on item_id, so the ranking is deterministic.
    """
    scores = interactions.groupBy("item_id").agg(F.sum(F.greatest(F.col("strength"), F.lit(0.0))).alias("score"))
    ranked = scores.withColumn("rank", F.row_number().over(Window.orderBy(F.col("score").desc(), "item_id")))
    if n is not None:
        ranked = ranked.where(F.col("rank") <= n)
    return ranked.select("item_id", F.col("rank").cast("int").alias("rank"), "score")
