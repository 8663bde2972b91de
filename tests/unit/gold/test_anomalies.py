from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as Dec

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.common.config.gold import AnomalyRules
from jobs.gold.anomalies import anomalies

DAY = date(2025, 3, 1)
START = datetime(2025, 3, 1, 9)


def _order(order_id: str, account: str | None, amount: str, minute: int, phone: str | None, device: str | None):
    return {
        "channel": "web" if account else "pos",
        "order_id": order_id,
        "line_no": 1,
        "account_id": account,
        "customer_id": account and "C-" + account,
        "order_ts": START + timedelta(minutes=minute),
        "order_date": DAY,
        "quantity": 1,
        "net_amount": Dec(amount),
        "phone_token": phone,
        "device_id": device,
        "status": "paid",
    }


def test_planted_fraud_patterns_rank_above_every_normal_order(spark, silver) -> None:
    # a small day: the bot alone places as many orders as all ordinary customers together, and walk-ins
    # (no account) must not pool into one "account"
    normal = [_order(f"N{i}", f"a{i}", f"{20 + (i * 37) % 100}.00", i, f"p{i}", f"d{i}") for i in range(30)]
    walk_ins = [_order(f"P{i}", None, "35.00", 100 + i, None, None) for i in range(5)]
    ring = [_order(f"R{i}", f"ring{i}", "900.00", 300 + i, "ring-phone", f"rd{i}") for i in range(8)]
    bot = [_order(f"B{i}", "bot", "40.00", 400 + i, "bot-phone", "bot-device") for i in range(30)]
    whale = [_order("W1", "whale", "20000.00", 500, "whale-phone", "whale-device")]
    lines = silver("silver.order_lines", normal + walk_ins + ring + bot + whale)
    found = anomalies(lines, rules=AnomalyRules(min_score=3.5, window_days=7, top_per_day=10))
    planted = [o["order_id"] for o in ring + bot + whale]
    assertDataFrameEqual(
        found.where(F.col("rank") <= len(planted)).select("order_id", "flagged"),
        spark.createDataFrame([(o, True) for o in planted], "order_id string, flagged boolean"),
    )
    assertDataFrameEqual(
        found.where(F.col("order_id").isin("R0", "B0", "W1")).select(
            "order_id", "account_orders", "phone_accounts", "reasons"
        ),
        spark.createDataFrame(
            [
                ("R0", 1, 8, ["amount", "phone_orders", "phone_accounts"]),
                ("B0", 30, 1, ["account_orders", "device_orders", "phone_orders"]),
                ("W1", 1, 1, ["amount"]),
            ],
            "order_id string, account_orders long, phone_accounts long, reasons array<string>",
        ),
    )
