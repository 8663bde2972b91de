"""Bought together: recommendation candidates from the basket rules of gold (jobs.gold.baskets.top_rules).

A customer who bought every SKU of a rule's antecedent in the recent days is a candidate buyer of its consequent,
scored by the rule's confidence (the share of the orders with the antecedent that have it); when several rules point
at the same item the best one counts. `blend` puts a customer's best few of them first and fills the list from
another source (ALS, popularity): a customer without a matching rule keeps that source's list as it was.
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

CANDIDATE_COLUMNS = ("customer_id", "item_id", "score", "lift")


def together_candidates(lines: DataFrame, rules: DataFrame, *, as_of: date, recent_days: int) -> DataFrame:
    """customer_id, item_id (a rule's consequent), score (double: the highest confidence of the rules whose whole
    antecedent the customer bought in the `recent_days` to `as_of`, inclusive, pointing at item_id), lift (of that
    rule; ties: the higher lift). lines: customer_id, sku, order_date (purchases); rules: antecedent
    (array<string>), consequent, confidence, lift (at most conf gold.basket_rules.max_rules: broadcast)."""
    start = as_of - timedelta(days=recent_days - 1)
    bought = (
        lines.where(F.col("order_date").between(F.lit(start), F.lit(as_of)))
        .select(F.col("customer_id").cast("string").alias("customer_id"), "sku")
        .distinct()
    )
    parts = rules.select("antecedent", "consequent", "confidence", "lift", F.explode("antecedent").alias("sku"))
    matched = (
        bought.join(F.broadcast(parts), on="sku", how="inner")
        .groupBy("customer_id", "antecedent", "consequent", "confidence", "lift")
        .agg(F.count("*").alias("_have"))
        .where(F.col("_have") == F.size("antecedent"))
    )
    best = matched.groupBy("customer_id", "consequent").agg(F.max(F.struct("confidence", "lift")).alias("_best"))
    return best.select(
        "customer_id",
        F.col("consequent").alias("item_id"),
        F.col("_best.confidence").alias("score"),
        F.col("_best.lift").alias("lift"),
    )


def blend(
    base: DataFrame,
    together: DataFrame,
    *,
    n: int,
    slots: int,
    exclude: DataFrame | None,
    out_of_stock: DataFrame | None,
) -> DataFrame:
    """customer_id, item_id, rank (1..n), score: per customer of `together` or `base`, its `slots` best `together`
    candidates (score, then lift, then item_id) that are neither an `exclude` pair (customer_id, item_id) nor
    `out_of_stock` (item_id), then the items of `base` (another source's top n: customer_id, item_id, rank, score)
    not among them, in base's order; n in all. Scores stay each source's own (a confidence, an ALS score): compare
    ranks, not scores."""
    cand = together
    if exclude is not None:
        cand = cand.join(exclude.select("customer_id", "item_id"), on=["customer_id", "item_id"], how="left_anti")
    if out_of_stock is not None:
        cand = cand.join(out_of_stock.select("item_id"), on="item_id", how="left_anti")
    best = Window.partitionBy("customer_id").orderBy(F.col("score").desc(), F.col("lift").desc(), F.col("item_id"))
    first = (
        cand.withColumn("_at", F.row_number().over(best))
        .where(F.col("_at") <= slots)
        .select("customer_id", "item_id", "score", F.lit(0).alias("_source"), "_at")
    )
    rest = base.join(first.select("customer_id", "item_id"), on=["customer_id", "item_id"], how="left_anti").select(
        "customer_id", "item_id", "score", F.lit(1).alias("_source"), F.col("rank").alias("_at")
    )
    order = Window.partitionBy("customer_id").orderBy("_source", "_at")
    return (
        first.unionByName(rest)
        .withColumn("rank", F.row_number().over(order).cast("int"))
        .where(F.col("rank") <= n)
        .select("customer_id", "item_id", "rank", F.col("score").cast("double").alias("score"))
    )
