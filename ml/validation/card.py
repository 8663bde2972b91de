"""Model cards: a markdown artifact per run (and the registered version's description) with its data windows,
configuration, features, its metrics against the baselines and the champion on the shared comparison window (per
level where the model has levels), the gate's decision, and the registered model's promotion history."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence

from jobs.common.config.ml import ModelConfig
from ml.validation.gate import Decision


def fmt(value: float | None) -> str:
    """A metric as a table cell: four decimals, `-` when missing or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.4f}"


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A markdown table of text cells: the header, its rule and one line per row."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def comparison_table(
    metrics: Mapping[str, Mapping[str, float]],
    configs: Mapping[str, ModelConfig],
    *,
    highlight: str | None = None,
    metric_order: Sequence[str] = (),
) -> str:
    """Markdown table: one row per role (the highlighted one in bold), one column per metric."""
    names = list(metric_order) + sorted({m for row in metrics.values() for m in row} - set(metric_order))
    rows = (
        [f"**{role}**" if role == highlight else role, configs[role].kind, *(fmt(row.get(n)) for n in names)]
        for role, row in metrics.items()
    )
    return markdown_table(["role", "kind", *names], rows)


def level_tables(
    metrics: Mapping[str, Mapping[str, float]], levels: Sequence[str], *, bases: Sequence[str] = ("wape", "bias")
) -> str | None:
    """One markdown table per base metric with levels (`wape_store_sku` ...): a row per level, a column per role;
    None for a model without levels."""
    if not levels:
        return None
    roles = list(metrics)
    parts = []
    for base in bases:
        rows = ([level, *(fmt(metrics[r].get(f"{base}_{level}")) for r in roles)] for level in levels)
        parts.append(f"**{base}** by level\n\n" + markdown_table(["level", *roles], rows))
    return "\n\n".join(parts)


def history_table(versions: Sequence[Mapping[str, str]]) -> str:
    """The registered model's versions, oldest first: version, role, kind, as_of, decision and current aliases."""
    columns = ("version", "role", "kind", "as_of", "decision", "aliases")
    return markdown_table(columns, ([str(v.get(c, "")) or "-" for c in columns] for v in versions))


def model_card(
    *,
    title: str,
    role: str,
    config: ModelConfig,
    command: str,
    windows: Mapping[str, str],
    features: Sequence[str],
    comparison: str | None,
    decision: Decision,
    rows: Mapping[str, object],
    levels: str | None = None,
    history: str | None = None,
) -> str:
    """The card of one run (`comparison` None: no labelled window to compare on; `levels`: level_tables;
    `history`: history_table of the registered model, this version included)."""
    parts = [
        f"# {title}",
        f"Role in this training: **{role}**. Produced by `{command}`.",
        "## Data windows\nAs-of dates are inclusive; label windows (a, b] exclude a.\n\n"
        + "\n".join(f"- {k}: {v}" for k, v in windows.items()),
        "## Rows\n" + "\n".join(f"- {k}: {v}" for k, v in rows.items()),
        f"## Configuration\n```json\n{json.dumps({'kind': config.kind, 'params': dict(config.params)}, indent=2)}\n```",
    ]
    if comparison is None:
        parts.append(
            "## Comparison\nNone: the history is too short for a labelled comparison window; this "
            "label-free model serves."
        )
    else:
        parts.append(
            "## Comparison on the held-out window\nEvery candidate was fitted on the same earlier window "
            "and measured on this one, which none of them saw.\n\n" + comparison
        )
    if comparison is not None and levels:
        parts.append("## Comparison at every level\n" + levels)
    checks = "\n".join(f"- {k}: {fmt(v) if isinstance(v, float) else v}" for k, v in decision.checks.items())
    parts.append(
        f"## Gate decision\n- outcome: **{decision.outcome}**\n- serves: {decision.winner}\n"
        f"- reason: {decision.reason}\n{checks}"
    )
    parts.append(f"## Features ({len(features)})\n" + ", ".join(f"`{f}`" for f in features))
    if history:
        parts.append(
            "## Promotion history\nEvery version of this registered model (aliases as of this version's "
            "registration; the decision is the gate's outcome of the training that made it).\n\n" + history
        )
    parts.append(
        "## Use and limits\nScoring applies it at the scoring as-of date to data up to that date "
        "(inclusive) and stamps model name, version and run id on every row. It learnt from this "
        "warehouse's history in the windows above only; retrain when the features or the business change."
    )
    return "\n\n".join(parts) + "\n"
