"""Reorder points per store x SKU x day and the gold.inventory_health snapshot.

Lead-time demand is mean x L with standard deviation std x sqrt(L) (daily demand assumed independent);
safety stock = z(service level) x that deviation; reorder point = lead-time demand + safety stock.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import InventoryRules

Z_P90 = 1.2815515655446004  # standard normal 90% quantile: (p90 - p10) / (2 * Z_P90) is a day's sigma


def _policy(mean: Column, std: Column, rules: InventoryRules) -> dict[str, Column]:
    lt = rules.lead_time_days
    lead_demand = mean * lt
    safety = F.lit(rules.z) * std * math.sqrt(lt)
    return {"lead_time_demand": lead_demand, "safety_stock": safety, "reorder_point": lead_demand + safety}


def reorder_points_daily(grid: DataFrame, *, rules: InventoryRules) -> DataFrame:
    """For every grid day: mean / std of observed daily demand over the trailing window (the day included),
    safety stock and reorder point from history. Stock-out days without sales are left out of the demand."""
    w = Window.partitionBy("store_id", "sku").orderBy("date").rowsBetween(-(rules.demand_window_days - 1), 0)
    stats = grid.select(
        "store_id",
        "sku",
        "date",
        "on_hand",
        "on_order",
        F.coalesce(F.avg("units_observed").over(w), F.lit(0.0)).alias("demand_mean"),
        F.coalesce(F.stddev_samp("units_observed").over(w), F.lit(0.0)).alias("demand_std"),
    )
    policy = _policy(F.col("demand_mean"), F.col("demand_std"), rules)
    return stats.select("*", *[c.alias(n) for n, c in policy.items()])


def forecast_days(forecast: DataFrame, *, as_of: date) -> DataFrame:
    """Each pair's latest forecast made on or before `as_of`, for the days after it: store_id, sku, ahead (days
    after `as_of`), mean and sigma (a day's standard deviation, from the P10-P90 spread)."""
    made = forecast.where(F.col("as_of") <= F.lit(as_of))
    latest = Window.partitionBy("store_id", "sku")
    return (
        made.withColumn("_latest", F.max("as_of").over(latest))
        .where((F.col("as_of") == F.col("_latest")) & (F.col("date") > F.lit(as_of)))
        .select(
            "store_id",
            "sku",
            F.datediff("date", F.lit(as_of)).alias("ahead"),
            "mean",
            ((F.col("p90") - F.col("p10")) / (2 * Z_P90)).alias("sigma"),
        )
    )


def _forecast_demand(forecast: DataFrame, *, as_of: date, lead_time_days: int) -> DataFrame:
    """Daily mean and sigma over the lead time, from each pair's latest forecast made on or before `as_of` (the mean,
    not the P50: the median day of a SKU that sells now and then is 0, and lead-time demand is a sum of days)."""
    return (
        forecast_days(forecast, as_of=as_of)
        .where(F.col("ahead") <= lead_time_days)
        .groupBy("store_id", "sku")
        .agg(F.avg("mean").alias("fc_mean"), F.sqrt(F.avg(F.col("sigma") * F.col("sigma"))).alias("fc_std"))
    )


def stock_at(grid: DataFrame, *, as_of: date, rules: InventoryRules) -> DataFrame:
    """Pairs with a stock snapshot by `as_of`: on hand, on order and the trailing history's daily demand_mean /
    demand_std (reorder_points_daily's columns) on that day."""
    start = as_of - timedelta(days=rules.demand_window_days - 1)
    window = grid.where((F.col("date") >= F.lit(start)) & (F.col("date") <= F.lit(as_of)))
    return reorder_points_daily(window, rules=rules).where(
        (F.col("date") == F.lit(as_of)) & F.col("on_hand").isNotNull()
    )


def inventory_health(grid: DataFrame, forecast: DataFrame, *, as_of: date, rules: InventoryRules) -> DataFrame:
    """Per store x SKU with a stock snapshot by `as_of`: on hand, daily demand mean / std (forecast mean and
    spread when a forecast covers the lead time, else trailing history), days of cover, safety stock,
    reorder point and stock-out risk (high: on hand below lead-time demand; medium: below reorder point)."""
    hist = stock_at(grid, as_of=as_of, rules=rules)
    fc = _forecast_demand(forecast, as_of=as_of, lead_time_days=rules.lead_time_days)
    joined = hist.join(fc, on=["store_id", "sku"], how="left")
    has_fc = F.col("fc_mean").isNotNull()
    mean = F.when(has_fc, F.col("fc_mean")).otherwise(F.col("demand_mean"))
    std = F.when(has_fc, F.coalesce(F.col("fc_std"), F.lit(0.0))).otherwise(F.col("demand_std"))
    policy = _policy(mean, std, rules)
    risk = (
        F.when(F.col("on_hand") < policy["lead_time_demand"], "high")
        .when(F.col("on_hand") < policy["reorder_point"], "medium")
        .otherwise("low")
    )
    return joined.select(
        F.lit(as_of).alias("as_of"),
        "store_id",
        "sku",
        "on_hand",
        "on_order",
        F.when(has_fc, "forecast").otherwise("history").alias("demand_source"),
        F.round(mean, 4).alias("demand_mean"),
        F.round(std, 4).alias("demand_std"),
        F.round(policy["lead_time_demand"], 2).alias("lead_time_demand"),
        F.round(F.when(mean > 0, F.col("on_hand") / mean), 2).alias("days_of_cover"),
        F.round(policy["safety_stock"], 2).alias("safety_stock"),
        F.round(policy["reorder_point"], 2).alias("reorder_point"),
        risk.alias("stockout_risk"),
    )
