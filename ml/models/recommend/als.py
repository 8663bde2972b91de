"""Implicit-feedback ALS (Spark ML) with a popularity fallback for customers it has not seen.

ALS wants integer ids: customers and items get a deterministic index (row number in id order) kept beside the
model, and every output maps back, so customer_id / item_id in recommendations equal the input ids exactly.
Recommendations drop items the customer already interacted with and items out of stock; because both filters
run after ALS' top-k, k is widened by the most exclusions any requested customer has plus the out-of-stock count,
so every customer still gets n items while the catalog has them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pyspark.ml.recommendation import ALS, ALSModel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ml.models.recommend.interactions import popularity

RECOMMENDATION_COLUMNS = ("customer_id", "item_id", "rank", "score")


@dataclass(frozen=True)
class AlsParams:
    """ALS settings (conf `recommend.als`); few blocks because local / small data (PLATFORM_NOTES)."""

    rank: int = 16
    reg_param: float = 0.05
    alpha: float = 10.0
    max_iter: int = 10
    num_user_blocks: int = 2
    num_item_blocks: int = 2
    seed: int = 7


@dataclass(frozen=True)
class AlsRecommender:
    """A fitted ALS model, its id maps, every item's popularity and the training pairs (customer_id, item_id)."""

    als: ALSModel
    users: DataFrame  # customer_id, user_idx
    items: DataFrame  # item_id, item_idx
    popular: DataFrame  # item_id, rank, score
    seen: DataFrame  # customer_id, item_id
    params: AlsParams
    n_items: int


def _index(df: DataFrame, col: str, idx: str) -> DataFrame:
    """Distinct ids numbered 0.. in id order (ALS wants ints: the id space must fit the int range).

    A distributed sort, then zipWithIndex: one count per sorted partition and a running offset, so no task ever
    holds all ids (a window ordered without a partition would). The sort's partitions are fixed once the RDD is
    made, so the numbering is the rank in id order: the same for the same ids on every run.
    """
    ids = df.select(col).distinct().orderBy(col)
    numbered = ids.rdd.zipWithIndex().map(lambda pair: (pair[0][0], pair[1]))
    schema = T.StructType([ids.schema[col], T.StructField(idx, T.LongType(), nullable=False)])
    return ids.sparkSession.createDataFrame(numbered, schema).select(col, F.col(idx).cast("int").alias(idx)).cache()


def train_als(interactions: DataFrame, *, params: AlsParams) -> AlsRecommender:
    """Fit implicit ALS on customer_id, item_id, strength (strength is the confidence weight)."""
    users = _index(interactions, "customer_id", "user_idx")
    items = _index(interactions, "item_id", "item_idx")
    ratings = (
        interactions.join(users, on="customer_id", how="inner")
        .join(items, on="item_id", how="inner")
        .select("user_idx", "item_idx", F.col("strength").cast("float").alias("strength"))
    )
    als = ALS(
        implicitPrefs=True,
        userCol="user_idx",
        itemCol="item_idx",
        ratingCol="strength",
        rank=params.rank,
        regParam=params.reg_param,
        alpha=params.alpha,
        maxIter=params.max_iter,
        numUserBlocks=params.num_user_blocks,
        numItemBlocks=params.num_item_blocks,
        seed=params.seed,
        coldStartStrategy="drop",
    )
    return AlsRecommender(
        als=als.fit(ratings),
        users=users,
        items=items,
        popular=popularity(interactions, n=None).cache(),
        seen=interactions.select("customer_id", "item_id").distinct(),
        params=params,
        n_items=items.count(),
    )


def _filtered_top(
    candidates: DataFrame, exclude: DataFrame | None, out_of_stock: DataFrame | None, n: int
) -> DataFrame:
    """Drop excluded pairs and out-of-stock items, then rank by score (ties: item_id) and keep n per customer."""
    if exclude is not None:
        candidates = candidates.join(
            exclude.select("customer_id", "item_id"), on=["customer_id", "item_id"], how="left_anti"
        )
    if out_of_stock is not None:
        candidates = candidates.join(out_of_stock.select("item_id"), on="item_id", how="left_anti")
    order = Window.partitionBy("customer_id").orderBy(F.col("score").desc(), F.col("item_id"))
    return (
        candidates.withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= n)
        .select(
            "customer_id",
            "item_id",
            F.col("rank").cast("int").alias("rank"),
            F.col("score").cast("double").alias("score"),
        )
    )


def _depth(
    customers: DataFrame, exclude: DataFrame | None, out_of_stock: DataFrame | None, n: int, n_items: int
) -> int:
    """How many candidates per customer survive both filters with n to spare (bounded by the catalog)."""
    most_excluded = 0
    if exclude is not None:
        per = exclude.select("customer_id", "item_id").distinct().join(customers, on="customer_id", how="inner")
        most_excluded = per.groupBy("customer_id").count().agg(F.max("count")).first()[0] or 0
    oos = 0 if out_of_stock is None else out_of_stock.select("item_id").distinct().count()
    return max(1, min(n + int(most_excluded) + oos, n_items))


def recommend_popular(
    popular: DataFrame, customers: DataFrame, *, exclude: DataFrame | None, out_of_stock: DataFrame | None, n: int
) -> DataFrame:
    """The popularity recommender: the most popular items each customer has not excluded and that are in stock."""
    customers = customers.select(F.col("customer_id").cast("string").alias("customer_id")).distinct()
    k = _depth(customers, exclude, out_of_stock, n, popular.count())
    cand = customers.crossJoin(F.broadcast(popular.where(F.col("rank") <= k).select("item_id", "score")))
    return _filtered_top(cand, exclude, out_of_stock, n)


def recommend(
    model: AlsRecommender,
    customers: DataFrame,
    *,
    exclude: DataFrame | None,
    out_of_stock: DataFrame | None,
    n: int = 10,
) -> DataFrame:
    """customer_id, item_id, rank (1..n), score: ALS for known customers, popularity for the others.

    customers: customer_id; exclude: customer_id, item_id pairs never to recommend (what they bought or
    interacted with); out_of_stock: item_id. ALS scores and popularity scores are on different scales: compare
    ranks, not scores, across customers.
    """
    customers = customers.select(F.col("customer_id").cast("string").alias("customer_id")).distinct()
    known = customers.join(model.users, on="customer_id", how="inner")
    cold = customers.join(model.users, on="customer_id", how="left_anti")
    k = _depth(customers, exclude, out_of_stock, n, model.n_items)
    recs = (
        model.als.recommendForUserSubset(known.select("user_idx"), k)
        .select("user_idx", F.explode("recommendations").alias("r"))
        .select("user_idx", F.col("r.item_idx").alias("item_idx"), F.col("r.rating").alias("score"))
        .join(model.users, on="user_idx", how="inner")
        .join(model.items, on="item_idx", how="inner")
        .select("customer_id", "item_id", "score")
    )
    pop = cold.crossJoin(F.broadcast(model.popular.where(F.col("rank") <= k).select("item_id", "score")))
    return _filtered_top(recs.unionByName(pop), exclude, out_of_stock, n)


def save_recommender(model: AlsRecommender, path: str | Path) -> None:
    """Write the model as a local directory: als/ (Spark ML), users/, items/, popular/, seen/ (parquet), meta.json.

    The frames are written as they are partitioned (no coalesce(1): the id maps and the seen pairs grow with
    customers and items, and one file would be one task).
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    model.als.write().overwrite().save(str(root / "als"))
    for name in ("users", "items", "popular", "seen"):
        getattr(model, name).write.mode("overwrite").parquet(str(root / name))
    (root / "meta.json").write_text(json.dumps({"params": asdict(model.params), "n_items": model.n_items}, indent=2))


def load_recommender(spark: SparkSession, path: str | Path) -> AlsRecommender:
    """Read a directory written by save_recommender (needs a SparkSession: run in the driver)."""
    root = Path(path)
    meta = json.loads((root / "meta.json").read_text())
    frames = {name: spark.read.parquet(str(root / name)) for name in ("users", "items", "popular", "seen")}
    return AlsRecommender(
        als=ALSModel.load(str(root / "als")), params=AlsParams(**meta["params"]), n_items=int(meta["n_items"]), **frames
    )
