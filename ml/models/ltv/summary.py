"""Customer-level (x, t_x, T, m_x) summary of a transaction log, in the form the BG/NBD and Gamma-Gamma expect."""

from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ("customer_id", "x", "t_x", "T", "m_x")


def _calendar_days(values) -> pd.Series:
    """Midnight of each value's calendar day; tz-aware stamps keep their own local day."""
    stamps = pd.Series(pd.to_datetime(values))
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    return stamps.dt.normalize()


def summarise_transactions(customer_ids, dates, amounts, as_of) -> pd.DataFrame:
    """One row per customer with a purchase on or before `as_of` (inclusive), sorted by customer_id.

    Purchases are collapsed to one per customer per calendar day (amounts summed), as in Fader, Hardie & Lee (2005).
    x = purchase days - 1 (repeat purchases), t_x = last - first purchase day, T = as_of - first purchase day
    (whole days), m_x = mean daily spend over the x repeat days (the first day excluded; NaN when x = 0).
    Transactions after `as_of` are ignored; missing ids, dates or amounts raise ValueError.
    Read the age column as `summary["T"]`: `summary.T` is pandas' transpose.
    """
    ids = pd.Series(customer_ids).reset_index(drop=True)
    days = _calendar_days(dates).reset_index(drop=True)
    spend = pd.Series(amounts, dtype="float64").reset_index(drop=True)
    if not len(ids) == len(days) == len(spend):
        raise ValueError("customer_ids, dates and amounts must have equal lengths")
    frame = pd.DataFrame({"customer_id": ids, "day": days, "amount": spend})
    if frame.isna().any().any():
        raise ValueError("customer_ids, dates and amounts must not contain missing values")
    cutoff = _calendar_days([as_of]).iloc[0]
    frame = frame.loc[frame["day"] <= cutoff]
    daily = frame.groupby(["customer_id", "day"], sort=True, as_index=False)["amount"].sum()
    per_customer = daily.groupby("customer_id", sort=True)
    first, last = per_customer["day"].min(), per_customer["day"].max()
    repeat_days = daily.loc[daily["day"] > daily["customer_id"].map(first)]
    summary = pd.DataFrame(
        {
            "x": (per_customer.size() - 1).astype(np.int64),
            "t_x": (last - first).dt.days.astype(np.int64),
            "T": (cutoff - first).dt.days.astype(np.int64),
            "m_x": repeat_days.groupby("customer_id")["amount"].mean().reindex(first.index).astype("float64"),
        }
    )
    summary = summary.rename_axis("customer_id").reset_index()
    return summary.loc[:, list(SUMMARY_COLUMNS)]
