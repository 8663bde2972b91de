"""gold.cohort_retention: monthly first-purchase cohorts, N-day repurchase and month-N retention as of a date."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from jobs.gold.customers import carried, of_touched
from jobs.gold.sales import order_totals


def cohort_members(lines: DataFrame, *, as_of: date) -> DataFrame:
    """One row per customer with a purchase by `as_of`: the dates of their first and second orders (by order_ts,
    channel, order_id) and the months they ordered in (active_months, sorted): what cohort_retention counts."""
    orders = order_totals(lines.where((F.col("order_date") <= F.lit(as_of)) & F.col("customer_id").isNotNull()))
    nth = Window.partitionBy("customer_id").orderBy("order_ts", "channel", "order_id")
    ranked = orders.withColumn("n", F.row_number().over(nth))
    return (
        ranked.groupBy("customer_id")
        .agg(
            F.max(F.when(F.col("n") == 1, F.col("order_date"))).alias("first_date"),
            F.max(F.when(F.col("n") == 2, F.col("order_date"))).alias("second_date"),
            F.array_sort(F.collect_set(F.trunc("order_date", "month"))).alias("active_months"),
        )
        .select(F.lit(as_of).alias("as_of"), "customer_id", "first_date", "second_date", "active_months")
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
    people = members.withColumn("cohort_month", F.trunc("first_date", "month"))
    cohorts = people.groupBy("cohort_month").agg(
        F.count("*").alias("customers"),
        F.sum(F.when(F.date_add("first_date", repurchase_days) <= F.lit(as_of), 1).otherwise(0)).alias(
            "repurchase_eligible"
        ),
        F.sum(F.when(F.datediff("second_date", "first_date") <= repurchase_days, 1).otherwise(0)).alias("repurchased"),
        F.sum(
            F.when(
                (F.datediff("second_date", "first_date") <= repurchase_days)
                & (F.date_add("first_date", repurchase_days) <= F.lit(as_of)),
                1,
            ).otherwise(0)
        ).alias("_repurchased_eligible"),
    )
    months = F.months_between(F.trunc(F.lit(as_of), "month"), F.col("cohort_month")).cast("int")
    grid = cohorts.withColumn("month_n", F.explode(F.sequence(F.lit(0), months)))
    active = (
        people.select("cohort_month", F.explode("active_months").alias("month"))
        .withColumn("month_n", F.months_between(F.col("month"), F.col("cohort_month")).cast("int"))
        .groupBy("cohort_month", "month_n")
        .agg(F.count("*").alias("active_customers"))
    )
    return grid.join(active, on=["cohort_month", "month_n"], how="left").select(
        F.lit(as_of).alias("as_of"),
        "cohort_month",
        F.col("customers").cast("long"),
        F.col("repurchase_eligible").cast("long"),
        F.col("repurchased").cast("long"),
        F.when(F.col("repurchase_eligible") > 0, F.col("_repurchased_eligible") / F.col("repurchase_eligible")).alias(
            "repurchase_rate"
        ),
        "month_n",
        F.coalesce("active_customers", F.lit(0)).cast("long").alias("active_customers"),
        (F.coalesce("active_customers", F.lit(0)) / F.col("customers")).alias("retention_rate"),
    )
