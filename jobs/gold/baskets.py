"""gold.basket_rules: what sells together, as association rules over the orders of a trailing window.

A basket is an order (channel, order_id) with a sales line dated in the window; its items are its distinct SKUs.
Spark MLlib's FP-Growth finds the itemsets in at least `min_support` of the baskets and the rules X -> y (y one SKU)
among them with confidence >= `min_confidence`; the counts of each rule are then read from the frequent itemsets,
and support, confidence and lift computed from them: support = orders(X + y) / orders, confidence = orders(X + y) /
orders(X), lift = confidence / (orders(y) / orders), how many times likelier y is in a basket with X than in any.
A rule is kept with at least `min_orders` baskets and a lift of at least `min_lift`, the `max_rules` of highest lift
(then confidence, baskets, antecedent, consequent: a total order, so the table is the same on every run).
"""

from __future__ import annotations

from datetime import date, timedelta

from pyspark.ml.fpm import FPGrowth
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import BasketRules
from jobs.gold.returns import UNKNOWN
from jobs.gold.sales import ORDER_KEY


def order_baskets(lines: DataFrame, *, as_of: date, window_days: int) -> DataFrame:
    """Per order with a sales line (and a SKU) dated in the `window_days` to `as_of` (inclusive): its items.
    Columns: channel, order_id, items (array<string>: the order's distinct SKUs, sorted)."""
    start = as_of - timedelta(days=window_days - 1)
    sold = lines.where(F.col("order_date").between(F.lit(start), F.lit(as_of)) & F.col("sku").isNotNull())
    return sold.groupBy(*ORDER_KEY).agg(F.array_sort(F.collect_set("sku")).alias("items"))


def mine_rules(baskets: DataFrame, *, rules: BasketRules) -> DataFrame:
    """The rules of `baskets` (column items: distinct SKUs) that pass every threshold of `rules`, unranked and
    unrounded. Columns: antecedent (array<string>, sorted), consequent (string), orders, antecedent_orders,
    consequent_orders, window_orders (long: baskets with both, with the antecedent, with the consequent, in all),
    support, confidence, lift (double). Fits FP-Growth: its Spark jobs run here, not when the result is read."""
    model = FPGrowth(itemsCol="items", minSupport=rules.min_support, minConfidence=rules.min_confidence).fit(
        baskets.select("items")
    )
    freq = model.freqItemsets.select(F.array_sort("items").alias("items"), "freq")
    single = freq.where(F.size("items") == 1).select(
        F.col("items")[0].alias("consequent"), F.col("freq").alias("consequent_orders")
    )
    found = model.associationRules.select(
        F.array_sort("antecedent").alias("antecedent"), F.col("consequent")[0].alias("consequent")
    )
    both = freq.withColumnsRenamed({"items": "_both", "freq": "orders"})
    antecedent = freq.withColumnsRenamed({"items": "antecedent", "freq": "antecedent_orders"})
    df = (
        found.withColumn("_both", F.array_sort(F.concat("antecedent", F.array("consequent"))))
        .join(both, on="_both", how="inner")
        .join(antecedent, on="antecedent", how="inner")
        .join(single, on="consequent", how="inner")
        .crossJoin(baskets.agg(F.count("*").alias("window_orders")))
    )
    orders, window = F.col("orders").cast("double"), F.col("window_orders").cast("double")
    support = orders / window
    confidence = orders / F.col("antecedent_orders")
    # one division of exact products (below 2^53): X -> y and y -> X get the very same lift, so they tie
    lift = orders * window / (F.col("antecedent_orders").cast("double") * F.col("consequent_orders"))
    df = df.withColumns({"support": support, "confidence": confidence, "lift": lift})
    return df.where((F.col("orders") >= rules.min_orders) & (F.col("lift") >= rules.min_lift)).select(
        "antecedent",
        "consequent",
        "orders",
        "antecedent_orders",
        "consequent_orders",
        "window_orders",
        "support",
        "confidence",
        "lift",
    )


def top_rules(lines: DataFrame, *, as_of: date, rules: BasketRules) -> DataFrame:
    """The rules of the orders of the trailing `rules.window_days` to `as_of` (see mine_rules), the `rules.max_rules`
    of highest lift, then confidence, orders, antecedent and consequent. Columns: rank (int, 1 = first) and
    mine_rules' columns."""
    found = mine_rules(order_baskets(lines, as_of=as_of, window_days=rules.window_days), rules=rules)
    order = [
        F.col("lift").desc(),
        F.col("confidence").desc(),
        F.col("orders").desc(),
        F.col("antecedent"),
        F.col("consequent"),
    ]
    top = found.orderBy(*order).limit(rules.max_rules)  # a distributed top-k; then the rank over at most that many
    ranked = top.withColumn("rank", F.row_number().over(Window.orderBy(*order)).cast("int"))
    return ranked.select("rank", *found.columns)


def basket_rules(lines: DataFrame, products: DataFrame, *, as_of: date, rules: BasketRules) -> DataFrame:
    """The snapshot as of `as_of`: top_rules with the category and brand of the consequent. Columns: as_of, rank
    (int, 1 = highest lift), antecedent (array<string>, sorted SKUs), consequent (string, a SKU),
    consequent_category, consequent_brand (`unknown` when the catalog does not know it), orders, antecedent_orders,
    consequent_orders, window_orders (long), support (6 decimals), confidence, lift (double, 4 decimals). Key
    (as_of, antecedent, consequent)."""
    product = products.select(
        F.col("sku").alias("consequent"),
        F.col("category").alias("consequent_category"),
        F.col("brand").alias("consequent_brand"),
    )
    df = (
        top_rules(lines, as_of=as_of, rules=rules)
        .join(product, on="consequent", how="left")
        .withColumns({c: F.coalesce(F.col(c), F.lit(UNKNOWN)) for c in ("consequent_category", "consequent_brand")})
    )
    return df.select(
        F.lit(as_of).alias("as_of"),
        "rank",
        "antecedent",
        "consequent",
        "consequent_category",
        "consequent_brand",
        "orders",
        "antecedent_orders",
        "consequent_orders",
        "window_orders",
        F.round("support", 6).alias("support"),
        F.round("confidence", 4).alias("confidence"),
        F.round("lift", 4).alias("lift"),
    )
