"""Stock moves per as_of: order quantities per store x SKU (gold.replenishment) and transfers between stores of a
SKU (gold.stock_transfers), transfers first.

Periodic review, order-up-to: every R days a pair is brought up to S, the service-level quantile of its demand over
the lead time L + R; the reorder point is the same quantile over L. Demand over h days is normal with mean m x h and
variance v x h, m and v a day's mean and variance: from the pair's latest forecast made on or before as_of, the
average of its days' `mean` and of their variances ((p90 - p10) / 2.563)^2 over the days in (as_of, as_of + h] (so,
when the forecast covers them all, the sum of the daily means and of the daily variances; days past its end count
at that average), else the trailing history's mean and variance (stock-out days left out: jobs/gold/inventory.py).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import InventoryRules, ReplenishmentRules
from jobs.gold.inventory import forecast_days, stock_at

PAIR = ["store_id", "sku"]
UP_DECIMALS = 6  # decimals kept before rounding a quantile up: 3.0000000001 from float sums is 3 units, not 4


def _lead_time(category: Column, brand: Column, rules: ReplenishmentRules) -> Column:
    """L of a SKU: its brand's override, else its category's, else the default."""
    days = F.lit(rules.lead_time_days)
    for key, table in ((category, rules.lead_time_by_category), (brand, rules.lead_time_by_brand)):
        for name, d in sorted(table.items()):
            days = F.when(key == F.lit(name), F.lit(d)).otherwise(days)
    return days


def _daily_forecast(forecast: DataFrame, pairs: DataFrame, *, as_of: date, review_days: int) -> DataFrame:
    """Per pair with forecast days within L + R: a day's mean and variance over (as_of, as_of + L + R] (lr_) and
    over (as_of, as_of + L] (l_, null when no day falls there)."""
    in_l = F.col("ahead") <= F.col("lead_time_days")
    var = F.col("sigma") * F.col("sigma")
    return (
        forecast_days(forecast, as_of=as_of)
        .join(pairs, on=PAIR, how="inner")
        .where(F.col("ahead") <= F.col("lead_time_days") + F.lit(review_days))
        .groupBy(*PAIR)
        .agg(
            F.avg("mean").alias("lr_mean"),
            F.avg(var).alias("lr_var"),
            F.avg(F.when(in_l, F.col("mean"))).alias("l_mean"),
            F.avg(F.when(in_l, var)).alias("l_var"),
        )
    )


def _quantile(mean: Column, var: Column, days: Column, z: float) -> Column:
    return mean * days + F.lit(z) * F.sqrt(var * days)


def replenishment_plan(
    grid: DataFrame,
    forecast: DataFrame,
    products: DataFrame,
    *,
    as_of: date,
    history: InventoryRules,
    rules: ReplenishmentRules,
) -> DataFrame:
    """Per pair with a stock snapshot by `as_of`: stock, L and R, demand over L + R, reorder point, order_up_to (S,
    whole units), need (S - on hand - on order when that position is below the reorder point) and excess (on hand -
    S when on hand exceeds S x (1 + transfer_margin) and the pair needs nothing)."""
    lead = _lead_time(F.col("category"), F.col("brand"), rules)
    skus = products.select("sku", lead.alias("lead_time_days"))
    stock = (
        stock_at(grid, as_of=as_of, rules=history)
        .join(skus, on="sku", how="left")
        .withColumn("lead_time_days", F.coalesce(F.col("lead_time_days"), F.lit(rules.lead_time_days)))
    )
    fc = _daily_forecast(forecast, stock.select(*PAIR, "lead_time_days"), as_of=as_of, review_days=rules.review_days)
    has_fc = F.col("lr_mean").isNotNull()
    hist_var = F.col("demand_std") * F.col("demand_std")
    lr_mean = F.when(has_fc, F.col("lr_mean")).otherwise(F.col("demand_mean"))
    lr_var = F.when(has_fc, F.coalesce(F.col("lr_var"), F.lit(0.0))).otherwise(hist_var)
    l_mean = F.when(has_fc, F.coalesce(F.col("l_mean"), F.col("lr_mean"))).otherwise(F.col("demand_mean"))
    l_var = F.when(has_fc, F.coalesce(F.col("l_var"), F.col("lr_var"), F.lit(0.0))).otherwise(hist_var)
    lt, lr = F.col("lead_time_days"), F.col("lead_time_days") + F.lit(rules.review_days)
    quantile = _quantile(lr_mean, lr_var, lr, rules.z)
    s = F.greatest(F.ceil(F.round(quantile, UP_DECIMALS)), F.lit(0)).cast("long")
    rop = _quantile(l_mean, l_var, lt, rules.z)
    planned = stock.join(fc, on=PAIR, how="left").select(
        *PAIR,
        "on_hand",
        "on_order",
        "lead_time_days",
        F.lit(rules.review_days).alias("review_days"),
        F.when(has_fc, "forecast").otherwise("history").alias("demand_source"),
        F.round(lr_mean * lr, 2).alias("demand_mean"),
        F.round(quantile, 2).alias("demand_quantile"),
        F.round(rop, 2).alias("reorder_point"),
        s.alias("order_up_to"),
        rop.alias("_rop"),
    )
    position = F.col("on_hand") + F.coalesce(F.col("on_order"), F.lit(0))
    taker = position < F.col("_rop")
    giver = ~taker & (F.col("on_hand") > F.col("order_up_to") * F.lit(1 + rules.transfer_margin))
    return planned.select(
        "*",
        F.when(taker, F.greatest(F.col("order_up_to") - position, F.lit(0))).otherwise(F.lit(0)).alias("need"),
        F.when(giver, F.col("on_hand") - F.col("order_up_to")).otherwise(F.lit(0)).alias("excess"),
    ).drop("_rop")


def _intervals(plan: DataFrame, qty: str, store: str) -> DataFrame:
    """Pairs with `qty` > 0 laid end to end per SKU, largest first (then by store): [lo, hi) of a running sum."""
    w = Window.partitionBy("sku").orderBy(F.desc(qty), "store_id").rowsBetween(Window.unboundedPreceding, 0)
    hi = F.sum(qty).over(w)
    return plan.where(F.col(qty) > 0).select(
        "sku",
        F.col("store_id").alias(store),
        (hi - F.col(qty)).alias(f"{store}_lo"),
        hi.alias(f"{store}_hi"),
    )


def match_transfers(plan: DataFrame, *, as_of: date) -> DataFrame:
    """gold.stock_transfers: per SKU, the givers' excess and the takers' need as intervals of running sums; a
    giver sends a taker the length of their overlap. A giver gives at most its excess, a taker gets at most its
    need, and min(total excess, total need) units move per SKU."""
    givers = _intervals(plan, "excess", "from_store")
    takers = _intervals(plan, "need", "to_store")
    lo = F.greatest(F.col("from_store_lo"), F.col("to_store_lo"))
    hi = F.least(F.col("from_store_hi"), F.col("to_store_hi"))
    return (
        givers.join(takers, on="sku", how="inner")
        .where(lo < hi)
        .select(F.lit(as_of).alias("as_of"), "sku", "from_store", "to_store", (hi - lo).cast("long").alias("units"))
    )


def replenishment(plan: DataFrame, transfers: DataFrame, *, as_of: date, rules: ReplenishmentRules) -> DataFrame:
    """gold.replenishment: `plan` with the units transferred in and out, and purchase_qty = max(0, S - on hand -
    on order - transfer_in) rounded up to a multiple of pack_size."""
    moved = [
        transfers.groupBy("sku", F.col(store).alias("store_id")).agg(F.sum("units").alias(name))
        for store, name in (("to_store", "transfer_in"), ("from_store", "transfer_out"))
    ]
    joined = plan.join(moved[0], on=PAIR, how="left").join(moved[1], on=PAIR, how="left")
    t_in, t_out = F.coalesce(F.col("transfer_in"), F.lit(0)), F.coalesce(F.col("transfer_out"), F.lit(0))
    short = F.col("order_up_to") - F.col("on_hand") - F.coalesce(F.col("on_order"), F.lit(0)) - t_in
    pack = F.lit(rules.pack_size)
    purchase = (F.ceil(F.greatest(short, F.lit(0)) / pack) * pack).cast("long")
    reason = (
        F.when(t_out > 0, "transfer_out")
        .when((t_in > 0) & (purchase > 0), "transfer_in_purchase")
        .when(t_in > 0, "transfer_in")
        .when(purchase > 0, "purchase")
        .otherwise("none")
    )
    return joined.select(
        F.lit(as_of).alias("as_of"),
        *PAIR,
        "on_hand",
        "on_order",
        "lead_time_days",
        "review_days",
        "demand_source",
        "demand_mean",
        "demand_quantile",
        "reorder_point",
        "order_up_to",
        t_in.cast("long").alias("transfer_in"),
        t_out.cast("long").alias("transfer_out"),
        purchase.alias("purchase_qty"),
        reason.alias("reason"),
    )


def stock_moves(
    grid: DataFrame,
    forecast: DataFrame,
    products: DataFrame,
    *,
    as_of: date,
    history: InventoryRules,
    rules: ReplenishmentRules,
) -> tuple[DataFrame, DataFrame]:
    """(gold.replenishment, gold.stock_transfers) as of `as_of`."""
    plan = replenishment_plan(grid, forecast, products, as_of=as_of, history=history, rules=rules)
    transfers = match_transfers(plan, as_of=as_of)
    return replenishment(plan, transfers, as_of=as_of, rules=rules), transfers
