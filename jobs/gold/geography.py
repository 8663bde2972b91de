"""gold.customer_geography: customers, buyers, orders, GMV and AOV per coarse location x age band x CRM tier.

A customer's location is their CRM address's city, state and country (silver.customers, parsed in silver: never
the street or ZIP); without one, the city of their most-visited store (most orders there by as_of, ties: the latest
order, then the smallest store_id) in the default country, with no state (the stores feed has none); else unknown
(country, state and city null). A city with fewer than `min_city_customers` customers (all ages and tiers) is shown
as OTHER_CITY within its country and state, so a small town does not single anyone out. No customer id is output.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.common.config.gold import GeographyRules
from jobs.gold.sales import SUM_MONEY, order_totals

OTHER_CITY = "(other)"  # cities under the minimum, per country and state
NO_TIER = "none"  # customers who are not CRM members
UNKNOWN = "unknown"  # no birth year, or a member without a tier
PLACE = ["country", "state", "city"]


def age_band(birth_year: Column, *, as_of: date, edges: Sequence[int]) -> Column:
    """The band of the age at `as_of` (its year less the birth year) among `edges` (<e0, e0-(e1-1), ..., en+);
    UNKNOWN without a birth year."""
    bounds = sorted(set(edges))
    age = F.lit(as_of.year) - birth_year
    band = F.when(birth_year.isNull(), F.lit(UNKNOWN)).when(age < bounds[0], F.lit(f"<{bounds[0]}"))
    for low, high in zip(bounds, bounds[1:], strict=False):
        band = band.when(age < high, F.lit(f"{low}-{high - 1}"))
    return band.otherwise(F.lit(f"{bounds[-1]}+"))


def home_stores(lines: DataFrame, *, as_of: date) -> DataFrame:
    """(customer_id, store_id): each customer's most-visited store by `as_of`: most orders there, ties: the latest
    order there, then the smallest store_id."""
    visits = (
        lines.where(
            (F.col("order_date") <= F.lit(as_of)) & F.col("customer_id").isNotNull() & F.col("store_id").isNotNull()
        )
        .groupBy("customer_id", "store_id")
        .agg(F.countDistinct("channel", "order_id").alias("orders"), F.max("order_ts").alias("latest"))
    )
    w = Window.partitionBy("customer_id").orderBy(F.desc("orders"), F.desc("latest"), F.asc("store_id"))
    return visits.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").select("customer_id", "store_id")


def customer_places(
    customers: DataFrame, lines: DataFrame, stores: DataFrame, *, as_of: date, edges: Sequence[int], country: str
) -> DataFrame:
    """customer_id, country, state, city, age_band, tier of every customer known by `as_of` (gold.customer_360's
    rows: a CRM customer seen or joined by then, or anyone with an order by then)."""
    known = customers.where(F.to_date(F.coalesce("first_seen_ts", "joined_ts")) <= F.lit(as_of)).select("customer_id")
    bought = lines.where((F.col("order_date") <= F.lit(as_of)) & F.col("customer_id").isNotNull())
    people = known.unionByName(bought.select("customer_id")).distinct()
    store_city = stores.select("store_id", F.col("city").alias("store_city"))
    home = home_stores(lines, as_of=as_of).join(store_city, on="store_id", how="left")
    attrs = customers.select("customer_id", "member_id", "tier", "birth_year", *PLACE)
    df = people.join(attrs, on="customer_id", how="left").join(home, on="customer_id", how="left")
    address = F.col("city").isNotNull()
    return df.select(
        "customer_id",
        F.when(address, F.col("country")).when(F.col("store_city").isNotNull(), F.lit(country)).alias("country"),
        F.when(address, F.col("state")).alias("state"),
        F.coalesce("city", "store_city").alias("city"),
        age_band(F.col("birth_year"), as_of=as_of, edges=edges).alias("age_band"),
        F.when(F.col("member_id").isNull(), F.lit(NO_TIER)).otherwise(F.coalesce("tier", F.lit(UNKNOWN))).alias("tier"),
    )


def customer_geography(
    customers: DataFrame,
    lines: DataFrame,
    stores: DataFrame,
    *,
    as_of: date,
    rules: GeographyRules,
    default_country: str,
) -> DataFrame:
    """Per country x state x city x age_band x tier as of `as_of`: customers (known by then), buyers (customers
    with an order in the trailing `rules.window_days`), orders, gmv (their net sales) and aov (gmv / orders) in
    that window; small cities rolled up (module docstring)."""
    places = customer_places(customers, lines, stores, as_of=as_of, edges=rules.age_bands, country=default_country)
    start = as_of - timedelta(days=rules.window_days - 1)
    recent = order_totals(lines.where(F.col("order_date").between(F.lit(start), F.lit(as_of))))
    spent = (
        recent.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(F.count("*").alias("orders"), F.sum("revenue").alias("gmv"))
    )
    city_customers = F.count("*").over(Window.partitionBy(*PLACE))
    small = F.col("city").isNotNull() & (city_customers < rules.min_city_customers)
    rolled = places.withColumn("city", F.when(small, F.lit(OTHER_CITY)).otherwise(F.col("city")))
    cells = (
        rolled.join(spent, on="customer_id", how="left")
        .groupBy(*PLACE, "age_band", "tier")
        .agg(
            F.count("*").alias("customers"),
            F.count("orders").alias("buyers"),
            F.coalesce(F.sum("orders"), F.lit(0)).alias("orders"),
            F.coalesce(F.sum("gmv"), F.lit(0)).cast(SUM_MONEY).alias("gmv"),
        )
    )
    return cells.select(
        F.lit(as_of).alias("as_of"),
        *PLACE,
        "age_band",
        "tier",
        F.col("customers").cast("long"),
        F.col("buyers").cast("long"),
        F.col("orders").cast("long"),
        "gmv",
        F.round(F.try_divide(F.col("gmv").cast("double"), F.col("orders").cast("double")), 2).alias("aov"),
    )
