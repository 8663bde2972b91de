"""Offline ranking metrics of top-k recommendations against what customers bought in a later window."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def evaluate(recs: DataFrame, future_purchases: DataFrame, *, k: int = 10, catalog_size: int) -> dict[str, float]:
    """precision@k, recall@k, ndcg@k (binary relevance), hit rate@k, coverage and users.

    Averaged over customers who have recommendations and bought something in the window (customer_id,
    item_id of `future_purchases`, deduplicated). precision = hits / k; recall = hits / distinct items bought;
    ndcg = DCG / ideal DCG with log2(rank + 1) discounts; hit rate = share of them with at least one hit;
    coverage = distinct recommended items (rank <= k) / catalog_size, over all customers in `recs`.
    """
    if k < 1 or catalog_size < 1:
        raise ValueError("k and catalog_size must be >= 1")
    top = recs.where(F.col("rank") <= k).select("customer_id", "item_id", "rank")
    truth = future_purchases.select("customer_id", "item_id").distinct()
    relevant = truth.groupBy("customer_id").agg(F.count("*").alias("n_rel"))
    users = top.select("customer_id").distinct().join(relevant, on="customer_id", how="inner")
    hits = (
        top.join(truth, on=["customer_id", "item_id"], how="inner")
        .groupBy("customer_id")
        .agg(F.count("*").alias("hits"), F.sum(1.0 / F.log2(F.col("rank") + 1.0)).alias("dcg"))
    )
    ideal = F.aggregate(
        F.sequence(F.lit(1), F.least(F.col("n_rel"), F.lit(k))),
        F.lit(0.0),
        lambda acc, i: acc + 1.0 / F.log2(i.cast("double") + 1.0),
    )
    per_user = users.join(hits, on="customer_id", how="left").fillna(0, subset=["hits", "dcg"])
    metrics = per_user.agg(
        F.avg(F.col("hits") / F.lit(float(k))).alias("precision"),
        F.avg(F.col("hits") / F.col("n_rel")).alias("recall"),
        F.avg(F.col("dcg") / ideal).alias("ndcg"),
        F.avg((F.col("hits") > 0).cast("double")).alias("hit_rate"),
        F.count("*").alias("users"),
    )
    row = metrics.crossJoin(top.agg(F.countDistinct("item_id").alias("items"))).first()
    return {
        "precision": float(row["precision"] or 0.0),
        "recall": float(row["recall"] or 0.0),
        "ndcg": float(row["ndcg"] or 0.0),
        "hit_rate": float(row["hit_rate"] or 0.0),
        "coverage": row["items"] / catalog_size,
        "users": float(row["users"]),
    }
