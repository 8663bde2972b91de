"""gold.customer_geography: locations (address, else most-visited store, else unknown), age bands, tiers, the
small-city rollup and the window's measures, on a few customers counted by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import GeographyRules
from jobs.gold.geography import age_band, customer_geography, home_stores
from jobs.io.schemas import ddl

D = date.fromisoformat
AS_OF = D("2025-03-31")
RULES = GeographyRules(window_days=30, min_city_customers=2, age_bands=(25, 35, 45, 55, 65))  # 03-02 .. 03-31
STORES = "store_id string, store_name string, city string, region string, timezone string, opened_date date, "
STORES += "is_known boolean"


def _customer(cid: str, member: str | None, tier: str | None, born: int | None, seen: str | None, where=(None,) * 3):
    joined = datetime(2024, 6, 1) if member else None
    first = datetime.fromisoformat(seen) if seen else None
    keys = ("customer_id", "member_id", "tier", "birth_year", "joined_ts", "first_seen_ts", "city", "state", "country")
    return dict(zip(keys, (cid, member, tier, born, joined, first, *where), strict=True))


def _line(cid: str | None, channel: str, order_id: str, day: str, net: str, store: str | None = None, line_no=1):
    ts = datetime.fromisoformat(day).replace(hour=12)
    return {
        "channel": channel,
        "order_id": order_id,
        "line_no": line_no,
        "customer_id": cid,
        "store_id": store,
        "order_ts": ts,
        "order_date": ts.date(),
        "quantity": 1,
        "net_amount": Decimal(net),
    }


def _stores(spark):
    return spark.createDataFrame(
        [(s, f"Store {s}", city, "West", "America/Denver", None, True) for s, city in
         (("S1", "Chicago"), ("S2", "Denver"), ("S3", "Boulder"))],
        STORES,
    )  # fmt: skip


def test_age_bands_follow_the_sorted_edges_at_the_as_of_year(spark) -> None:
    years = [None, 2001, 2000, 1991, 1990, 1961, 1960, 1930]
    df = spark.createDataFrame([(y,) for y in years], "birth_year int")
    got = df.select("birth_year", age_band(F.col("birth_year"), as_of=D("2025-06-30"), edges=(65, 25, 45, 35, 55)))
    bands = ["unknown", "<25", "25-34", "25-34", "35-44", "55-64", "65+", "65+"]  # ages -, 24, 25, 34, 35, 64, 65, 95
    assert [tuple(r) for r in got.collect()] == list(zip(years, bands, strict=True))


def test_the_home_store_has_the_most_orders_then_the_latest_then_the_smallest_id(spark, silver) -> None:
    lines = silver(
        "silver.order_lines",
        [
            _line("D", "pos", "T1", "2025-03-10", "5.00", "S1"),
            _line("D", "pos", "T2", "2025-03-11", "5.00", "S1"),
            _line("D", "pos", "T2", "2025-03-11", "5.00", "S1", line_no=2),  # one order, two lines
            _line("D", "pos", "T3", "2025-03-12", "7.00", "S2"),
            _line("D", "pos", "T4", "2025-03-20", "8.00", "S2"),  # 2 orders each: S2's is the latest
            _line("E", "pos", "T5", "2025-03-25", "12.00", "S3"),
            _line("E", "pos", "T6", "2025-03-25", "3.00", "S2"),  # same count, same time: the smaller id
            _line("F", "pos", "T7", "2025-03-01", "1.00", "S1"),
            _line("F", "pos", "T8", "2025-04-02", "1.00", "S3"),  # after the as-of
            _line("F", "pos", "T9", "2025-04-03", "1.00", "S3"),
            _line("G", "web", "W1", "2025-03-01", "1.00"),  # no store
            _line(None, "pos", "T0", "2025-03-01", "1.00", "S1"),  # a walk-in
        ],
    )
    expected = spark.createDataFrame([("D", "S2"), ("E", "S2"), ("F", "S1")], "customer_id string, store_id string")
    assertDataFrameEqual(home_stores(lines, as_of=AS_OF), expected)


def test_customers_and_the_windows_sales_per_place_age_band_and_tier(spark, silver) -> None:
    chicago, peoria, springfield = ("Chicago", "IL", "US"), ("Peoria", "IL", "US"), ("Springfield", "IL", "US")
    customers = silver(
        "silver.customers",
        [
            _customer("A", "M1", "gold", 1990, "2025-02-15T12:00:00", chicago),  # 35
            _customer("B", "M2", "gold", 1992, "2025-03-20T12:00:00", chicago),  # 33
            _customer("C", "M3", "silver", 2001, "2025-03-05T12:00:00", peoria),  # 24; Peoria: 1 customer
            _customer("H", "M8", "silver", 2002, None, springfield),  # 23, joined, never bought; Springfield: 1
            _customer("K", "M9", None, 1950, None, chicago),  # a member without a tier
            _customer("D", None, None, None, "2025-02-20T12:00:00"),  # POS only, most at S2 (Denver)
            _customer("E", None, None, None, "2025-03-25T12:00:00"),  # POS only, S2 (Denver)
            _customer("F", None, None, None, "2025-03-30T12:00:00"),  # web only: unknown
            _customer("G", "M7", "gold", 1980, None, chicago) | {"joined_ts": datetime(2025, 4, 15)},  # joins later
        ],
    )
    lines = silver(
        "silver.order_lines",
        [
            _line("A", "web", "W1", "2025-02-15", "100.00"),  # before the window
            _line("A", "web", "W2", "2025-03-10", "30.00"),
            _line("A", "web", "W2", "2025-03-10", "20.00", line_no=2),
            _line("A", "web", "W9", "2025-04-02", "999.00"),  # after the as-of
            _line("B", "app", "A1", "2025-03-20", "25.50"),
            _line("C", "web", "W3", "2025-03-05", "10.00"),
            _line("D", "pos", "T1", "2025-02-20", "5.00", "S1"),  # before the window, still a visit
            _line("D", "pos", "T2", "2025-03-10", "5.00", "S1"),
            _line("D", "pos", "T3", "2025-03-15", "7.00", "S2"),
            _line("D", "pos", "T4", "2025-03-20", "8.00", "S2"),
            _line("E", "pos", "T5", "2025-03-25", "12.00", "S2"),
            _line("E", "web", "W5", "2025-03-26", "3.00"),
            _line("F", "web", "W4", "2025-03-30", "40.00"),
            _line("X", "web", "W6", "2025-03-31", "10.00"),  # not in silver.customers yet: still a customer
            _line(None, "pos", "T7", "2025-03-12", "100.00", "S1"),  # a walk-in: nobody's
        ],
    )
    got = customer_geography(customers, lines, _stores(spark), as_of=AS_OF, rules=RULES, default_country="US")
    rows = [
        # country, state, city, age_band, tier, customers, buyers, orders, gmv, aov
        ("US", "IL", "Chicago", "35-44", "gold", 1, 1, 1, "50.00", 50.0),
        ("US", "IL", "Chicago", "25-34", "gold", 1, 1, 1, "25.50", 25.5),
        ("US", "IL", "Chicago", "65+", "unknown", 1, 0, 0, "0.00", None),
        ("US", "IL", "(other)", "<25", "silver", 2, 1, 1, "10.00", 10.0),  # Peoria and Springfield
        ("US", None, "Denver", "unknown", "none", 2, 2, 5, "35.00", 7.0),  # stores give no state
        (None, None, None, "unknown", "none", 2, 2, 2, "50.00", 25.0),  # F and X: no address, no store
    ]
    expected = spark.createDataFrame(
        [(AS_OF, *r[:8], Decimal(r[8]), r[9]) for r in rows], ddl("gold.customer_geography")
    )
    assertDataFrameEqual(got, expected)
