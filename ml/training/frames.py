"""Point-in-time customer frames for LTV and churn, built in Spark (one row per customer with a sale up to as_of).

A frame is: customer_id, every numeric column of features.customer_asof at as_of (as double), the BG/NBD summary
at as_of (bg_x, bg_t_x, bg_T, bg_m_x, from ml.models.ltv.probabilistic.summarise_transactions) and, for training, the
labels of the window (as_of, as_of + H]: label_purchases (purchase days, one per customer per day, as in the
BG/NBD) and label_revenue. Features come from the features.customer_asof snapshot when it exists for as_of;
otherwise the same transform (jobs.features.customer_asof) is run on silver for that date, so any past date can
be a training date whatever the snapshot retention.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.gold.sales import sales_lines
from jobs.io.inputs import read_inputs
from ml.models.ltv.probabilistic import summarise_transactions
from ml.settings import config_section, excluded_statuses
from ml.training.windows import History, HistoryError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from jobs.common.config import Config
    from jobs.io.tables import Catalog

KEY = "customer_id"
SUMMARY_COLUMNS = ("bg_x", "bg_t_x", "bg_T", "bg_m_x")
LABEL_COLUMNS = ("label_purchases", "label_revenue")
FEATURES_TABLE = "features.customer_asof"
_SUMMARY_SCHEMA = f"{KEY} string, " + ", ".join(f"{c} double" for c in SUMMARY_COLUMNS)
_NOT_FEATURES = {KEY, "as_of", *LABEL_COLUMNS}
_NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.DecimalType, T.BooleanType)


def numeric_columns(df: DataFrame, *, exclude: set[str] = _NOT_FEATURES) -> list[str]:
    """Every numeric (or boolean) column of `df` except keys and labels, in schema order."""
    return [f.name for f in df.schema.fields if isinstance(f.dataType, _NUMERIC) and f.name not in exclude]


def feature_columns(frame_columns: list[str]) -> list[str]:
    """The model features of a customer frame: everything but the key and the labels."""
    return [c for c in frame_columns if c not in _NOT_FEATURES]


def purchase_days(lines: DataFrame) -> DataFrame:
    """customer_id, order_date, amount: one row per customer and day with a sale (amount summed)."""
    return (
        lines.where(F.col(KEY).isNotNull())
        .groupBy(KEY, "order_date")
        .agg(F.sum("net_amount").cast("double").alias("amount"))
    )


def bgnbd_summary(days: DataFrame, *, as_of: date, buckets: int) -> DataFrame:
    """(bg_x, bg_t_x, bg_T, bg_m_x) per customer with a purchase day up to `as_of`, by summarise_transactions run
    on customer hash buckets (applyInPandas: each bucket holds whole customers)."""

    def summarise(pdf: pd.DataFrame) -> pd.DataFrame:
        s = summarise_transactions(pdf[KEY], pdf["order_date"], pdf["amount"], as_of)
        return pd.DataFrame(
            {
                KEY: s["customer_id"].astype(str),
                "bg_x": s["x"].astype(float),
                "bg_t_x": s["t_x"].astype(float),
                "bg_T": s["T"].astype(float),
                "bg_m_x": s["m_x"].astype(float),
            }
        )

    upto = days.where(F.col("order_date") <= F.lit(as_of))
    bucket = F.pmod(F.xxhash64(KEY), F.lit(buckets)).alias("_bucket")
    return upto.select(bucket, KEY, "order_date", "amount").groupBy("_bucket").applyInPandas(summarise, _SUMMARY_SCHEMA)


def window_labels(days: DataFrame, *, start: date, label_days: int) -> DataFrame:
    """label_purchases (purchase days) and label_revenue per customer in (start, start + label_days]."""
    end = start + timedelta(days=label_days)
    inside = days.where((F.col("order_date") > F.lit(start)) & (F.col("order_date") <= F.lit(end)))
    return inside.groupBy(KEY).agg(
        F.count("*").cast("double").alias("label_purchases"), F.sum("amount").cast("double").alias("label_revenue")
    )


class CustomerSource:
    """Silver inputs read once per command; builds customer frames for any as-of date."""

    def __init__(self, catalog: Catalog, cfg: Config, *, buckets: int) -> None:
        self.catalog = catalog
        self.cfg = cfg
        self.buckets = buckets
        self.inputs = read_inputs(catalog, ("silver.order_lines", "silver.returns", "silver.events", "silver.products"))
        self.lines = sales_lines(self.inputs["silver.order_lines"], excluded_statuses=excluded_statuses(cfg))
        self.days = purchase_days(self.lines)

    def history(self) -> History:
        row = self.days.agg(F.min("order_date").alias("first"), F.max("order_date").alias("last")).first()
        if row is None or row["first"] is None:
            raise HistoryError("silver.order_lines has no customer sales: run `omnilake ingest` first")
        return History(first=row["first"], last=row["last"])

    def features(self, as_of: date) -> DataFrame:
        """features.customer_asof at `as_of`: the stored snapshot, else computed by the same transform."""
        if self.catalog.exists(FEATURES_TABLE):
            snap = self.catalog.read(FEATURES_TABLE).where(F.col("as_of") == F.lit(as_of))
            if snap.limit(1).count() > 0:
                return snap
        from jobs.features.customer_asof import customer_asof
        from jobs.gold.rules import FeatureRules

        rules = FeatureRules.from_section(config_section(self.cfg, "features"))
        return customer_asof(
            self.lines,
            self.inputs["silver.returns"],
            self.inputs["silver.events"],
            self.inputs["silver.products"],
            as_of=as_of,
            windows=rules.windows_days,
            channels=rules.channels,
            engagement_days=rules.engagement_days,
        )

    def frame(self, as_of: date, *, label_days: int | None = None) -> DataFrame:
        """Every customer with a purchase up to `as_of`: features (double), BG/NBD summary, labels if asked."""
        feats = self.features(as_of)
        numeric = numeric_columns(feats)
        feats = feats.select(KEY, *[F.col(c).cast("double").alias(c) for c in numeric])
        frame = bgnbd_summary(self.days, as_of=as_of, buckets=self.buckets).join(feats, on=KEY, how="left")
        if label_days is not None:
            labels = window_labels(self.days, start=as_of, label_days=label_days)
            frame = frame.join(labels, on=KEY, how="left").fillna(0.0, subset=list(LABEL_COLUMNS))
        return frame.select(KEY, *SUMMARY_COLUMNS, *numeric, *([*LABEL_COLUMNS] if label_days is not None else []))
