from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as Dec

from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import RfmTiers, Tier
from jobs.gold.customers import customer_360, rfm_segments

AS_OF = date(2025, 6, 30)
TIERS = RfmTiers(
    (
        Tier("top", max_recency_days=30, min_orders=5, min_spend=2000),
        Tier("dormant", min_recency_days=90),
        Tier("at_risk", min_recency_days=60),
        Tier("loyal", min_orders=2),
    ),
    "occasional",
)
RFM = (
    "as_of date, customer_id string, recency_days int, frequency long, monetary decimal(18,2), r_score int, "
    "f_score int, m_score int, rfm_score string, tier string, tier_customers long"
)


def _orders(customer: str, amount: str, *days: str) -> list[dict]:
    return [
        {
            "channel": "web",
            "order_id": f"{customer}-{d}",
            "line_no": 1,
            "customer_id": customer,
            "order_date": date.fromisoformat(f"2025-{d}"),
            "net_amount": Dec(amount),
            "quantity": 1,
        }
        for d in days
    ]


def test_rfm_tiers_use_strict_bounds_and_scores_are_tie_stable(spark, silver) -> None:
    lines = silver(
        "silver.order_lines",
        [
            *_orders("C1", "400.00", "06-25", "06-20", "06-15", "06-10", "06-05", "06-01"),  # 5 days, 6 orders, 2400
            *_orders("C2", "100.00", "03-01"),  # 121 days: dormant
            *_orders("C3", "50.00", "04-20", "04-10", "04-01"),  # 71 days: at risk
            *_orders("C4", "30.00", "06-20", "06-10", "06-01"),  # 3 orders > 2: loyal
            *_orders("C5", "10.00", "06-29", "07-01"),  # the July order is after as_of
            *_orders("C6", "20.00", "06-15"),
        ],
    )
    expected = spark.createDataFrame(
        [
            (AS_OF, "C1", 5, 6, Dec("2400.00"), 5, 5, 5, "555", "top", 1),
            (AS_OF, "C2", 121, 1, Dec("100.00"), 1, 3, 4, "134", "dormant", 1),
            (AS_OF, "C3", 71, 3, Dec("150.00"), 2, 5, 5, "255", "at_risk", 1),
            (AS_OF, "C4", 10, 3, Dec("90.00"), 4, 5, 3, "453", "loyal", 1),
            (AS_OF, "C5", 1, 1, Dec("10.00"), 5, 3, 1, "531", "occasional", 2),
            (AS_OF, "C6", 15, 1, Dec("20.00"), 3, 3, 2, "332", "occasional", 2),
        ],
        RFM,
    )
    assertDataFrameEqual(rfm_segments(lines, as_of=AS_OF, tiers=TIERS), expected)


def test_customer_360_joins_history_returns_preferences_and_profile(spark, silver) -> None:
    as_of = date(2025, 3, 10)

    def line(channel, order_id, line_no, day, sku, qty, net, store=None):
        return {
            "channel": channel,
            "order_id": order_id,
            "line_no": line_no,
            "customer_id": "C1",
            "store_id": store,
            "order_date": date(2025, 3, day),
            "sku": sku,
            "quantity": qty,
            "net_amount": Dec(net),
        }

    lines = silver(
        "silver.order_lines",
        [
            line("web", "W1", 1, 1, "P1", 2, "20.00"),
            line("web", "W1", 2, 1, "P2", 1, "20.00"),
            line("pos", "T1", 1, 5, "P1", 1, "10.00", store="S1"),
            line("web", "W9", 1, 11, "P1", 1, "10.00"),
        ],
    )
    returns = silver(
        "silver.returns",
        [
            {
                "return_id": "R1",
                "channel": "web",
                "order_id": "W1",
                "line_no": 2,
                "quantity": 1,
                "refund_amount": Dec("20.00"),
                "return_date": date(2025, 3, 6),
            }
        ],
    )
    products = silver(
        "silver.products",
        [
            {"sku": "P1", "category": "A", "unit_cost": Dec("6.00")},
            {"sku": "P2", "category": "B", "unit_cost": Dec("8.00")},
        ],
    )

    def customer(cid, tier, email, seen):
        return {
            "customer_id": cid,
            "tier": tier,
            "consent_email": email,
            "consent_sms": False,
            "first_seen_ts": datetime.fromisoformat(seen),
        }

    customers = silver(
        "silver.customers",
        [
            customer("C1", "gold", True, "2025-02-01T00:00:00"),
            customer("C2", "silver", False, "2025-03-02T00:00:00"),
            customer("C3", "silver", False, "2025-03-20T00:00:00"),
        ],
    )
    expected = spark.createDataFrame(
        [
            (
                as_of,
                "C1",
                ["pos", "web"],
                date(2025, 3, 1),
                date(2025, 3, 5),
                2,
                4,
                Dec("50.00"),
                Dec("24.00"),
                1,
                1,
                Dec("20.00"),
                "A",
                "pos",
                "gold",
                True,
                False,
            ),
            (
                as_of,
                "C2",
                [],
                None,
                None,
                0,
                0,
                Dec("0.00"),
                Dec("0.00"),
                0,
                0,
                Dec("0.00"),
                None,
                None,
                "silver",
                False,
                False,
            ),
        ],
        "as_of date, customer_id string, channels array<string>, first_purchase_date date, last_purchase_date date, "
        "orders long, units long, revenue decimal(18,2), margin decimal(18,2), returns long, returned_units long, "
        "refund_amount decimal(18,2), preferred_category string, preferred_channel string, member_tier string, "
        "consent_email boolean, consent_sms boolean",
    )
    assertDataFrameEqual(customer_360(lines, returns, products, customers, as_of=as_of), expected)
