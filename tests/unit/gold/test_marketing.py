from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as Dec

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.gold.marketing import attribute_orders, channel_roi, first_purchases, funnel

TS = datetime.fromisoformat


def _event(channel, session, event_type, ts="2025-03-01T10:00:00", customer=None, campaign=None):
    return {
        "channel": channel,
        "event_id": f"{session}-{event_type}-{ts}",
        "event_ts": TS(ts),
        "event_date": TS(ts).date(),
        "session_id": session,
        "customer_id": customer,
        "event_type": event_type,
        "campaign_code": campaign,
    }


def test_funnel_counts_sessions_per_step_and_rates(spark, silver) -> None:
    events = silver(
        "silver.events",
        [
            *[_event("web", "s1", t) for t in ("view", "cart", "order", "paid")],
            _event("web", "s2", "view"),
            _event("web", "s2", "cart"),
            _event("web", "s3", "view"),
            _event("web", "s4", "view"),
            _event("web", "s4", "view", ts="2025-03-01T10:05:00"),  # one session, twice
            _event("app", "s5", "cart"),
        ],
    )
    d = date(2025, 3, 1)
    expected = spark.createDataFrame(
        [(d, "web", 4, 2, 1, 1, 0.5, 0.5, 1.0, 0.25), (d, "app", 0, 1, 0, 0, None, 0.0, None, None)],
        "business_date date, channel string, view_sessions long, cart_sessions long, order_sessions long, "
        "paid_sessions long, cart_rate double, order_rate double, paid_rate double, conversion_rate double",
    )
    assertDataFrameEqual(funnel(events), expected)


def _order(channel, order_id, ts, customer, net, campaign=None, account="acct"):
    return {
        "channel": channel,
        "order_id": order_id,
        "line_no": 1,
        "customer_id": customer,
        "account_id": account,
        "order_ts": TS(ts),
        "order_date": TS(ts).date(),
        "quantity": 1,
        "net_amount": Dec(net),
        "campaign_code": campaign,
    }


def test_last_touch_attribution_within_window_and_roi_cac(spark, silver) -> None:
    lines = silver(
        "silver.order_lines",
        [
            _order("web", "O1", "2025-03-04T12:00:00", "C1", "100.00"),  # last touch: app CAMP_B the day before
            _order("app", "O2", "2025-03-20T12:00:00", "C1", "50.00"),  # touches too old
            _order("pos", "O0", "2025-02-01T12:00:00", "C2", "10.00"),  # C2's first purchase
            _order("web", "O3", "2025-03-04T12:00:00", "C2", "40.00", "CAMP_A"),  # touches itself
            _order("pos", "O4", "2025-03-04T12:00:00", None, "30.00", account="m9"),
            _order("web", "O5", "2025-03-04T12:00:00", "C3", "60.00"),  # touch 12 days before: outside
        ],
    )
    events = silver(
        "silver.events",
        [
            _event("web", "s1", "view", "2025-03-01T10:00:00", "C1", "CAMP_A"),
            _event("app", "s2", "view", "2025-03-03T10:00:00", "C1", "CAMP_B"),
            _event("web", "s3", "view", "2025-02-20T10:00:00", "C3", "CAMP_A"),
        ],
    )
    attributed = attribute_orders(lines, events, window_days=7).select(
        "order_id", "touch_channel", "campaign_id", "is_new"
    )
    assertDataFrameEqual(
        attributed,
        spark.createDataFrame(
            [
                ("O1", "app", "CAMP_B", True),
                ("O2", None, None, False),
                ("O0", None, None, True),
                ("O3", "web", "CAMP_A", False),
                ("O4", None, None, False),
                ("O5", None, None, True),
            ],
            "order_id string, touch_channel string, campaign_id string, is_new boolean",
        ),
    )
    d4, d5 = date(2025, 3, 4), date(2025, 3, 5)
    spend = silver(
        "silver.marketing_spend",
        [
            {
                "spend_date": d4,
                "channel": "web",
                "campaign_id": "CAMP_A",
                "spend": Dec("20.00"),
                "impressions": 100,
                "clicks": 10,
            },
            {  # a CRM push whose code is clicked through to the app: its revenue counts for crm
                "spend_date": d4,
                "channel": "crm",
                "campaign_id": "CAMP_B",
                "spend": Dec("200.00"),
                "impressions": 900,
                "clicks": 30,
            },
            {
                "spend_date": d5,
                "channel": "web",
                "campaign_id": "CAMP_A",
                "spend": Dec("10.00"),
                "impressions": 50,
                "clicks": 5,
            },
        ],
    )
    expected = spark.createDataFrame(
        [
            (d4, "crm", "CAMP_B", Dec("200.00"), 900, 30, 1, Dec("100.00"), 1, -0.5, Dec("200.00")),
            (d4, "web", "CAMP_A", Dec("20.00"), 100, 10, 1, Dec("40.00"), 0, 1.0, None),
            (d5, "web", "CAMP_A", Dec("10.00"), 50, 5, 0, Dec("0.00"), 0, -1.0, None),
        ],
        "business_date date, channel string, campaign_id string, spend decimal(18,2), impressions long, clicks long, "
        "attributed_orders long, attributed_revenue decimal(18,2), new_customers long, roi double, cac decimal(18,2)",
    )
    assertDataFrameEqual(channel_roi(lines, events, spend, window_days=7), expected)


def test_orders_of_a_window_with_first_purchases_from_all_history_attribute_as_over_all_history(spark, silver) -> None:
    """A windowed run passes each customer's first purchase from all history: C1 bought before the window, so
    its order in the window is not new, though it is the first the window holds."""
    lines = silver(
        "silver.order_lines",
        [
            _order("web", "O0", "2025-02-01T12:00:00", "C1", "10.00"),
            _order("web", "O1", "2025-03-04T12:00:00", "C1", "100.00", "CAMP_A"),
            _order("app", "O2", "2025-03-05T12:00:00", "C2", "50.00", "CAMP_A"),
            _order("app", "O3", "2025-03-06T12:00:00", "C2", "70.00", "CAMP_A"),
        ],
    )
    events = silver("silver.events", [_event("web", "s1", "view", "2025-03-03T10:00:00", "C2", "CAMP_B")])
    window = lines.where(F.col("order_date") >= date(2025, 3, 1))
    full = attribute_orders(lines, events, window_days=7)
    windowed = attribute_orders(window, events, window_days=7, first=first_purchases(lines))
    assertDataFrameEqual(windowed, full.where(F.col("order_id") != "O0"))
    assert {r["order_id"]: r["is_new"] for r in windowed.collect()} == {"O1": False, "O2": True, "O3": False}
    assert attribute_orders(window, events, window_days=7).where("order_id = 'O1'").first()["is_new"]  # no history
