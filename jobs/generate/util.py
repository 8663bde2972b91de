"""Shared helpers: seeded RNG streams, the calendar, vectorized value formatting."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

DAY = 86_400
EPOCH = date(1970, 1, 1)
CHANNELS = ("web", "app", "marketplace", "pos")


def rng_for(seed: int, name: str) -> np.random.Generator:
    """An independent, reproducible random stream per (seed, component name)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


@dataclass(frozen=True)
class Calendar:
    """The generated period with its demand seasonality."""

    start: date
    days: int
    weekend_uplift: float
    yearly_amplitude: float

    @property
    def epoch0(self) -> int:
        """Epoch seconds of the first day 00:00 UTC."""
        return (self.start - EPOCH).days * DAY

    def date(self, d: int) -> date:
        """Calendar date of day index d."""
        return self.start + timedelta(days=int(d))

    def iso(self, d: int) -> str:
        """ISO date string of day index d."""
        return self.date(d).isoformat()

    def dow(self) -> np.ndarray:
        """Weekday (0 = Monday) of every day."""
        return (self.start.weekday() + np.arange(self.days)) % 7

    def season(self) -> np.ndarray:
        """Demand multiplier per day: weekend uplift x yearly sinusoid peaking mid-December."""
        weekly = np.where(self.dow() >= 5, self.weekend_uplift, 1.0)
        doy = np.array([self.date(d).timetuple().tm_yday for d in range(self.days)])
        yearly = 1.0 + self.yearly_amplitude * np.cos(2 * np.pi * (doy - 350) / 365.25)
        return weekly * yearly


def tz_offsets(tz_names: list[str], cal: Calendar) -> np.ndarray:
    """UTC offset in seconds (local = utc + offset) per timezone and day, taken at local noon."""
    out = np.zeros((len(tz_names), cal.days), dtype=np.int64)
    for i, name in enumerate(tz_names):
        zone = ZoneInfo(name)
        for d in range(cal.days):
            noon = datetime.combine(cal.date(d), datetime.min.time()).replace(hour=12, tzinfo=zone)
            out[i, d] = int(noon.utcoffset().total_seconds())
    return out


def unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """n distinct random integers in [low, high)."""
    return rng.choice(high - low, size=n, replace=False).astype(np.int64) + low


def scramble(i: np.ndarray, bits: int = 40) -> np.ndarray:
    """A bijection of [0, 2**bits) that makes sequence numbers look random."""
    mask = (1 << bits) - 1
    x = (np.asarray(i, dtype=np.uint64) * np.uint64(0x9E3779B1)) & np.uint64(mask)
    return (x ^ np.uint64(0x5BD1E995 & mask)).astype(np.int64)


def fmt_ids(prefix: str, values: np.ndarray, spec: str = "d") -> np.ndarray:
    """Format integers as id strings, e.g. fmt_ids("acc_", v, "08d")."""
    return np.array([f"{prefix}{v:{spec}}" for v in np.asarray(values).tolist()], dtype=object)


def iso_utc(epoch_s: np.ndarray) -> np.ndarray:
    """Epoch seconds -> 'YYYY-MM-DDTHH:MM:SSZ'."""
    s = np.datetime_as_string(np.asarray(epoch_s, dtype=np.int64).astype("datetime64[s]"), unit="s")
    return np.char.add(s, "Z").astype(object)


def local_naive(epoch_s: np.ndarray, offset_s: np.ndarray) -> np.ndarray:
    """Epoch seconds shifted by a UTC offset -> 'YYYY-MM-DD HH:MM:SS' (no offset)."""
    t = (np.asarray(epoch_s, dtype=np.int64) + offset_s).astype("datetime64[s]")
    if not t.size:  # np.char.replace cannot size an empty array
        return np.array([], dtype=object)
    return np.char.replace(np.datetime_as_string(t, unit="s"), "T", " ").astype(object)


def iso_with_offset(epoch_s: int, offset: str) -> str:
    """One instant written as local time with an explicit offset such as '-05:00'."""
    sign = -1 if offset[0] == "-" else 1
    secs = sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)
    local = np.datetime64(int(epoch_s) + secs, "s")
    return f"{np.datetime_as_string(local, unit='s')}{offset}"


def parse_iso(value: str) -> int:
    """'YYYY-MM-DDTHH:MM:SS' followed by 'Z' or '+HH:MM' -> epoch seconds."""
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def money(x: np.ndarray) -> np.ndarray:
    """Decimal amounts as text with two decimals."""
    return np.array([f"{v:.2f}" for v in np.asarray(x, dtype=float).tolist()], dtype=object)


def text(x: np.ndarray) -> np.ndarray:
    """Any values as text (None stays None)."""
    return np.array([None if v is None else str(v) for v in np.asarray(x, dtype=object).tolist()], dtype=object)


PHONE_FORMATS = 4  # (415) 555-0123 | +1 415 555 0123 | 415.555.0123 | +14155550123


def format_phones(digits: np.ndarray, fmt: np.ndarray) -> np.ndarray:
    """10-digit phone strings rendered in the formats picked per row."""
    s = pd.Series(np.asarray(digits, dtype=object), dtype=object).astype(str)
    a, e, n = s.str[:3], s.str[3:6], s.str[6:]
    options = np.stack(
        [
            ("(" + a + ") " + e + "-" + n).to_numpy(object),
            ("+1 " + a + " " + e + " " + n).to_numpy(object),
            (a + "." + e + "." + n).to_numpy(object),
            ("+1" + a + e + n).to_numpy(object),
        ]
    )
    return options[np.asarray(fmt, dtype=np.int64), np.arange(len(s))]


EMAIL_VARIANTS = 5  # lower | Title.Case | UPPER | " lower " | "Title  "


def format_emails(emails: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """Lower-case emails rendered with the case/space variant picked per row."""
    s = pd.Series(np.asarray(emails, dtype=object), dtype=object).astype(str)
    options = np.stack(
        [
            s.to_numpy(object),
            s.str.title().to_numpy(object),
            s.str.upper().to_numpy(object),
            (" " + s + " ").to_numpy(object),
            (s.str.title() + "  ").to_numpy(object),
        ]
    )
    return options[np.asarray(variant, dtype=np.int64), np.arange(len(s))]


def normalize_phone(raw: str | None) -> str | None:
    """Digits only, without the +1 country code."""
    if raw is None:
        return None
    digits = re.sub(r"\D", "", raw)
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits or None


def normalize_email(raw: str | None) -> str | None:
    """Trimmed, lower-cased email."""
    return raw.strip().lower() or None if raw is not None else None


def rowwise_choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (rows x k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)
