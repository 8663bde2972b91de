"""`omnilake evaluate`: a rolling-origin backtest of the champion's configuration against its baselines.

Origins o_1 > o_2 > ... > o_N with o_i = as_of - H - (i - 1) * step. At each origin every candidate is fitted and
measured exactly as `train` does in its comparison (ml.training.train.compare: the same adapter load / fit /
evaluate calls): fitted at o - H on labels (o - H, o], measured from features at o on labels (o, o + H]. The latest
labels end at as_of, so no origin sees data after as_of, and no fit sees data after its origin. The candidates are
the champion's configuration (the challenger's from conf when there is no champion yet) and the model's baselines.
An origin with too little history before it for that comparison is skipped and said so; with none left the command
fails with the same message `train` gives.

Rows of gold.model_evaluations: model x origin x role x level x metric (a demand metric `wape_store_sku` is metric
`wape` at level `store_sku`; a metric without a level is at level `all`). A rerun of the same model, as_of and
horizon replaces its rows. The MLflow run (in the model's experiment, tag omnilake.kind = evaluate) logs every value
per origin (step = origin index) and the pooled means, and the printed table as an artifact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import mlflow

from jobs.common.config.ml import ModelConfig
from jobs.common.errors import UserError
from jobs.common.log import event, stage
from ml.serving.registry import CHALLENGER, CHAMPION, by_alias, experiment_id, tracking_client
from ml.training.train import compare
from ml.training.windows import plan_windows, short_history_message
from ml.validation.card import fmt, markdown_table

if TYPE_CHECKING:
    from ml.training.adapter import MlEnv, ModelAdapter

TABLE = "gold.model_evaluations"
ALL_LEVELS = "all"


@dataclass
class EvaluationReport:
    model: str
    registered_name: str
    as_of: date
    horizon_days: int
    run_id: str
    origins: list[date]
    skipped: list[str]
    table: str
    rows: int
    values: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (role, level, metric) -> pooled mean

    def summary(self) -> str:
        skipped = f"; skipped: {'; '.join(self.skipped)}" if self.skipped else ""
        return (
            f"evaluate {self.model} as_of={self.as_of} horizon={self.horizon_days}d: {len(self.origins)} origins "
            f"({', '.join(str(o) for o in self.origins)}) -> {TABLE} ({self.rows} rows) [run {self.run_id}]"
            f"{skipped}\n{self.table}"
        )


def origins(as_of: date, horizon_days: int, *, count: int, step_days: int) -> list[date]:
    """The forecast origins, newest first: as_of - H - i * step_days, i = 0 .. count - 1."""
    if count < 1 or step_days < 1:
        raise UserError(f"--origins and --step-days must be at least 1, got {count} and {step_days}")
    return [as_of - timedelta(days=horizon_days + i * step_days) for i in range(count)]


def split_metric(name: str, levels: Sequence[str]) -> tuple[str, str]:
    """(level, metric) of a metric name: `wape_store_sku` -> (store_sku, wape) for levels of the adapter (longest
    first), anything else -> (all, name)."""
    for level in sorted(levels, key=len, reverse=True):
        if name.endswith(f"_{level}") and len(name) > len(level) + 1:
            return level, name[: -len(level) - 1]
    return ALL_LEVELS, name


def evaluation_rows(
    metrics: Mapping[date, Mapping[str, Mapping[str, float]]],
    configs: Mapping[str, ModelConfig],
    *,
    levels: Sequence[str],
) -> list[tuple[date, str, str, str, str, float]]:
    """(origin, role, kind, level, metric, value) for every finite value of every origin."""
    out = []
    for origin, by_role in metrics.items():
        for role, values in by_role.items():
            for name, value in values.items():
                if isinstance(value, int | float) and math.isfinite(value):
                    level, metric = split_metric(name, levels)
                    out.append((origin, role, configs[role].kind, level, metric, float(value)))
    return out


def pooled_table(rows: Sequence[tuple[date, str, str, str, str, float]]) -> tuple[str, dict]:
    """Markdown table of the mean over origins: one row per (level, metric), one column per role; and the means."""
    sums: dict[tuple[str, str, str], list[float]] = {}
    for _, role, _, level, metric, value in rows:
        sums.setdefault((role, level, metric), []).append(value)
    means = {k: sum(v) / len(v) for k, v in sums.items()}
    roles = list(dict.fromkeys(k[0] for k in means))
    keys = sorted({(k[1], k[2]) for k in means}, key=lambda lm: (lm[0] != ALL_LEVELS, lm))
    rows = ([level, metric, *(fmt(means.get((r, level, metric))) for r in roles)] for level, metric in keys)
    return markdown_table(["level", "metric", *roles], rows), means


def _configs(adapter: ModelAdapter, env: MlEnv, client: object, name: str) -> dict[str, ModelConfig]:
    champion = by_alias(client, name, CHAMPION)
    if champion is not None and champion.config is not None:
        head = {CHAMPION: champion.config}
    else:
        challenger = env.settings.model(adapter.name).challenger
        if challenger is None:
            raise UserError(f"{adapter.name}: no champion and no challenger in conf: nothing to evaluate")
        head = {CHALLENGER: challenger}
    return head | dict(adapter.baselines)


def evaluate_model(
    adapter: ModelAdapter, env: MlEnv, *, as_of: date, horizon_days: int, count: int, step_days: int
) -> EvaluationReport:
    """Backtest `adapter` over `count` origins `step_days` apart ending at as_of - H; see the module docstring."""
    client = tracking_client(env.cfg)
    name = env.settings.registered_name(adapter.name, horizon_days)
    exp = experiment_id(client, env.cfg, env.settings.experiment_name(adapter.name), adapter.name)
    history = adapter.history()
    required = adapter.required_history_days(horizon_days)
    configs = _configs(adapter, env, client, name)
    planned, skipped = [], []
    for origin in origins(as_of, horizon_days, count=count, step_days=step_days):
        windows = plan_windows(origin + timedelta(days=horizon_days), horizon_days, history, min_history_days=required)
        if windows is None:
            skipped.append(f"origin {origin}: " + short_history_message(origin, horizon_days, history, required))
        else:
            planned.append(windows)
    if not planned:
        raise UserError(f"{adapter.name}: " + short_history_message(as_of, horizon_days, history, required))
    metrics: dict[date, dict[str, dict[str, float]]] = {}
    with mlflow.start_run(experiment_id=exp, run_name=f"evaluate {adapter.name} {as_of} h{horizon_days}") as run:
        mlflow.set_tags({"omnilake.kind": "evaluate", "omnilake.model": adapter.name, "omnilake.as_of": str(as_of)})
        mlflow.log_params(
            {"as_of": str(as_of), "horizon_days": horizon_days, "origins": count, "step_days": step_days}
            | {f"config.{role}": config.to_json()[:500] for role, config in configs.items()}
        )
        previous = None  # (as_of, data) of the last fit: the next origin's held-out data when step = H
        for index, windows in enumerate(planned):
            origin = windows.eval_as_of
            with stage("ml.evaluate", model=adapter.name, origin=origin) as info:
                if previous is not None and previous[0] == origin:
                    held_out = previous[1]
                else:
                    held_out = adapter.load(origin, horizon_days, horizon_days=horizon_days)
                fit = adapter.load(windows.train_as_of, horizon_days, horizon_days=horizon_days)
                previous = (windows.train_as_of, fit)
                metrics[origin] = compare(adapter, configs, fit, held_out, horizon_days)
                info["roles"] = len(configs)
            for role, values in metrics[origin].items():
                finite = {f"{role}.{k}": float(v) for k, v in values.items() if math.isfinite(v)}
                mlflow.log_metrics(finite, step=index)
        rows = evaluation_rows(metrics, configs, levels=adapter.levels)
        table, means = pooled_table(rows)
        mlflow.log_metrics({f"mean.{r}.{m}.{lv}": v for (r, lv, m), v in means.items()})
        mlflow.log_text(table + "\n", "evaluation.md")
        written = _write(env, adapter.name, name, as_of, horizon_days, rows, run.info.run_id)
    event("ml.evaluate", model=adapter.name, origins=len(planned), rows=written, skipped=len(skipped))
    return EvaluationReport(
        adapter.name,
        name,
        as_of,
        horizon_days,
        run.info.run_id,
        [w.eval_as_of for w in planned],
        skipped,
        table,
        written,
        means,
    )


def _write(
    env: MlEnv,
    model: str,
    registered: str,
    as_of: date,
    horizon_days: int,
    rows: Sequence[tuple[date, str, str, str, str, float]],
    run_id: str,
) -> int:
    """Replace this (model, as_of, horizon) evaluation's rows of gold.model_evaluations."""
    from jobs.io.schemas import ddl

    data = [
        (model, registered, as_of, horizon_days, origin, role, kind, level, metric, value, run_id)
        for origin, role, kind, level, metric, value in rows
    ]
    frame = env.spark.createDataFrame(data, ddl(TABLE))
    where = f"model = '{model}' AND as_of = DATE'{as_of.isoformat()}' AND horizon_days = {int(horizon_days)}"
    env.catalog.overwrite_where(frame, TABLE, where)
    return len(data)
