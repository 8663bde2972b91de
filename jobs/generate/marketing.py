"""Marketing campaigns (codes used on sessions/orders) and their daily spend rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .params import GenerateParams
from .util import DAY, Calendar, rng_for

SPEND_CHANNELS = ("web", "app", "marketplace", "pos", "crm")
_CODE = {"web": "WEB", "app": "APP", "marketplace": "MKT", "pos": "POS", "crm": "CRM"}
# campaigns whose codes reach web / app sessions (crm = email / push click-throughs)
CODE_CHANNELS = {0: ("web", "crm"), 1: ("app", "crm")}


@dataclass
class Campaign:
    """A campaign running on one channel from start to end (inclusive day indices)."""

    campaign_id: str
    channel: str
    start: int
    end: int
    daily_budget: float


def build_campaigns(params: GenerateParams, cal: Calendar) -> list[Campaign]:
    """2+ campaigns per channel with 2-9 week windows; the first of each channel starts on day 0."""
    rng = rng_for(params.seed, "campaigns")
    out = []
    for ch in SPEND_CHANNELS:
        for k in range(2 + cal.days // 60):
            length = int(rng.integers(14, 64))
            start = 0 if k == 0 else int(rng.integers(0, max(1, cal.days - 7)))
            budget = float(rng.uniform(50, 400)) * max(1.0, params.customers / 2000)
            out.append(
                Campaign(
                    f"CMP-{_CODE[ch]}-{k + 1:03d}", ch, start, min(cal.days - 1, start + length - 1), round(budget, 2)
                )
            )
    return out


def active_codes(campaigns: list[Campaign], channel: int, day: int) -> list[str]:
    """Campaign ids whose codes can appear on `channel` (0 web, 1 app) sessions on `day`."""
    allowed = CODE_CHANNELS[channel]
    return [c.campaign_id for c in campaigns if c.channel in allowed and c.start <= day <= c.end]


def spend_table(params: GenerateParams, cal: Calendar, campaigns: list[Campaign]) -> pd.DataFrame:
    """One row per campaign and active day with spend, impressions, clicks and an updated_at time."""
    rng = rng_for(params.seed, "spend")
    season = cal.season()
    rows = []
    for camp in campaigns:
        days = np.arange(camp.start, camp.end + 1)
        spend = np.round(camp.daily_budget * season[days] * rng.uniform(0.7, 1.3, len(days)), 2)
        cpm = rng.uniform(4.0, 12.0, len(days))
        impressions = (spend / cpm * 1000).astype(np.int64)
        clicks = rng.binomial(impressions, rng.uniform(0.005, 0.03, len(days)))
        ts = cal.epoch0 + days * DAY + rng.integers(79_200, 86_000, len(days))
        rows.append(
            pd.DataFrame(
                {
                    "day": days,
                    "channel": camp.channel,
                    "campaign_id": camp.campaign_id,
                    "spend": spend,
                    "impressions": impressions,
                    "clicks": clicks,
                    "ts": ts,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
