"""Why a retrain: the alerts of one monitoring date as one line (pure; the DAG's retrain check reads the rows with
delta-rs and calls this, so it needs neither Spark nor MLflow)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

ALERT = "alert"
SHOWN = 3  # alerts named per model in the reason; the rest are counted


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.3g}"


def retrain_reason(rows: Iterable[Mapping[str, Any]], retrain_on: Sequence[str]) -> str:
    """'' when no row of a `retrain_on` check alerts; else e.g. 'monitoring 2025-04-29: demand v3 feature_drift
    price_vs_normal: psi 0.612 >= 0.25, ...; churn v2 realized auc: v2: 0.61 vs 0.74 at validation (...)'."""
    alerts: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    as_of = None
    for row in rows:
        if row.get("status") == ALERT and row.get("check") in retrain_on:
            alerts.setdefault((str(row["model"]), str(row["model_version"])), []).append(row)
            as_of = row.get("as_of")
    if not alerts:
        return ""
    parts = []
    for (model, version), found in sorted(alerts.items()):
        found = sorted(found, key=lambda r: (r["check"], str(r["subject"])))
        named = ", ".join(
            f"{r['check']} {r['subject']}: {r.get('detail') or _fmt(r.get('value'))}" for r in found[:SHOWN]
        )
        more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
        parts.append(f"{model} v{version} {named}{more}")
    return f"monitoring {as_of}: " + "; ".join(parts)
