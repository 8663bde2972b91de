"""`omnilake train|score|evaluate|monitor ltv|churn|demand|recommend|all --as-of D [--horizon-days H]`.

jobs/cli.py (the only place that assembles the command line) calls `register(sub)` to add the four sub-commands
(`evaluate` also takes --origins N and --step-days S: a rolling-origin backtest, ml/training/evaluate.py; `train`
takes --reason TEXT, recorded on its MLflow runs; `monitor`: drift and realized performance, ml/monitoring).
Each command builds the config-driven ML environment once, then trains or scores each model in turn and prints one
line per model.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from jobs.common.argtypes import iso_date
from jobs.common.clock import check_as_of
from jobs.common.config import Config
from jobs.common.errors import UserError

if TYPE_CHECKING:
    from ml.training.adapter import MlEnv, ModelAdapter

MODELS = ("ltv", "churn", "demand", "recommend")


def make_adapter(model: str, env: MlEnv) -> ModelAdapter:
    """The adapter of `model` (imports are lazy: one model's dependencies never load for another)."""
    settings = env.settings.model(model)
    if model == "ltv":
        from ml.models.ltv.adapter import LtvAdapter

        return LtvAdapter(env, settings)
    if model == "churn":
        from ml.models.churn.adapter import ChurnAdapter

        return ChurnAdapter(env, settings)
    if model == "demand":
        from ml.models.demand.adapter import DemandAdapter

        return DemandAdapter(env, settings)
    from ml.models.recommend.adapter import RecommendAdapter

    return RecommendAdapter(env, settings)


def _run(cfg: Config, args: argparse.Namespace, action: Callable[..., object]) -> int:
    check_as_of(cfg, args.as_of)  # a future as-of: nothing to learn from, no snapshot to write (exit 3)
    from ml.training.adapter import ml_env
    from ml.training.windows import HistoryError

    env = ml_env(cfg)
    failed = []
    for model in MODELS if args.model == "all" else (args.model,):
        horizon = args.horizon_days or env.settings.model(model).horizon_days
        try:
            report = action(make_adapter(model, env), env, as_of=args.as_of, horizon_days=horizon)
        except HistoryError as exc:
            if args.model != "all":
                raise UserError(f"{model}: {exc}") from exc
            print(f"{args.command} {model}: not possible: {exc}")  # `all` goes on with the other models
            failed.append(model)
            continue
        print(report.summary())  # type: ignore[attr-defined]
    if failed:
        raise UserError(f"{', '.join(failed)}: the data cannot support --as-of {args.as_of} (see above)")
    return 0


def cmd_train(cfg: Config, args: argparse.Namespace) -> int:
    from functools import partial

    from ml.training.train import train_model

    return _run(cfg, args, partial(train_model, reason=args.reason))


def cmd_score(cfg: Config, args: argparse.Namespace) -> int:
    from ml.serving.scoring import score_model

    return _run(cfg, args, score_model)


def cmd_monitor(cfg: Config, args: argparse.Namespace) -> int:
    from ml.monitoring.monitor import monitor_model

    return _run(cfg, args, monitor_model)


def cmd_evaluate(cfg: Config, args: argparse.Namespace) -> int:
    from ml.training.evaluate import evaluate_model

    settings = cfg.ml.evaluate

    def action(adapter: ModelAdapter, env: MlEnv, *, as_of: date, horizon_days: int) -> object:
        step = args.step_days or settings.step_days or horizon_days
        count = args.origins or settings.origins
        return evaluate_model(adapter, env, as_of=as_of, horizon_days=horizon_days, count=count, step_days=step)

    return _run(cfg, args, action)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `train`, `score` and `evaluate` to the `omnilake` command's sub-parsers."""
    helps = {
        "train": "compare on a held-out window, register, promote by the gate (MLflow)",
        "score": "apply the champion in Spark and replace that as-of date's rows of the serving table",
        "evaluate": "rolling-origin backtest of the champion's configuration against its baselines "
        "(gold.model_evaluations, MLflow)",
        "monitor": "feature and prediction drift of the champion, realized performance once a horizon has passed "
        "(gold.model_monitoring)",
    }
    commands = (("train", cmd_train), ("score", cmd_score), ("evaluate", cmd_evaluate), ("monitor", cmd_monitor))
    for name, fn in commands:
        parser = sub.add_parser(name, help=helps[name])
        parser.add_argument("model", choices=[*MODELS, "all"])
        parser.add_argument("--as-of", type=iso_date, required=True, help="inclusive: features use data up to it")
        parser.add_argument("--horizon-days", type=int, help="label/forecast horizon H (default: per model in conf)")
        if name == "evaluate":
            parser.add_argument("--origins", type=int, help="rolling origins (default: conf ml.evaluate.origins)")
            parser.add_argument("--step-days", type=int, help="days between origins (default: the horizon)")
        if name == "train":
            parser.add_argument("--reason", help="why this training runs (e.g. the monitoring alerts): an MLflow tag")
        parser.set_defaults(fn=fn)
