"""The promotion gate: a pure decision over the comparison-window metrics of every candidate.

Outcomes: `promote` (the challenger beats the champion and every baseline by the margin, passes the guards and is
no worse than any of them on the `no_worse` metrics),
`refresh` (the champion's configuration still serves, refitted on the newest window), `keep` (the champion
version stays as it is: refresh is off), `baseline` (the best label-free baseline serves) and `fallback` (too
little history to compare: the label-free model serves without a comparison).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from jobs.common.config.ml import GateRule

Metrics = Mapping[str, Mapping[str, float]]  # role -> metric -> value


@dataclass(frozen=True)
class Decision:
    outcome: str
    winner: str | None  # role whose configuration serves; None for `keep`
    reason: str
    checks: dict[str, float] = field(default_factory=dict)  # the numbers behind the decision

    def describe(self) -> dict[str, object]:
        return {"outcome": self.outcome, "winner": self.winner, "reason": self.reason, "checks": self.checks}


def beats(value: float, other: float, rule: GateRule) -> bool:
    """True when `value` is better than `other` by the rule's margin (relative or absolute)."""
    if math.isnan(value):
        return False
    if math.isnan(other):
        return True
    step = abs(other) * rule.margin if rule.relative else rule.margin
    return value >= other + step if rule.higher_is_better else value <= other - step


def _guard_failures(metrics: Mapping[str, float], rule: GateRule) -> list[str]:
    failed = []
    for name, limit in rule.guards.items():
        value = metrics.get(name, float("nan"))
        if math.isnan(value) or value > limit:
            failed.append(f"{name}={value:.4f} > {limit}")
    return failed


def _no_worse_failures(metrics: Metrics, challenger: str, comparators: Sequence[str], rule: GateRule) -> list[str]:
    """Each `no_worse` metric of the challenger against each comparator's, within the relative tolerance."""
    failed = []
    for name, tolerance in rule.no_worse.items():
        value = metrics[challenger].get(name, float("nan"))
        for role in comparators:
            other = metrics[role].get(name, float("nan"))
            if math.isnan(other):
                continue
            slack = abs(other) * tolerance
            worse = value < other - slack if rule.higher_is_better else value > other + slack
            if math.isnan(value) or worse:
                failed.append(f"{name} {value:.4f} worse than {role}'s {other:.4f}")
    return failed


def _best_baseline(metrics: Metrics, servable: Sequence[str], rule: GateRule) -> str:
    def key(role: str) -> float:
        value = metrics[role].get(rule.metric, float("nan"))
        if math.isnan(value):
            return -math.inf
        return value if rule.higher_is_better else -value

    return max(servable, key=key)


def decide(
    metrics: Metrics,
    rule: GateRule,
    *,
    champion: str | None,
    baselines: Sequence[str],
    servable_baselines: Sequence[str],
    refresh_champion: bool,
    challenger: str = "challenger",
) -> Decision:
    """Decide which configuration serves, from the metrics of each role on the same comparison window."""
    value = metrics[challenger].get(rule.metric, float("nan"))
    checks: dict[str, float] = {f"{challenger}.{rule.metric}": value, "margin": rule.margin}
    comparators = [r for r in (champion, *baselines) if r is not None and rule.metric in metrics[r]]
    lost_to = []
    for role in comparators:
        other = metrics[role][rule.metric]
        checks[f"{role}.{rule.metric}"] = other
        if not beats(value, other, rule):
            lost_to.append(f"{role} ({rule.metric} {other:.4f})")
    failed = _guard_failures(metrics[challenger], rule)
    for name in rule.guards:
        checks[f"{challenger}.{name}"] = metrics[challenger].get(name, float("nan"))
    others = [r for r in (champion, *baselines) if r is not None]
    worse = _no_worse_failures(metrics, challenger, others, rule)
    for name in rule.no_worse:
        for role in (challenger, *others):
            checks[f"{role}.{name}"] = metrics[role].get(name, float("nan"))
    if not lost_to and not failed and not worse:
        return Decision(
            "promote",
            challenger,
            f"challenger {rule.metric} {value:.4f} beats {', '.join(comparators)} by the margin {rule.margin}",
            checks,
        )
    why = "; ".join(
        [*(f"does not beat {r} by {rule.margin}" for r in lost_to), *(f"guard {g}" for g in failed), *worse]
    )
    best = _best_baseline(metrics, servable_baselines, rule)
    if champion is not None:
        if not refresh_champion:
            return Decision("keep", None, f"challenger refused ({why}); champion version kept", checks)
        champ = metrics[champion]
        if not _guard_failures(champ, rule) and _at_least(champ[rule.metric], metrics[best][rule.metric], rule):
            return Decision(
                "refresh",
                champion,
                f"challenger refused ({why}); champion configuration refitted on the newest window",
                checks,
            )
    return Decision("baseline", best, f"challenger refused ({why}); baseline {best} serves", checks)


def _at_least(value: float, other: float, rule: GateRule) -> bool:
    """`value` is as good as `other` or better (no margin); NaN is never as good."""
    if math.isnan(value):
        return False
    return math.isnan(other) or (value >= other if rule.higher_is_better else value <= other)
