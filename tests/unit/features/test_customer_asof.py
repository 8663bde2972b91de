from __future__ import annotations

import statistics
from datetime import date, datetime
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.features.customer_asof import customer_asof

AS_OF = date(2025, 3, 31)
GAPS = (19, 8)  # C1's days between purchases up to AS_OF: 03-01 -> 03-20 -> 03-28
OUT = (
    "as_of date, customer_id string, recency_days int, frequency long, monetary double, tenure_days int, "
    "orders_7d long, revenue_7d double, orders_30d long, revenue_30d double, channel_share_web double, "
    "channel_share_pos double, categories long, top_category string, top_category_share double, "
    "return_rate double, gap_mean_days double, gap_std_days double, gap_last_days int, recency_gap_ratio double, "
    "events_7d long, sessions_7d long, views_7d long, carts_7d long, days_since_last_event int"
)


def test_features_use_data_up_to_as_of_inclusive(spark, silver) -> None:
    def order(channel, order_id, customer, day, sku, qty, net):
        d = date.fromisoformat(day)
        return {
            "channel": channel,
            "order_id": order_id,
            "line_no": 1,
            "customer_id": customer,
            "order_date": d,
            "order_ts": datetime(d.year, d.month, d.day, 12),
            "sku": sku,
            "quantity": qty,
            "net_amount": Dec(net),
        }

    lines = silver(
        "silver.order_lines",
        [
            order("web", "O1", "C1", "2025-03-01", "P1", 2, "100.00"),
            order("pos", "O2", "C1", "2025-03-20", "P2", 1, "50.00"),
            order("web", "O3", "C1", "2025-03-28", "P1", 1, "30.00"),
            order("web", "O4", "C1", "2025-04-02", "P1", 1, "99.00"),
            order("pos", "O5", "C2", "2025-03-31", "P2", 1, "20.00"),
        ],
    )
    returns = silver(
        "silver.returns",
        [
            {
                "return_id": "R1",
                "channel": "web",
                "order_id": "O1",
                "line_no": 1,
                "quantity": 1,
                "return_date": date(2025, 3, 5),
            },
            {
                "return_id": "R2",
                "channel": "web",
                "order_id": "O3",
                "line_no": 1,
                "quantity": 1,
                "return_date": date(2025, 4, 1),
            },
        ],
    )

    def event(session, event_type, day):
        d = date.fromisoformat(day)
        return {
            "channel": "web",
            "event_id": f"{session}{event_type}{day}",
            "event_date": d,
            "session_id": session,
            "customer_id": "C1",
            "event_type": event_type,
        }

    events = silver(
        "silver.events",
        [
            event("s0", "view", "2025-03-10"),
            event("s1", "view", "2025-03-26"),
            event("s1", "cart", "2025-03-26"),
            event("s2", "view", "2025-03-30"),
            event("s3", "view", "2025-04-01"),
        ],
    )
    products = silver("silver.products", [{"sku": "P1", "category": "A"}, {"sku": "P2", "category": "B"}])
    # C1: purchase dates 03-01, 03-20, 03-28 -> gaps 19 and 8; 30-day window is 03-02 .. 03-31
    expected = spark.createDataFrame(
        [
            (
                AS_OF,
                "C1",
                3,
                3,
                180.0,
                30,
                1,
                30.0,
                2,
                80.0,
                round(2 / 3, 4),  # 2 of 3 orders on web
                round(1 / 3, 4),  # 1 of 3 at the POS
                2,
                "A",
                round((100 + 30) / 180, 4),  # category A's share of the 180.0 spent
                1 / 4,  # 1 of 4 units returned by as_of (R2 comes after it)
                statistics.mean(GAPS),
                round(statistics.stdev(GAPS), 4),
                8,
                round(3 / statistics.mean(GAPS), 4),  # recency 3 days over the mean gap
                3,
                2,
                2,
                1,
                1,
            ),
            (
                AS_OF,
                "C2",
                0,
                1,
                20.0,
                0,
                1,
                20.0,
                1,
                20.0,
                0.0,
                1.0,
                1,
                "B",
                1.0,
                0.0,
                None,
                None,
                None,
                None,
                0,
                0,
                0,
                0,
                None,
            ),
        ],
        OUT,
    )
    actual = customer_asof(
        lines, returns, events, products, as_of=AS_OF, windows=(7, 30), channels=("web", "pos"), engagement_days=7
    )
    assertDataFrameEqual(actual, expected)
