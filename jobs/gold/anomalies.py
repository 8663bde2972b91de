"""gold.anomalies: unusual orders by business date, scored with robust (median / MAD) z-scores.

Signals are computed on the source accounts (channel + account_id, phone_token, email_token, device_id), not
on the resolved customer, so a ring of accounts that identity resolution merged is still visible.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import AnomalyRules
from jobs.gold.sales import order_totals

# signal -> (value scored, the entity it describes, population besides the business date, smallest sigma).
# Each entity (account, device, phone, email) counts once in its population, so a burst of orders by one
# account cannot become the median of a small day. Amounts are heavy tailed: compared per order, on a log
# scale, within the channel. Counts are mostly 1, so their MAD is 0: the floor of one count keeps a burst
# measurable.
SIGNALS: dict[str, tuple[str, str, list[str], float]] = {
    "amount": ("log1p(amount)", "order_id", ["channel"], 0.1),
    "account_orders": ("account_orders", "_account", [], 1.0),
    "device_orders": ("device_orders", "device_id", [], 1.0),
    "phone_orders": ("phone_orders", "phone_token", [], 1.0),
    "phone_accounts": ("phone_accounts", "phone_token", [], 1.0),
    "email_accounts": ("email_accounts", "email_token", [], 1.0),
}
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution x this = its standard deviation


def _robust_z(df: DataFrame, signal: str, value: str, entity: str, by: list[str], floor: float) -> DataFrame:
    """Adds z_<signal> = (x - median) / max(1.4826 MAD, floor), median and MAD over the entities of
    (business_date, *by); orders without the entity (no phone, no device) get 0."""
    group = Window.partitionBy("business_date", *by)
    first = Window.partitionBy("business_date", *by, entity).orderBy("channel", "order_id")
    x = F.expr(value).cast("double")
    once = F.when(F.col(entity).isNotNull() & (F.row_number().over(first) == 1), x)
    scored = (
        df.withColumn("_x", once)
        .withColumn("_med", F.median("_x").over(group))
        .withColumn(
            "_sigma", F.greatest(F.median(F.abs(F.col("_x") - F.col("_med"))).over(group) * MAD_TO_SIGMA, F.lit(floor))
        )
    )
    z = F.when(F.col(entity).isNotNull(), (x - F.col("_med")) / F.col("_sigma"))
    return scored.withColumn(f"z_{signal}", F.round(F.coalesce(z, F.lit(0.0)), 4)).drop("_x", "_med", "_sigma")


def _accounts_sharing(orders: DataFrame, token: str, days: int) -> DataFrame:
    """Distinct source accounts using the same `token` in the `days` days up to each business date."""
    used = orders.where(F.col(token).isNotNull()).select(token, "business_date", "_account").distinct()
    w = Window.partitionBy(token).orderBy(F.unix_date("business_date")).rangeBetween(-(days - 1), 0)
    return (
        used.withColumn("_n", F.size(F.collect_set("_account").over(w)))
        .groupBy(token, "business_date")
        .agg(F.max("_n").alias(f"{token.split('_')[0]}_accounts"))
    )


def _count_per(col: str, name: str) -> Column:
    w = Window.partitionBy("business_date", col)
    return F.when(F.col(col).isNotNull(), F.count("*").over(w)).alias(name)


def score_orders(order_lines: DataFrame, *, rules: AnomalyRules) -> DataFrame:
    """Every order (any status) with its signals, robust z per signal and score = root-sum-square of the
    positive z's (several moderate signals together outrank one)."""
    orders = (
        order_totals(order_lines)
        .withColumnRenamed("order_date", "business_date")
        .withColumn("_account", F.when(F.col("account_id").isNotNull(), F.concat_ws(":", "channel", "account_id")))
    )
    orders = orders.select(
        "*",
        F.col("revenue").alias("amount"),
        _count_per("_account", "account_orders"),
        _count_per("device_id", "device_orders"),
        _count_per("phone_token", "phone_orders"),
    )
    for token in ("phone_token", "email_token"):
        orders = orders.join(
            _accounts_sharing(orders, token, rules.window_days), on=[token, "business_date"], how="left"
        )
    for signal, (value, entity, by, floor) in SIGNALS.items():
        orders = _robust_z(orders, signal, value, entity, by, floor)
    positive = [F.greatest(F.col(f"z_{s}"), F.lit(0.0)) for s in SIGNALS]
    score = F.sqrt(sum((p * p for p in positive), F.lit(0.0)))
    reasons = F.array_compact(F.array(*[F.when(F.col(f"z_{s}") >= rules.min_score, F.lit(s)) for s in SIGNALS]))
    return orders.withColumn("score", F.round(score, 4)).withColumn("reasons", reasons)


def anomalies(order_lines: DataFrame, *, rules: AnomalyRules) -> DataFrame:
    """Orders ranked per business date (1 = most unusual): every flagged one (score >= `min_score`) and the
    day's `top_per_day` highest scores, flagged or not."""
    rank = F.row_number().over(
        Window.partitionBy("business_date").orderBy(F.col("score").desc(), "channel", "order_id")
    )
    scored = score_orders(order_lines, rules=rules).withColumn("rank", rank)
    kept = scored.where((F.col("score") >= rules.min_score) | (F.col("rank") <= rules.top_per_day))
    return kept.select(
        "business_date",
        "rank",
        (F.col("score") >= rules.min_score).alias("flagged"),
        "channel",
        "order_id",
        "account_id",
        "customer_id",
        "device_id",
        "phone_token",
        "order_ts",
        F.col("amount").cast("decimal(18,2)").alias("amount"),
        F.col("account_orders").cast("long"),
        F.col("device_orders").cast("long"),
        F.col("phone_orders").cast("long"),
        F.col("phone_accounts").cast("long"),
        F.col("email_accounts").cast("long"),
        *[f"z_{s}" for s in SIGNALS],
        "score",
        "reasons",
    )
