"""gold.cohort_retention (monthly) and gold.cohort_retention_weekly: first-purchase cohorts, N-day repurchase and
period-N retention as of a date, counted from gold.cohort_members (one row per customer)."""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.gold.customers import carried, of_touched
from jobs.gold.sales import order_totals

GRAINS = ("week", "month")


def period_start(col: Column, grain: str) -> Column:
    """The first day of `col`'s calendar month, or the Monday of its ISO week."""
    return F.trunc(col, "month") if grain == "month" else F.date_trunc("week", col).cast("date")


def _periods_between(later: Column, earlier: Column, grain: str) -> Column:
    """Whole months or weeks from the period start `earlier` to the period start `later`."""
    if grain == "month":
        return F.months_between(later, earlier).cast("int")
    return (F.datediff(later, earlier) / 7).cast("int")


def cohort_members(lines: DataFrame, *, as_of: date) -> DataFrame:
    """One row per customer with a purchase by `as_of`: the dates of their first and second orders (by order_ts,
    channel, order_id), the months they ordered in (active_months, sorted), the channel of the first order and the
    weeks (Mondays) they ordered in (active_weeks, sorted): what the cohort tables and gold.repurchase count."""
    orders = order_totals(lines.where((F.col("order_date") <= F.lit(as_of)) & F.col("customer_id").isNotNull()))
    nth = Window.partitionBy("customer_id").orderBy("order_ts", "channel", "order_id")
    first = F.col("n") == 1
    ranked = orders.withColumn("n", F.row_number().over(nth))
    return (
        ranked.groupBy("customer_id")
        .agg(
            F.max(F.when(first, F.col("order_date"))).alias("first_date"),
            F.max(F.when(F.col("n") == 2, F.col("order_date"))).alias("second_date"),
            F.array_sort(F.collect_set(period_start(F.col("order_date"), "month"))).alias("active_months"),
            F.max(F.when(first, F.col("channel"))).alias("first_channel"),
            F.array_sort(F.collect_set(period_start(F.col("order_date"), "week"))).alias("active_weeks"),
        )
        .select(
            F.lit(as_of).alias("as_of"),
            "customer_id",
            "first_date",
            "second_date",
            "active_months",
            "first_channel",
            "active_weeks",
        )
    )


def cohort_members_since(previous: DataFrame, touched: DataFrame, lines: DataFrame, *, as_of: date) -> DataFrame:
    """cohort_members as of `as_of` from the snapshot `previous` (an earlier as_of): the `touched` customers
    recomputed, the others carried (a customer without orders since keeps the same rows)."""
    fresh = cohort_members(of_touched(lines, touched), as_of=as_of)
    return carried(previous, touched, as_of=as_of).select(*fresh.columns).unionByName(fresh)


def cohort_retention(lines: DataFrame, *, as_of: date, repurchase_days: int) -> DataFrame:
    """gold.cohort_retention from the order lines (see cohort_retention_of)."""
    return cohort_retention_of(cohort_members(lines, as_of=as_of), as_of=as_of, repurchase_days=repurchase_days)


def cohort_retention_of(members: DataFrame, *, as_of: date, repurchase_days: int) -> DataFrame:
    """One row per (cohort_month, month_n) for month_n from 0 to the month of `as_of`, from cohort_members.

    cohort_month is the month of a customer's first purchase. repurchased: customers whose second order came
    within `repurchase_days` of the first; eligible: customers whose first purchase is at least
    `repurchase_days` before `as_of` (the rate uses only those, so young cohorts are not understated).
    active_customers: cohort customers with an order in calendar month cohort_month + month_n.
    """
    return _retention(members, as_of=as_of, repurchase_days=repurchase_days, grain="month")


def cohort_retention_weekly_of(members: DataFrame, *, as_of: date, repurchase_days: int) -> DataFrame:
    """gold.cohort_retention_weekly: cohort_retention_of by ISO week. One row per (cohort_week, week_n) for week_n
    from 0 to the week of `as_of`; cohort_week is the Monday of the week of a customer's first purchase and
    active_customers counts the cohort's customers with an order in week cohort_week + week_n."""
    return _retention(members, as_of=as_of, repurchase_days=repurchase_days, grain="week")


def _retention(members: DataFrame, *, as_of: date, repurchase_days: int, grain: str) -> DataFrame:
    people = members.withColumn("cohort", period_start(F.col("first_date"), grain))
    within = F.datediff("second_date", "first_date") <= repurchase_days
    eligible = F.date_add("first_date", repurchase_days) <= F.lit(as_of)
    cohorts = people.groupBy("cohort").agg(
        F.count("*").alias("customers"),
        F.sum(F.when(eligible, 1).otherwise(0)).alias("repurchase_eligible"),
        F.sum(F.when(within, 1).otherwise(0)).alias("repurchased"),
        F.sum(F.when(within & eligible, 1).otherwise(0)).alias("_repurchased_eligible"),
    )
    last = _periods_between(period_start(F.lit(as_of), grain), F.col("cohort"), grain)
    grid = cohorts.withColumn("n", F.explode(F.sequence(F.lit(0), last)))
    active = (
        people.select("cohort", F.explode(f"active_{grain}s").alias("period"))
        .withColumn("n", _periods_between(F.col("period"), F.col("cohort"), grain))
        .groupBy("cohort", "n")
        .agg(F.count("*").alias("active_customers"))
    )
    return grid.join(active, on=["cohort", "n"], how="left").select(
        F.lit(as_of).alias("as_of"),
        F.col("cohort").alias(f"cohort_{grain}"),
        F.col("customers").cast("long"),
        F.col("repurchase_eligible").cast("long"),
        F.col("repurchased").cast("long"),
        F.when(F.col("repurchase_eligible") > 0, F.col("_repurchased_eligible") / F.col("repurchase_eligible")).alias(
            "repurchase_rate"
        ),
        F.col("n").alias(f"{grain}_n"),
        F.coalesce("active_customers", F.lit(0)).cast("long").alias("active_customers"),
        (F.coalesce("active_customers", F.lit(0)) / F.col("customers")).alias("retention_rate"),
    )
