"""Returns of about `return_rate` of paid / POS order lines, 1-30 days after the order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .params import GenerateParams
from .util import DAY, Calendar, fmt_ids, rng_for

REASONS = ("damaged", "wrong_item", "not_as_described", "changed_mind", "other")
# the planted reason mix, the same in every category, channel and brand (gold.returns_analysis is checked against it)
REASON_WEIGHTS = (0.2, 0.15, 0.2, 0.35, 0.1)


def build_returns(
    params: GenerateParams,
    cal: Calendar,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    *,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Return rows (partial quantities allowed, refund <= line amount) delivered by their updated_at day (`rng`:
    another stream than the returns' own, for the planted traffic drift's extra orders)."""
    rng = rng_for(params.seed, "returns") if rng is None else rng
    o = lines["order"].to_numpy()
    status = orders["status"].to_numpy()[o]
    ok = ((status == "paid") | (status == None)) & orders["fraud"].isna().to_numpy()[o]  # noqa: E711
    chosen = np.flatnonzero(ok & (rng.random(len(lines)) < params.return_rate))
    delay = rng.integers(1, 31, len(chosen)) * DAY + rng.integers(0, 36_000, len(chosen))
    ts = orders["ts"].to_numpy()[o[chosen]] + delay
    updated = ts + rng.integers(60, 7_200, len(chosen))
    keep = updated < cal.epoch0 + cal.days * DAY
    chosen, ts, updated = chosen[keep], ts[keep], updated[keep]
    qty = lines["qty"].to_numpy()[chosen]
    r_qty = 1 + rng.binomial(qty - 1, 0.3)
    price = lines["price"].to_numpy()[chosen]
    discount = lines["discount"].to_numpy()[chosen]
    refund = np.round(price * r_qty - discount * r_qty / qty, 2)
    out = pd.DataFrame(
        {
            "order": o[chosen],
            "line_no": lines["line_no"].to_numpy()[chosen],
            "sku": lines["sku"].to_numpy()[chosen],
            "qty": r_qty,
            "refund": refund,
            "reason": np.array(REASONS, dtype=object)[rng.choice(len(REASONS), len(chosen), p=list(REASON_WEIGHTS))],
            "ts": ts,
            "updated": updated,
        }
    )
    out = out.sort_values(["updated", "order", "line_no"], kind="mergesort").reset_index(drop=True)
    out["return_id"] = fmt_ids("R", 100_000_001 + np.arange(len(out)))
    return out
