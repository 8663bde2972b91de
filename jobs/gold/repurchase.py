"""gold.repurchase: the share of a first-purchase cohort (by week and by month) x first channel that bought again
within N days of their first order, for each N of conf `gold.cohort.repurchase_windows_days`.

A customer's N-day window is (first order date, first order date + N]. It counts only once it has fully elapsed by
the snapshot's as_of (first_date + N <= as_of): a customer whose window is still open is neither a yes nor a no,
so a young cohort's rate is over its eligible customers only, null while it has none, and `window_complete` says
whether every customer of the row is counted. Counted from gold.cohort_members (second_date: the date of the
second order by order_ts, channel, order_id; a second order on the first day counts as a repurchase).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.gold.cohorts import GRAINS, period_start


def repurchase(members: DataFrame, *, as_of: date, windows_days: Sequence[int]) -> DataFrame:
    """Per grain (`week`, `month`) x cohort_start (the Monday, or the first of the month, of the first purchase) x
    first_channel x window_days, from cohort_members as of `as_of`: customers, eligible (window elapsed by `as_of`),
    repurchased (eligible customers whose second order came within the window), repurchase_rate (repurchased /
    eligible, null without eligible customers) and window_complete (eligible = customers)."""
    windows = F.explode(F.array(*[F.lit(int(w)) for w in sorted(set(windows_days))])).alias("window_days")
    people = members.select("first_date", "second_date", "first_channel", windows)
    cohorts = [
        people.select(F.lit(grain).alias("grain"), period_start(F.col("first_date"), grain).alias("cohort_start"), "*")
        for grain in GRAINS
    ]
    elapsed = F.datediff(F.lit(as_of), F.col("first_date")) >= F.col("window_days")
    within = F.coalesce(F.datediff("second_date", "first_date") <= F.col("window_days"), F.lit(False))
    counted = (
        cohorts[0]
        .unionByName(cohorts[1])
        .groupBy("grain", "cohort_start", "first_channel", "window_days")
        .agg(
            F.count("*").alias("customers"),
            F.count(F.when(elapsed, 1)).alias("eligible"),
            F.count(F.when(elapsed & within, 1)).alias("repurchased"),
        )
    )
    return counted.select(
        F.lit(as_of).alias("as_of"),
        "grain",
        "cohort_start",
        "first_channel",
        F.col("window_days").cast("int"),
        F.col("customers").cast("long"),
        F.col("eligible").cast("long"),
        F.col("repurchased").cast("long"),
        F.try_divide(F.col("repurchased").cast("double"), F.col("eligible").cast("double")).alias("repurchase_rate"),
        (F.col("eligible") == F.col("customers")).alias("window_complete"),
    )
