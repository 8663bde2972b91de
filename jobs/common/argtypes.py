"""Argument types shared by every `omnilake` sub-command (argparse `type=` callables)."""

from __future__ import annotations

import argparse
from datetime import date


def iso_date(text: str) -> date:
    """A YYYY-MM-DD date, or the usage error argparse prints as one line."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc
