"""The training wrapper every model shares: compare on a held-out window, decide, refit, log, register, alias.

Compare: each candidate (challenger from conf, the champion's configuration, the baselines) is fitted on
features at D - 2H with labels (D - 2H, D - H] and measured at D - H on labels (D - H, D]. Serve: the challenger
and, when it is another configuration, the winner are refitted at D - H on labels (D - H, D]; scoring applies
them at D. Too little history: the label-free model is fitted at D and serves. All MLflow calls are here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import mlflow

from jobs.common.config import ConfigError
from jobs.common.config.ml import ModelConfig
from jobs.common.log import event, stage
from ml.serving.registry import (
    CHALLENGER,
    CHAMPION,
    CONFIG_TAG,
    by_alias,
    describe_version,
    experiment_id,
    set_alias,
    tag_version,
    tracking_client,
    version_history,
)
from ml.training.adapter import describe_params
from ml.training.windows import Windows, plan_windows, short_history_message
from ml.validation.card import comparison_table, history_table, level_tables, model_card
from ml.validation.gate import Decision, decide

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from ml.training.adapter import Data, MlEnv, ModelAdapter

Metrics = dict[str, dict[str, float]]
_SHOWN = ("auc", "ece", "mae_purchases", "wape_category", "ndcg")  # metrics echoed on the progress line


@dataclass
class TrainReport:
    model: str
    registered_name: str
    as_of: date
    horizon_days: int
    decision: Decision
    run_id: str
    versions: dict[str, str] = field(default_factory=dict)  # role -> registered version
    metrics: Metrics = field(default_factory=dict)

    def summary(self) -> str:
        aliases = " ".join(f"{a}=v{v}" for a, v in self.versions.items())
        return (
            f"train {self.model} as_of={self.as_of} horizon={self.horizon_days}d: {self.decision.outcome} "
            f"({self.decision.reason}) -> {self.registered_name} {aliases} [run {self.run_id}]"
        )


@dataclass(frozen=True)
class _Ctx:
    adapter: ModelAdapter
    env: MlEnv
    client: MlflowClient
    experiment_id: str
    name: str
    as_of: date
    horizon_days: int
    reason: str | None = None  # why this training ran (the retrain DAG's reason: a schedule or monitoring alerts)
    profile: dict[str, Any] = field(default_factory=dict)  # monitoring's reference histograms, built on first use

    @property
    def command(self) -> str:
        return f"omnilake train {self.adapter.name} --as-of {self.as_of} --horizon-days {self.horizon_days}"


def train_model(
    adapter: ModelAdapter, env: MlEnv, *, as_of: date, horizon_days: int, reason: str | None = None
) -> TrainReport:
    """Train `adapter` at `as_of` (inclusive) for `horizon_days`; see the module docstring. `reason` (why it runs)
    is tagged on the runs and the registered versions as omnilake.reason."""
    client = tracking_client(env.cfg)
    exp = experiment_id(client, env.cfg, env.settings.experiment_name(adapter.name), adapter.name)
    name = env.settings.registered_name(adapter.name, horizon_days)
    ctx = _Ctx(adapter, env, client, exp, name, as_of, horizon_days, reason)
    history = adapter.history()
    required = adapter.required_history_days(horizon_days)
    windows = plan_windows(as_of, horizon_days, history, min_history_days=required)
    with mlflow.start_run(experiment_id=exp, run_name=f"train {adapter.name} {as_of} h{horizon_days}") as parent:
        mlflow.set_tags(
            {
                "omnilake.model": adapter.name,
                "omnilake.as_of": str(as_of),
                "omnilake.horizon_days": str(horizon_days),
                "omnilake.registered_model": ctx.name,
                **({"omnilake.reason": reason[:5000]} if reason else {}),
            }
        )
        mlflow.log_params(
            {
                "as_of": str(as_of),
                "horizon_days": horizon_days,
                "registered_model": ctx.name,
                "history_first": str(history.first),
                "history_last": str(history.last),
            }
        )
        if windows is None:
            message = short_history_message(as_of, horizon_days, history, required)
            decision, versions, metrics = _train_fallback(ctx, message)
        else:
            decision, versions, metrics = _train_compare(ctx, windows)
        mlflow.set_tag("omnilake.decision", decision.outcome)
    report = TrainReport(adapter.name, ctx.name, as_of, horizon_days, decision, parent.info.run_id, versions, metrics)
    event("ml.train", model=adapter.name, outcome=decision.outcome, versions=versions)
    return report


def _train_fallback(ctx: _Ctx, message: str) -> tuple[Decision, dict[str, str], Metrics]:
    """Too little history for labels: fit the label-free configuration at D and make it the champion."""
    event("ml.train.short_history", model=ctx.adapter.name, detail=message)
    decision = Decision("fallback", "fallback", f"{message}; the label-free {ctx.adapter.fallback.kind} serves")
    data = ctx.adapter.load(ctx.as_of, None, horizon_days=ctx.horizon_days)
    dates = {"fit_features_as_of": str(ctx.as_of), "fit_labels": "none (label-free)"}
    version = _register(ctx, "fallback", ctx.adapter.fallback, data, dates, None, decision, None)
    set_alias(ctx.client, ctx.name, CHAMPION, version)
    _describe_champion(ctx, version, ctx.adapter.fallback, decision)
    return decision, {CHAMPION: version}, {}


def _train_compare(ctx: _Ctx, windows: Windows) -> tuple[Decision, dict[str, str], Metrics]:
    """Compare every candidate on the held-out window, decide, then refit and register (see the docstring)."""
    adapter, horizon = ctx.adapter, ctx.horizon_days
    mlflow.log_params(windows.describe())
    fit_data = adapter.load(windows.train_as_of, horizon, horizon_days=horizon)
    eval_data = adapter.load(windows.eval_as_of, horizon, horizon_days=horizon)
    mlflow.log_params(
        {f"rows.compare_fit.{k}": v for k, v in fit_data.describe().items()}
        | {f"rows.compare_eval.{k}": v for k, v in eval_data.describe().items()}
    )
    configs = _candidates(ctx, adapter.baselines)
    metrics = compare(adapter, configs, fit_data, eval_data, horizon)
    decision = _decide(ctx, configs, metrics)
    table = comparison_table(metrics, configs, metric_order=_metric_order(ctx))
    _log_comparison(metrics, decision, table)
    return decision, _serve(ctx, configs, decision, eval_data, windows.describe(), metrics, table), metrics


def _metric_order(ctx: _Ctx) -> list[str]:
    rule = ctx.env.settings.model(ctx.adapter.name).gate
    return [rule.metric, *rule.guards] if rule else []


def _candidates(ctx: _Ctx, baselines: Mapping[str, ModelConfig]) -> dict[str, ModelConfig]:
    settings = ctx.env.settings.model(ctx.adapter.name)
    if settings.challenger is None or settings.gate is None:
        raise ConfigError(f"config 'ml.{ctx.adapter.name}' needs 'challenger' and 'gate' to train")
    configs = {CHALLENGER: settings.challenger}
    champion = by_alias(ctx.client, ctx.name, CHAMPION)
    if champion is not None and champion.config is not None:
        configs[CHAMPION] = champion.config
    return configs | dict(baselines)


def compare(
    adapter: ModelAdapter, configs: Mapping[str, ModelConfig], fit: Data, evaluation: Data, horizon_days: int
) -> Metrics:
    """Fit every distinct configuration on the earlier window and measure it on the later one."""
    done: dict[str, dict[str, float]] = {}
    metrics: Metrics = {}
    for role, config in configs.items():
        key = config.to_json()
        if key not in done:
            with stage("ml.compare", model=adapter.name, role=role, kind=config.kind) as info:
                predictor = adapter.fit(config, fit, horizon_days)
                done[key] = adapter.evaluate(config, predictor, evaluation)
                info.update({k: round(v, 4) for k, v in done[key].items() if k in _SHOWN})
        metrics[role] = done[key]
    return metrics


def _decide(ctx: _Ctx, configs: Mapping[str, ModelConfig], metrics: Metrics) -> Decision:
    rule = ctx.env.settings.model(ctx.adapter.name).gate
    assert rule is not None  # checked in _candidates
    return decide(
        metrics,
        rule,
        champion=CHAMPION if CHAMPION in configs else None,
        baselines=list(ctx.adapter.baselines),
        servable_baselines=ctx.adapter.servable_baselines,
        refresh_champion=ctx.env.settings.gate.refresh_champion,
    )


def _finite(values: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def _log_comparison(metrics: Metrics, decision: Decision, table: str) -> None:
    mlflow.log_metrics(_finite({f"{role}.{k}": v for role, row in metrics.items() for k, v in row.items()}))
    mlflow.log_params(
        {
            "decision": decision.outcome,
            "decision.winner": str(decision.winner),
            "decision.reason": decision.reason[:5000],
        }
    )
    mlflow.log_dict(decision.describe(), "decision.json")
    mlflow.log_text(table + "\n", "comparison.md")


def _serve(
    ctx: _Ctx,
    configs: Mapping[str, ModelConfig],
    decision: Decision,
    frame: Data,
    dates: Mapping[str, str],
    metrics: Metrics,
    table: str,
) -> dict[str, str]:
    """Refit and register the challenger (alias `challenger`) and the winner (alias `champion`)."""
    challenger = _register(ctx, CHALLENGER, configs[CHALLENGER], frame, dates, metrics, decision, table)
    set_alias(ctx.client, ctx.name, CHALLENGER, challenger)
    versions = {CHALLENGER: challenger}
    if decision.winner is None:  # outcome `keep`: the champion alias does not move
        return versions
    if configs[decision.winner].to_json() == configs[CHALLENGER].to_json():
        champion = challenger
    else:
        champion = _register(ctx, decision.winner, configs[decision.winner], frame, dates, metrics, decision, table)
    set_alias(ctx.client, ctx.name, CHAMPION, champion)
    versions[CHAMPION] = champion
    _describe_champion(ctx, champion, configs[decision.winner], decision)
    return versions


def _describe_champion(ctx: _Ctx, version: str, config: ModelConfig, decision: Decision) -> None:
    """The registered model's description: which version is champion, since which training, and why."""
    ctx.client.update_registered_model(
        ctx.name,
        description=f"champion: v{version} ({config.kind}), trained as of {ctx.as_of} for {ctx.horizon_days} days; "
        f"gate: {decision.outcome} ({decision.reason[:2000]}). Each version's description is its model card "
        "(also its run's model_card.md).",
    )


def _log_reference(ctx: _Ctx) -> None:
    """Monitoring's reference histograms (ml.monitoring.monitor.reference_profile) as reference_profile.json: built
    once per training, logged with every version it registers."""
    from ml.monitoring.monitor import PROFILE, reference_profile

    if not ctx.profile:
        ctx.profile.update(reference_profile(ctx.adapter, ctx.as_of, bins=ctx.env.settings.monitoring.bins))
    mlflow.log_dict(ctx.profile, PROFILE)


def _register(
    ctx: _Ctx,
    role: str,
    config: ModelConfig,
    frame: Data,
    dates: Mapping[str, str],
    metrics: Metrics | None,
    decision: Decision,
    table: str | None,
) -> str:
    """One nested run: fit on `frame`, log params/metrics/windows/features/model/card, register; the version."""
    with (
        stage("ml.fit_serve", model=ctx.adapter.name, role=role, kind=config.kind),
        mlflow.start_run(experiment_id=ctx.experiment_id, nested=True, run_name=f"{role} {config.kind}") as run,
    ):
        predictor = ctx.adapter.fit(config, frame, ctx.horizon_days)
        mlflow.log_params(
            {**describe_params(config), "role": role, **dates, **{f"rows.{k}": v for k, v in frame.describe().items()}}
        )
        if metrics is not None:
            mlflow.log_metrics(_finite({f"compare.{k}": v for k, v in metrics[role].items()}))
        features = list(getattr(predictor, "input_columns", []))
        mlflow.log_dict({"features": features}, "features.json")
        mlflow.log_dict({"kind": config.kind, "params": dict(config.params)}, "config.json")
        version = ctx.adapter.log_model(predictor, frame, registered_name=ctx.name)
        _log_reference(ctx)
        tag_version(
            ctx.client,
            ctx.name,
            version,
            {
                CONFIG_TAG: config.to_json(),
                "omnilake.role": role,
                "omnilake.as_of": str(ctx.as_of),
                "omnilake.horizon_days": str(ctx.horizon_days),
                "omnilake.decision": decision.outcome,
                **({"omnilake.reason": ctx.reason[:5000]} if ctx.reason else {}),
            },
        )
        card = model_card(
            title=f"{ctx.name} v{version}: {role} ({config.kind})",
            role=role,
            config=config,
            command=ctx.command,
            windows=dates,
            features=features,
            comparison=None if metrics is None else table,
            decision=decision,
            rows=frame.describe(),
            levels=None if metrics is None else level_tables(metrics, ctx.adapter.levels),
            history=history_table(version_history(ctx.client, ctx.name)),
        )
        mlflow.log_text(card, "model_card.md")
        describe_version(ctx.client, ctx.name, version, card, full=f"runs:/{run.info.run_id}/model_card.md")
        mlflow.set_tag("omnilake.registered_version", version)
        event("ml.registered", model=ctx.name, version=version, role=role, run=run.info.run_id)
    return version
