"""Planted-signal customer histories for tests and benchmarks (numpy, seeded, small).

Each customer is acquired on a random day with a first purchase, then buys as a Poisson process with rate
lambda ~ Gamma(r, alpha) per day and drops out after each repeat purchase with probability p ~ Beta(a, b) (the
BG/NBD story: ml.models.ltv.bgnbd.simulate_purchases, the one simulator of it); spend per purchase
~ Gamma(spend_shape, rate nu), nu ~ Gamma(spend_q, rate spend_v).
Planted beyond the BG/NBD, so that a feature model can and should beat both recency and the BG/NBD:
- customers browse (web events) at `browse_rate` per day while alive and stop when they drop out, so
  days since the last event tells who is still there even when purchases are far apart;
- some channels also lose customers silently (an exponential lifetime from acquisition, purchase or not),
  which the BG/NBD cannot represent (it lets customers drop out only right after a purchase);
- each customer has a taste group and buys (and views) SKUs of that group with probability `taste`, so
  collaborative filtering can beat popularity.
store_sales() plants store x SKU daily demand with weekly seasonality and promotion lifts for the demand model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ml.models.ltv.bgnbd import simulate_purchases

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class Planted:
    customers: int = 1500
    days: int = 200
    acquisition_share: float = 0.8  # customers are acquired over the first share of the days
    r: float = 1.0
    alpha: float = 12.0
    a: float = 0.6
    b: float = 4.0
    spend_shape: float = 4.0
    spend_q: float = 4.0
    spend_v: float = 150.0
    browse_rate: float = 0.15  # web sessions per day while alive
    skus: int = 24  # SKU-00 .. SKU-23, in `groups` taste groups
    groups: int = 4
    taste: float = 0.8
    # (channel, share of customers, silent dropout hazard per day)
    channels: tuple[tuple[str, float, float], ...] = (
        ("web", 0.4, 0.0),
        ("app", 0.3, 0.0),
        ("marketplace", 0.3, 1 / 30),
    )


@dataclass(frozen=True)
class Simulated:
    transactions: pd.DataFrame  # customer_id, channel, order_date, amount, sku
    events: pd.DataFrame  # customer_id, event_date, sku


def _days(start: date, offsets: np.ndarray) -> list[date]:
    return [start + timedelta(days=int(d)) for d in np.floor(offsets)]


def _skus(planted: Planted, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A SKU per row: from the row's taste group with probability `taste`, else any SKU."""
    per_group = planted.skus // planted.groups
    own = group * per_group + rng.integers(0, per_group, size=len(group))
    anything = rng.integers(0, planted.skus, size=len(group))
    return np.array([f"SKU-{i:02d}" for i in np.where(rng.random(len(group)) < planted.taste, own, anything)])


def simulate(planted: Planted, *, start: date, seed: int) -> Simulated:
    """Every purchase and browse event in [start, start + days) (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = planted.customers
    first = rng.integers(0, max(1, int(planted.days * planted.acquisition_share)), size=n).astype(float)
    lam = rng.gamma(planted.r, 1.0 / planted.alpha, size=n)
    shares = np.array([c[1] for c in planted.channels])
    channel = rng.choice(len(planted.channels), size=n, p=shares / shares.sum())
    hazard = np.array([c[2] for c in planted.channels])[channel]
    death = np.minimum(first + rng.exponential(1.0 / np.maximum(hazard, 1e-12)), planted.days)
    p = rng.beta(planted.a, planted.b, size=n)
    nu = rng.gamma(planted.spend_q, 1.0 / planted.spend_v, size=n)
    group = rng.integers(0, planted.groups, size=n)
    # the BG/NBD purchase process itself, censored by the silent lifetime; the first purchase is the acquisition
    repeat, at, dropout = simulate_purchases(lam, p, first, death, rng)
    death = np.minimum(death, dropout)
    customer = np.concatenate([np.arange(n), repeat])
    amount = np.round(rng.gamma(planted.spend_shape, 1.0 / nu[customer]), 2)
    names = np.array([c[0] for c in planted.channels])
    label = np.array([f"c{c:05d}" for c in range(n)])
    tx = pd.DataFrame(
        {
            "customer_id": label[customer],
            "channel": names[channel[customer]],
            "order_date": _days(start, np.concatenate([first, at])),
            "amount": amount,
            "sku": _skus(planted, group[customer], rng),
        }
    )
    browse = rng.poisson(planted.browse_rate * (death - first))
    who = np.repeat(np.arange(n), browse)
    when = first[who] + rng.random(len(who)) * (death - first)[who]
    events = pd.DataFrame(
        {"customer_id": label[who], "event_date": _days(start, when), "sku": _skus(planted, group[who], rng)}
    )
    return Simulated(
        tx.sort_values(["customer_id", "order_date"], kind="stable").reset_index(drop=True),
        events.sort_values(["customer_id", "event_date"], kind="stable").reset_index(drop=True),
    )


def _typed(spark: SparkSession, pdf: pd.DataFrame, table: str, values: dict) -> DataFrame:
    from pyspark.sql import functions as F

    from jobs.io.inputs import input_schema

    fields = spark.createDataFrame([], input_schema(table)).schema.fields
    df = spark.createDataFrame(pdf)
    return df.select(*[values.get(f.name, F.lit(None)).cast(f.dataType).alias(f.name) for f in fields])


def order_lines(spark: SparkSession, transactions: pd.DataFrame) -> DataFrame:
    """The purchases as silver.order_lines rows (one order of one line per purchase)."""
    from pyspark.sql import functions as F

    pdf = transactions.reset_index(drop=True)
    pdf = pdf.assign(order_id=[f"o{i:07d}" for i in range(len(pdf))], order_date=pd.to_datetime(pdf["order_date"]))
    values = {
        "channel": F.col("channel"),
        "order_id": F.col("order_id"),
        "line_no": F.lit(1),
        "customer_id": F.col("customer_id"),
        "account_id": F.col("customer_id"),
        "order_ts": F.col("order_date") + F.expr("INTERVAL 12 HOURS"),
        "order_date": F.to_date("order_date"),
        "status": F.lit("paid"),
        "sku": F.col("sku"),
        "quantity": F.lit(1),
        "unit_price": F.col("amount"),
        "discount": F.lit(0),
        "net_amount": F.col("amount"),
        "_version": F.lit(1),
        "_batch_id": F.concat(F.col("channel"), F.lit("-1")),
    }
    return _typed(
        spark, pdf[["customer_id", "channel", "order_date", "amount", "order_id", "sku"]], "silver.order_lines", values
    )


def web_events(spark: SparkSession, events: pd.DataFrame) -> DataFrame:
    """The browse events as silver.events rows (one view per session)."""
    from pyspark.sql import functions as F

    pdf = events.reset_index(drop=True)
    pdf = pdf.assign(event_id=[f"e{i:08d}" for i in range(len(pdf))], event_date=pd.to_datetime(pdf["event_date"]))
    values = {
        "channel": F.lit("web"),
        "event_id": F.col("event_id"),
        "session_id": F.col("event_id"),
        "event_ts": F.col("event_date") + F.expr("INTERVAL 10 HOURS"),
        "event_date": F.to_date("event_date"),
        "account_id": F.col("customer_id"),
        "customer_id": F.col("customer_id"),
        "event_type": F.lit("view"),
        "sku": F.col("sku"),
    }
    return _typed(spark, pdf[["customer_id", "event_date", "event_id", "sku"]], "silver.events", values)


def customer_frame(sim: Simulated, *, as_of: date, horizon_days: int) -> pd.DataFrame:
    """A pandas customer frame like ml/training/frames.py's (BG/NBD summary, a few features, labels) for tests."""
    from ml.models.ltv.probabilistic import summarise_transactions

    tx = sim.transactions
    s = summarise_transactions(tx["customer_id"], tx["order_date"], tx["amount"], as_of)
    frame = pd.DataFrame(
        {
            "customer_id": s["customer_id"],
            "bg_x": s["x"].astype(float),
            "bg_t_x": s["t_x"].astype(float),
            "bg_T": s["T"].astype(float),
            "bg_m_x": s["m_x"],
        }
    )
    seen = tx[tx["order_date"] <= as_of]
    shares = pd.crosstab(seen["customer_id"], seen["channel"], normalize="index").add_prefix("channel_share_")
    browsed = sim.events[sim.events["event_date"] <= as_of].groupby("customer_id")["event_date"].max()
    since_event = browsed.map(lambda d: float((as_of - d).days)).rename("days_since_last_event")
    end = as_of + timedelta(days=horizon_days)
    inside = tx[(tx["order_date"] > as_of) & (tx["order_date"] <= end)]
    labels = (
        inside.groupby("customer_id")
        .agg(label_purchases=("order_date", "nunique"), label_revenue=("amount", "sum"))
        .astype(float)
    )
    for extra in (shares, since_event, labels):
        frame = frame.merge(extra, left_on="customer_id", right_index=True, how="left")
    frame = frame.fillna({"label_purchases": 0.0, "label_revenue": 0.0})
    recency = frame["bg_T"] - frame["bg_t_x"]
    gap = (frame["bg_t_x"] / frame["bg_x"]).where(frame["bg_x"] > 0)
    return frame.assign(
        recency_days=recency, frequency=frame["bg_x"] + 1, gap_mean_days=gap, recency_gap_ratio=recency / gap
    )


def store_sales(*, stores: int, skus: int, days: int, start: date, seed: int) -> pd.DataFrame:
    """store_id, sku, sales_date, units, price, promo: Poisson daily units with a per-series level, a weekly
    profile (weekends x1.6) and promotions (one week in four per SKU, x2.5 at a 20% lower price)."""
    rng = np.random.default_rng(seed)
    level = rng.gamma(2.0, 2.0, size=(stores, skus))
    offset = rng.integers(0, 28, size=skus)
    day = np.arange(days)
    weekday = np.array([(start + timedelta(days=int(d))).weekday() for d in day])
    weekly = np.where(weekday >= 5, 1.6, 1.0)
    promo = ((day[None, :] + offset[:, None]) % 28) < 7  # skus x days
    mean = level[:, :, None] * weekly[None, None, :] * np.where(promo, 2.5, 1.0)[None, :, :]
    units = rng.poisson(mean)
    s, k, d = np.meshgrid(np.arange(stores), np.arange(skus), day, indexing="ij")
    return pd.DataFrame(
        {
            "store_id": [f"S{i:02d}" for i in s.ravel()],
            "sku": [f"SKU-{i:02d}" for i in k.ravel()],
            "sales_date": _days(start, d.ravel().astype(float)),
            "units": units.ravel().astype(float),
            "price": np.where(promo[k.ravel(), d.ravel()], 8.0, 10.0),
            "promo": promo[k.ravel(), d.ravel()],
        }
    )


def products(skus: int, *, groups: int = 4) -> pd.DataFrame:
    """sku, category (cat-<group>), list_price 10 for the planted SKUs."""
    per_group = max(skus // groups, 1)
    return pd.DataFrame(
        {
            "sku": [f"SKU-{i:02d}" for i in range(skus)],
            "category": [f"cat-{i // per_group}" for i in range(skus)],
            "list_price": 10.0,
        }
    )


def silver_frame(spark: SparkSession, pdf: pd.DataFrame, table: str) -> DataFrame:
    """`pdf` cast onto the columns of silver `table` (missing columns null)."""
    from pyspark.sql import functions as F

    data = pdf.copy()
    for col in data.columns:
        if data[col].dtype == object and len(data) and isinstance(data[col].iloc[0], date):
            data[col] = pd.to_datetime(data[col])
    return _typed(spark, data, table, {c: F.col(c) for c in data.columns})
