"""gold.marketing_audiences: each audience rule and the contact-time modes on a few customers counted by hand, the
whole snapshot's columns, and the cart rule against the generator's own clickstream."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import (
    AudienceRules,
    BrowseWithoutBuyRules,
    CartAbandonmentRules,
    ContactRules,
    DormantWinbackRules,
    HighValueAtRiskRules,
)
from jobs.gold.audiences import (
    AUDIENCE,
    browse_without_buy,
    cart_abandonment,
    contact_times,
    dormant_winback,
    high_value_at_risk,
    marketing_audiences,
)
from jobs.io.schemas import ddl

D = date.fromisoformat
AS_OF = D("2025-03-10")  # a Monday; the 7-day windows are 03-04 .. 03-10
RULES = AudienceRules(
    cart_abandonment=CartAbandonmentRules(window_days=7, min_carts=3, action="remind"),
    browse_without_buy=BrowseWithoutBuyRules(window_days=7, min_views=3, action="recommend"),
    dormant_winback=DormantWinbackRules(
        min_recency_days=30, actions={"gold": "voucher", "basic": "free_shipping"}, default_action="newsletter"
    ),
    high_value_at_risk=HighValueAtRiskRules(
        min_value_at_risk=50.0, churn_horizon_days=30, ltv_horizon_days=30, action="call"
    ),
    contact=ContactRules(window_days=7, timezone="UTC"),
)
ROWS = "customer_id string, audience string, detail string, score double, reason string, action string"


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _events(silver, rows: list[tuple[str | None, str, str, str]]):
    """(customer, event_type, sku, UTC timestamp) -> silver.events rows dated by their UTC date."""
    return silver(
        "silver.events",
        [
            {
                "channel": "web",
                "event_id": f"e{i}",
                "customer_id": c,
                "event_type": kind,
                "sku": sku,
                "event_ts": _ts(ts),
                "event_date": _ts(ts).date(),
            }
            for i, (c, kind, sku, ts) in enumerate(rows)
        ],
    )


def _lines(silver, rows: list[tuple[str | None, str, str, str]]):
    """(customer, order_id, sku, UTC timestamp) -> sales lines (one unit for 10.00 each)."""
    return silver(
        "silver.order_lines",
        [
            {
                "channel": "web",
                "order_id": o,
                "line_no": i,
                "customer_id": c,
                "sku": sku,
                "order_ts": _ts(ts),
                "order_date": _ts(ts).date(),
                "quantity": 1,
                "net_amount": Decimal("10.00"),
            }
            for i, (c, o, sku, ts) in enumerate(rows)
        ],
    )


def _carts(customer: str | None, sku: str, *days: str) -> list[tuple[str | None, str, str, str]]:
    return [(customer, "cart", sku, f"{d}T12:00:00") for d in days]


def test_cart_abandonment_needs_the_carts_in_the_window_and_no_purchase_of_the_sku_in_it(spark, silver) -> None:
    events = _events(
        silver,
        [
            *_carts("C1", "P1", "2025-03-05", "2025-03-07", "2025-03-09"),
            *_carts("C1", "P3", "2025-03-04", "2025-03-06", "2025-03-08"),  # as many, last one earlier: also left
            *_carts("C2", "P1", "2025-03-05", "2025-03-06", "2025-03-07"),  # bought on 03-08
            *_carts("C3", "P1", "2025-03-05", "2025-03-06"),  # too few
            *_carts("C4", "P1", "2025-03-03", "2025-03-06", "2025-03-07"),  # 03-03 is before the window
            *_carts("C5", "P2", "2025-03-04", "2025-03-05", "2025-03-10"),  # bought before the window, and after
            *_carts("C6", "P2", "2025-03-05", "2025-03-05", "2025-03-05", "2025-03-05"),  # 4 carts beat ...
            *_carts("C6", "P1", "2025-03-08", "2025-03-08", "2025-03-08"),  # ... 3 later ones
            *_carts(None, "P1", "2025-03-05", "2025-03-06", "2025-03-07"),  # anonymous
            ("C7", "view", "P1", "2025-03-05T12:00:00"),  # views are no carts
            *_carts("C7", "P1", "2025-03-06", "2025-03-07"),
        ],
    )
    lines = _lines(
        silver,
        [
            ("C2", "O1", "P1", "2025-03-08T09:00:00"),
            ("C5", "O2", "P2", "2025-03-01T09:00:00"),
            ("C5", "O3", "P2", "2025-03-11T09:00:00"),
            ("C1", "O4", "P2", "2025-03-06T09:00:00"),  # another SKU: P1 and P3 stay abandoned
        ],
    )
    got = cart_abandonment(events, lines, as_of=AS_OF, rules=RULES.cart_abandonment)
    expected = [("C1", "P1", 3, "2025-03-09", 1), ("C5", "P2", 3, "2025-03-10", 0), ("C6", "P2", 4, "2025-03-05", 1)]
    reason = "{} add-to-carts of {} in the 7 days to 2025-03-10 (last on {}), not bought; {} other item(s) left so"
    rows = [(c, "cart_abandonment", s, float(n), reason.format(n, s, d, o), "remind") for c, s, n, d, o in expected]
    assertDataFrameEqual(got, spark.createDataFrame(rows, ROWS))


def test_browse_without_buy_counts_a_categorys_views_and_any_purchase_in_it(spark, silver) -> None:
    categories = (("P1", "A"), ("P2", "A"), ("P3", "B"))
    products = silver("silver.products", [{"sku": s, "category": c} for s, c in categories])

    def views(customer: str, *pairs: tuple[str, str]) -> list[tuple[str, str, str, str]]:
        return [(customer, "view", sku, f"{d}T10:00:00") for sku, d in pairs]

    events = _events(
        silver,
        [
            *views("C1", ("P1", "2025-03-05"), ("P2", "2025-03-06"), ("P1", "2025-03-09")),  # A, 3 views of 2 SKUs
            *views("C2", ("P1", "2025-03-05"), ("P1", "2025-03-06"), ("P2", "2025-03-07")),  # A, bought P2 (A)
            *views("C2", ("P3", "2025-03-05"), ("P3", "2025-03-06"), ("P3", "2025-03-07")),  # B: left alone
            *views("C3", ("P9", "2025-03-05"), ("P9", "2025-03-06"), ("P9", "2025-03-07")),  # not in the catalog
            *views("C4", ("P1", "2025-03-04"), ("P1", "2025-03-05"), ("P2", "2025-03-06")),  # A, last 03-06
            *views("C4", ("P3", "2025-03-05"), ("P3", "2025-03-06"), ("P3", "2025-03-08")),  # B, last 03-08: first
            *views("C5", ("P1", "2025-03-02"), ("P1", "2025-03-05"), ("P1", "2025-03-06")),  # one before the window
            ("C6", "cart", "P1", "2025-03-05T10:00:00"),  # carts are no views
            *views("C6", ("P1", "2025-03-06"), ("P1", "2025-03-07")),
        ],
    )
    lines = _lines(silver, [("C2", "O1", "P2", "2025-03-08T09:00:00"), ("C1", "O2", "P3", "2025-03-08T09:00:00")])
    got = browse_without_buy(events, lines, products, as_of=AS_OF, rules=RULES.browse_without_buy)
    expected = [("C1", "A", "2025-03-09", 0), ("C2", "B", "2025-03-07", 0), ("C4", "B", "2025-03-08", 1)]
    reason = "3 views of category {} in the 7 days to 2025-03-10 (last on {}), nothing of it bought; {} other "
    reason += "category(ies) so"
    rows = [(c, "browse_without_buy", k, 3.0, reason.format(k, d, o), "recommend") for c, k, d, o in expected]
    assertDataFrameEqual(got, spark.createDataFrame(rows, ROWS))


def test_dormant_winback_takes_the_action_of_the_crm_tier(spark, silver) -> None:
    customers = silver(
        "silver.customers",
        [
            {"customer_id": "C1", "member_id": "M1", "tier": "gold"},
            {"customer_id": "C2", "member_id": "M2", "tier": "gold"},
            {"customer_id": "C3"},  # not a member
            {"customer_id": "C4", "member_id": "M4", "tier": "platinum"},  # a tier without an action of its own
            {"customer_id": "C5", "member_id": "M5"},  # a member without a tier
        ],
    )
    lines = _lines(
        silver,
        [
            ("C1", "O1", "P1", "2025-02-01T12:00:00"),  # 37 days
            ("C2", "O2", "P1", "2025-02-08T12:00:00"),  # 30 days: not more than 30
            ("C3", "O3", "P1", "2025-01-01T12:00:00"),
            ("C3", "O3", "P2", "2025-01-01T12:00:00"),  # one order of two lines
            ("C4", "O4", "P1", "2025-01-15T12:00:00"),
            ("C5", "O5", "P1", "2025-01-20T12:00:00"),
            ("C6", "O6", "P1", "2024-12-10T12:00:00"),  # not in silver.customers
            ("C6", "O7", "P1", "2025-03-12T12:00:00"),  # after the as-of
            (None, "O8", "P1", "2024-12-01T12:00:00"),  # a walk-in
        ],
    )
    got = dormant_winback(lines, customers, as_of=AS_OF, rules=RULES.dormant_winback)
    expected = [
        ("C1", "gold", 37, "2025-02-01", 1, "10.00", "voucher"),
        ("C3", "none", 68, "2025-01-01", 1, "20.00", "newsletter"),
        ("C4", "platinum", 54, "2025-01-15", 1, "10.00", "newsletter"),
        ("C5", "unknown", 49, "2025-01-20", 1, "10.00", "newsletter"),
        ("C6", "none", 90, "2024-12-10", 1, "10.00", "newsletter"),
    ]
    assertDataFrameEqual(
        got,
        spark.createDataFrame(
            [
                (c, "dormant_winback", t, float(r), f"no purchase for {r} days (last on {d}); {n} order(s), {m} spent "
                 f"in all; tier {t}", a)
                for c, t, r, d, n, m, a in expected
            ],
            ROWS,
        ),
    )  # fmt: skip


def test_high_value_at_risk_multiplies_each_customers_latest_scores_of_the_conf_horizons(spark, silver) -> None:
    churn = silver(
        "gold.churn_scores",
        [
            dict(customer_id=c, as_of=D(d), horizon_days=h, churn_probability=p, risk_band=b)
            for c, d, h, p, b in [
                ("C1", "2025-03-01", 30, 0.9, "high"),
                ("C1", "2025-03-08", 30, 0.8, "high"),  # the latest by the as-of
                ("C1", "2025-03-11", 30, 0.1, "low"),  # after it
                ("C1", "2025-03-09", 7, 0.2, "low"),  # another horizon
                ("C2", "2025-03-08", 30, 0.5, "medium"),  # 0.5 x 100: not above 50
                ("C3", "2025-03-08", 30, 0.9, "high"),  # no LTV
                ("C4", "2025-03-05", 30, 0.6, "medium"),
            ]
        ],
    )
    ltv = silver(
        "gold.customer_ltv",
        [
            dict(customer_id=c, as_of=D(d), horizon_days=h, expected_revenue=r)
            for c, d, h, r in [
                ("C1", "2025-03-08", 30, 100.0),
                ("C1", "2025-03-08", 7, 900.0),
                ("C2", "2025-03-08", 30, 100.0),
                ("C4", "2025-03-02", 30, 200.0),
                ("C5", "2025-03-02", 30, 900.0),  # no churn score
            ]
        ],
    )
    got = high_value_at_risk(churn, ltv, as_of=AS_OF, rules=RULES.high_value_at_risk)
    expected = [  # customer, band, probability, its date, revenue, its date, at risk
        ("C1", "high", "0.80", "2025-03-08", "100.00", "2025-03-08", 80.0),
        ("C4", "medium", "0.60", "2025-03-05", "200.00", "2025-03-02", 120.0),
    ]
    reason = "churn probability {} (scored {}) x expected revenue {} in 30 days (scored {}) = {:.2f} at risk"
    rows = [
        (c, "high_value_at_risk", b, v, reason.format(p, pd, r, rd, v), "call") for c, b, p, pd, r, rd, v in expected
    ]
    assertDataFrameEqual(got, spark.createDataFrame(rows, ROWS))
    # before the first scoring the serving tables read as empty frames of their contract: no one
    empty = [silver(t, []) for t in ("gold.churn_scores", "gold.customer_ltv")]
    assert high_value_at_risk(*empty, as_of=AS_OF, rules=RULES.high_value_at_risk).count() == 0


def test_contact_times_are_the_modes_of_events_and_orders_in_the_window(spark, silver) -> None:
    events = _events(
        silver,
        [
            ("C1", "view", "P1", "2025-03-09T20:05:00"),  # Sunday 20h
            ("C1", "cart", "P1", "2025-03-09T20:40:00"),  # Sunday 20h
            ("C1", "view", "P1", "2025-03-04T09:00:00"),  # Tuesday 9h
            ("C2", "view", "P1", "2025-03-10T23:30:00"),  # Monday 23h UTC, 19h in New York (EDT from 03-09)
            ("C3", "view", "P1", "2025-03-01T08:00:00"),  # before the window
            (None, "view", "P1", "2025-03-05T08:00:00"),
        ],
    )
    lines = _lines(
        silver,
        [
            ("C1", "O1", "P1", "2025-03-05T09:30:00"),  # Wednesday 9h: one order of two lines is one activity
            ("C1", "O1", "P2", "2025-03-05T09:30:00"),
            ("C4", "O2", "P1", "2025-03-06T14:00:00"),  # Thursday 14h
        ],
    )
    got = contact_times(events, lines, as_of=AS_OF, rules=RULES.contact)
    schema = "customer_id string, contact_hour int, contact_weekday string"
    # C1: 9h and 20h twice each, 20h the latest; Sunday twice
    expected = [("C1", 20, "Sunday"), ("C2", 23, "Monday"), ("C4", 14, "Thursday")]
    assertDataFrameEqual(got, spark.createDataFrame(expected, schema))
    new_york = ContactRules(window_days=7, timezone="America/New_York")
    got = contact_times(events, lines, as_of=AS_OF, rules=new_york).where("customer_id = 'C2'")
    assertDataFrameEqual(got, spark.createDataFrame([("C2", 19, "Monday")], schema))


def test_the_snapshot_has_every_audience_of_a_customer_with_its_contact_time(spark, silver) -> None:
    events = _events(silver, _carts("C1", "P1", "2025-03-05", "2025-03-06", "2025-03-07"))
    lines = _lines(silver, [("C1", "O1", "P2", "2025-01-05T08:00:00"), ("C2", "O2", "P2", "2025-01-06T08:00:00")])
    products = silver("silver.products", [{"sku": "P1", "category": "A"}])
    customers = silver("silver.customers", [{"customer_id": "C1", "member_id": "M1", "tier": "basic"}])
    churn, ltv = silver("gold.churn_scores", []), silver("gold.customer_ltv", [])
    got = marketing_audiences(events, lines, products, customers, churn, ltv, as_of=AS_OF, rules=RULES)
    assert got.schema.simpleString() == spark.createDataFrame([], ddl("gold.marketing_audiences")).schema.simpleString()
    rows = {(r["customer_id"], r["audience"]): (r["detail"], r["action"], r["contact_hour"], r["contact_weekday"])
            for r in got.collect()}  # fmt: skip
    assert rows == {
        ("C1", "cart_abandonment"): ("P1", "remind", 12, "Friday"),  # carts at noon, Friday 03-07 the latest
        ("C1", "dormant_winback"): ("basic", "free_shipping", 12, "Friday"),
        ("C2", "dormant_winback"): ("none", "newsletter", None, None),  # no activity in the window
    }
    assert {r["as_of"] for r in got.collect()} == {AS_OF}
    assert tuple(got.columns[1:7]) == AUDIENCE


def _top(counted, by: str) -> dict[str, tuple[str, float]]:
    """customer -> (`by` value, events) of the first row per customer: most events, then the latest, then `by`."""
    ranked = counted.sort_values(["customer_id", "n", "last", by], ascending=[True, False, False, True])
    return {c: (g[by].iloc[0], float(g["n"].iloc[0])) for c, g in ranked.groupby("customer_id")}


def _left_alone(events, lines, *, kind: str, by: str, days: int, at_least: int, as_of: date):
    """The pandas count: events of `kind` per customer x `by` in the `days` to `as_of`, at least `at_least`, less
    what the customer bought of it in those days."""
    first = as_of - timedelta(days=days - 1)
    seen = events[(events["event_type"] == kind) & (events["event_date"] >= first) & (events["event_date"] <= as_of)]
    counted = seen.groupby(["customer_id", by]).agg(n=("event_ts", "size"), last=("event_ts", "max")).reset_index()
    bought = lines[(lines["order_date"] >= first) & (lines["order_date"] <= as_of)][["customer_id", by]]
    left = counted[counted["n"] >= at_least].merge(bought.drop_duplicates(), how="left", indicator=True)
    return _top(left[left["_merge"] == "left_only"], by)


def test_the_cart_and_browse_rules_find_what_the_generators_shoppers_left_alone(spark, cfg) -> None:
    """The generator's shoppers view and cart what they like in browse sessions and buy some of it: its own event and
    order records, counted with pandas, give the customers each rule must find and what it must name. Browsing uses
    the conf rules; abandoned carts are rare at the conf's 3 (shoppers cart once a session, and buy what they cart
    again), so that rule is checked from 2 carts on."""
    import pandas as pd

    from jobs.generate.assortment import CATEGORIES
    from jobs.generate.params import GenerateParams
    from jobs.generate.world import build_world

    w = build_world(GenerateParams(customers=1000, days=30, stores=2, skus=40, seed=3))
    as_of = w.cal.start + timedelta(days=w.params.days - 1)
    category = {str(s): CATEGORIES[c] for s, c in zip(w.cat.sku, w.cat.category, strict=True)}
    person = dict(zip(w.idents.account, w.idents.person, strict=True))
    ev = pd.concat(w.events.values(), ignore_index=True)
    ev = ev[ev["account"].notna() & (ev["sku"] >= 0)]
    events = pd.DataFrame(
        {
            "customer_id": ev["account"].map(person).map("P{}".format),
            "event_type": ev["event_type"],
            "sku": w.cat.sku[ev["sku"].to_numpy()].astype(str),
            "event_ts": pd.to_datetime(ev["ts_ms"], unit="ms"),  # UTC, and so are the dates below
        }
    )
    events["event_date"] = events["event_ts"].dt.date
    order = w.orders.iloc[w.lines["order"].to_numpy()].reset_index(drop=True)
    sold = (order["person"].to_numpy() >= 0) & (order["status"].to_numpy() != "cancelled")
    lines = pd.DataFrame(
        {
            "customer_id": order["person"].map("P{}".format),
            "sku": w.cat.sku[w.lines["sku"].to_numpy()].astype(str),
            "order_date": pd.to_datetime(order["ts_ms"], unit="ms").dt.date,
        }
    )[sold]
    for frame in (events, lines):
        frame["category"] = frame["sku"].map(category)
    spark_events = spark.createDataFrame(
        events.drop(columns="category"),
        "customer_id string, event_type string, sku string, event_ts timestamp, event_date date",
    )
    sold_lines = lines.drop(columns="category")
    spark_lines = spark.createDataFrame(sold_lines, "customer_id string, sku string, order_date date")
    products = spark.createDataFrame(list(category.items()), "sku string, category string")

    carts = replace(cfg.gold.audiences.cart_abandonment, min_carts=2)
    truth = _left_alone(
        events, lines, kind="cart", by="sku", days=carts.window_days, at_least=carts.min_carts, as_of=as_of
    )
    found = cart_abandonment(spark_events, spark_lines, as_of=as_of, rules=carts).collect()
    assert len(truth) >= 5 and {r["customer_id"]: (r["detail"], r["score"]) for r in found} == truth
    browse = cfg.gold.audiences.browse_without_buy
    truth = _left_alone(
        events, lines, kind="view", by="category", days=browse.window_days, at_least=browse.min_views, as_of=as_of
    )
    found = browse_without_buy(spark_events, spark_lines, products, as_of=as_of, rules=browse).collect()
    assert len(truth) >= 5 and {r["customer_id"]: (r["detail"], r["score"]) for r in found} == truth
