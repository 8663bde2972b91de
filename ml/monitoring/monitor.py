"""`omnilake monitor`: after a scoring run, how far the champion's world has moved and how its past scores did.

Per model and horizon (the registered model's `champion`), rows of gold.model_monitoring, one per check x subject:
- feature_drift: the PSI of each monitored feature of the score frame as of D against the champion's training
  window (the reference histograms logged with the version: reference_profile.json, ml/monitoring/drift.py);
- missing: each such feature's missing share as of D against its training share;
- prediction_drift: the PSI of the serving table's outputs as of D against the version's first scored date;
- realized: the newest scores at least `min_days` old (conf `ml.<model>.realized`; default the horizon), measured
  on what has happened since (ModelAdapter.realized). Customer models and recommend: once the horizon has passed,
  the version stamped on the scores of D - H is re-applied to the data as of D - H with the adapter's own
  evaluate, the code of the training comparison; demand: its forecasts against the days that have happened.
  Each metric stands next to that version's validation value; the conf rule says which metric alerts, by how
  much, and which guard limits hold.
Status: ok, warn (PSI at or above psi_warn), alert, skipped (not judged; `detail` says why). The champion's
registry description starts with the latest status and its version tag `omnilake.monitoring` holds it.
No origin sees data after D: every frame is built as of D or D - H with labels up to D.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pyspark.sql import functions as F

from jobs.common.config.ml import ModelConfig
from jobs.common.log import event, stage
from ml.monitoring.drift import (
    Histogram,
    finite_or_none,
    histograms_spark,
    psi,
    quantile_edges_spark,
)
from ml.monitoring.reason import ALERT
from ml.serving.registry import CHAMPION, CONFIG_TAG, by_alias, describe_version, tracking_client

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from pyspark.sql import DataFrame

    from jobs.common.config.ml import MonitoringSettings, RealizedRule
    from ml.serving.registry import Served
    from ml.training.adapter import MlEnv, ModelAdapter

TABLE = "gold.model_monitoring"
PROFILE = "reference_profile.json"  # artifact of every registered version's run (ml/training/train.py)
OK, WARN, SKIPPED = "ok", "warn", "skipped"
MONITOR_TAG = "omnilake.monitoring"


@dataclass(frozen=True)
class Check:
    """One row of gold.model_monitoring before its stamps (as_of, model, version, ...)."""

    check: str  # feature_drift, missing, prediction_drift, realized
    subject: str  # feature, output column or metric
    status: str  # ok, warn, alert, skipped
    value: float | None = None
    reference: float | None = None  # the training share / validation value it is compared with
    threshold: float | None = None
    detail: str = ""
    reference_as_of: date | None = None


@dataclass
class MonitorReport:
    model: str
    registered_name: str
    as_of: date
    horizon_days: int
    version: str | None
    checks: list[Check] = field(default_factory=list)
    message: str = ""

    @property
    def alerts(self) -> list[Check]:
        return [c for c in self.checks if c.status == ALERT]

    def status(self) -> str:
        if self.version is None:
            return SKIPPED
        return ALERT if self.alerts else (WARN if any(c.status == WARN for c in self.checks) else OK)

    def summary(self) -> str:
        head = f"monitor {self.model} as_of={self.as_of} horizon={self.horizon_days}d"
        if self.version is None:
            return f"{head}: skipped: {self.message}"
        judged = sum(c.status != SKIPPED for c in self.checks)
        named = "; ".join(f"{c.check} {c.subject}: {c.detail}" for c in self.alerts[:5])
        more = f" and {len(self.alerts) - 5} more" if len(self.alerts) > 5 else ""
        tail = f" ({named}{more})" if named else ""
        served = f"{self.registered_name} v{self.version}"
        return f"{head}: {self.status()}, {len(self.alerts)} alerts in {judged} checks{tail} <- {served}"


def monitor_model(adapter: ModelAdapter, env: MlEnv, *, as_of: date, horizon_days: int) -> MonitorReport:
    """Monitor the champion of `adapter` for `horizon_days` as of `as_of`; replace that date's rows."""
    client = tracking_client(env.cfg)
    name = env.settings.registered_name(adapter.name, horizon_days)
    served = by_alias(client, name, CHAMPION)
    if served is None:
        message = f"no '{CHAMPION}' for registered model {name}: nothing to monitor"
        event("ml.monitor.skipped", model=adapter.name, registered_model=name)
        return MonitorReport(adapter.name, name, as_of, horizon_days, None, message=message)
    settings = env.settings.monitoring
    report = MonitorReport(adapter.name, name, as_of, horizon_days, served.model_version)
    with stage("ml.monitor", model=adapter.name, version=served.model_version, as_of=as_of) as info:
        report.checks += feature_checks(adapter, served, as_of, settings)
        report.checks += prediction_checks(adapter, env, served, as_of, horizon_days, settings)
        report.checks += realized_checks(adapter, env, client, name, as_of, horizon_days)
        info.update(checks=len(report.checks), alerts=len(report.alerts))
    _write(env, report, served)
    _record(client, served, report)
    return report


# -- feature drift -----------------------------------------------------------------------------------------------
def reference_profile(adapter: ModelAdapter, as_of: date, *, bins: int) -> dict[str, Any]:
    """The reference_profile.json document of a version trained as of `as_of`: the histograms of the monitored
    features of the adapter's monitor frame as of that date (the newest state the model has seen, all of it in the
    training window), binned on its own quantiles in Spark; no columns for a model without tabular features."""
    frame = adapter.monitor_frame(as_of)
    columns = [] if frame is None else adapter.monitored_features(list(frame.columns))
    if not columns:
        return {"as_of": as_of.isoformat(), "columns": {}}
    # three aggregations read the frame (quantiles, next values, counts): built once (one row per series or
    # customer), not three times from its sources (the demand state windows over a year of store x SKU days)
    frame = frame.persist()
    try:
        profile = histograms_spark(frame, quantile_edges_spark(frame, columns, bins=bins))
    finally:
        frame.unpersist()
    return {"as_of": as_of.isoformat(), "columns": {c: h.to_dict() for c, h in profile.items()}}


def load_profile(run_id: str) -> tuple[date, dict[str, Histogram]] | None:
    """The as-of date and reference histograms logged with the version's run; None for a version trained before
    monitoring."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        raw = mlflow.artifacts.load_dict(f"runs:/{run_id}/{PROFILE}")
    except (MlflowException, OSError):
        return None
    columns = {c: Histogram.from_dict(h) for c, h in raw.get("columns", {}).items()}
    return date.fromisoformat(raw["as_of"]), columns


def noise_psi(ref: Histogram, cur: Histogram, p: float) -> float:
    """The PSI that sampling alone exceeds with probability `p` at these sizes: under no drift, PSI x n1 n2 / (n1 +
    n2) is about chi-square with (bins - 1) degrees of freedom. A small frame (a few hundred series) moves by more
    than 0.25 by chance; a large one does not."""
    from scipy.stats import chi2

    n_ref, n_cur = ref.rows * (1.0 - ref.missing), cur.rows * (1.0 - cur.missing)
    if n_ref < 1 or n_cur < 1 or len(ref.shares) < 2:
        return 0.0
    return float(chi2.ppf(1.0 - p, len(ref.shares) - 1) * (1.0 / n_ref + 1.0 / n_cur))


def psi_check(
    check: str, column: str, ref: Histogram, cur: Histogram, settings: MonitoringSettings, **extra: Any
) -> Check:
    """One PSI row: alert at or above max(psi_alert, the noise level), warn at or above psi_warn."""
    value = psi(ref.shares, cur.shares)
    limit = max(settings.psi_alert, noise_psi(ref, cur, settings.noise_p))
    status = ALERT if value >= limit else (WARN if value >= settings.psi_warn else OK)
    detail = f"psi {value:.3f}" + (f" >= {limit:.3g}" if status == ALERT else "")
    if status == ALERT and limit > settings.psi_alert:
        detail += f" (the noise level at {int(ref.rows)} vs {int(cur.rows)} rows)"
    return Check(check, column, status, value, None, limit, detail, **extra)


def drift_checks(
    check: str,
    reference: Mapping[str, Histogram],
    current: Mapping[str, Histogram],
    settings: MonitoringSettings,
    *,
    reference_as_of: date | None,
    missing: bool,
    unjudged: Mapping[str, str] | None = None,
) -> list[Check]:
    """PSI per column (and, with `missing`, the missing-share rows) of two histogram sets on the same edges; a column
    of `unjudged` (column -> why) is reported, at most as warn."""
    out = []
    for column, ref in reference.items():
        cur = current.get(column)
        if cur is None:
            out.append(
                Check(check, column, SKIPPED, detail="not in the current frame", reference_as_of=reference_as_of)
            )
            continue
        if min(ref.rows, cur.rows) < settings.min_rows:
            detail = f"{min(ref.rows, cur.rows)} rows < min_rows {settings.min_rows}"
            out.append(Check(check, column, SKIPPED, detail=detail, reference_as_of=reference_as_of))
            continue
        row = psi_check(check, column, ref, cur, settings, reference_as_of=reference_as_of)
        why = (unjudged or {}).get(column)
        if why and row.status == ALERT:
            row = replace(row, status=WARN, detail=f"{row.detail}, not judged: {why}")
        out.append(row)
        if missing:
            limit = ref.missing + settings.missing_increase
            high = cur.missing > limit and not why
            detail = f"missing {cur.missing:.3f} vs {ref.missing:.3f} in training" + (
                f" (> {limit:.3f})" if high else ""
            )
            out.append(
                Check(
                    "missing", column, ALERT if high else OK, cur.missing, ref.missing, limit, detail, reference_as_of
                )
            )
    return out


def unjudged_features(
    adapter: ModelAdapter, columns: Sequence[str], settings: MonitoringSettings, *, trained: date
) -> dict[str, str]:
    """Features whose drift is expected without any change in the business: those that move with the calendar
    (conf clock_features), and those whose window is longer than the history they had at training (they move
    while the history fills)."""
    out = {c: "moves with the calendar (conf clock_features)" for c in columns if c in settings.clock_features}
    history_days = (trained - adapter.history().first).days + 1
    for column in columns:
        window = adapter.feature_window_days(column)
        if column not in out and window is not None and window > history_days:
            out[column] = f"its {window}-day window is longer than the {history_days} days of history at training"
    return out


def feature_checks(adapter: ModelAdapter, served: Served, as_of: date, settings: MonitoringSettings) -> list[Check]:
    """PSI and missing shares of the monitored frame as of `as_of` against the champion's training reference."""
    loaded = load_profile(served.run_id)
    if loaded is None:
        detail = f"v{served.model_version} has no {PROFILE} (trained before monitoring): retrain to get one"
        return [Check("feature_drift", "all", SKIPPED, detail=detail)]
    trained, profile = loaded
    if not profile:  # a model without tabular features (recommend)
        return []
    frame = adapter.monitor_frame(as_of)
    if frame is None:
        return []
    current = histograms_spark(frame, {c: h.edges for c, h in profile.items() if c in frame.columns})
    unjudged = unjudged_features(adapter, list(profile), settings, trained=trained)
    return drift_checks(
        "feature_drift", profile, current, settings, reference_as_of=trained, missing=True, unjudged=unjudged
    )


# -- prediction drift --------------------------------------------------------------------------------------------
def prediction_checks(
    adapter: ModelAdapter, env: MlEnv, served: Served, as_of: date, horizon_days: int, settings: MonitoringSettings
) -> list[Check]:
    """PSI of the served outputs as of `as_of` against the same version's first scored date."""
    outputs = list(adapter.monitored_outputs)
    if not outputs or not env.catalog.exists(adapter.table):
        return []
    rows = served_rows(env.catalog.read(adapter.table), served.model_name, served.model_version, horizon_days)
    current = rows.where(F.col("as_of") == F.lit(as_of))
    first = rows.agg(F.min("as_of")).first()[0]
    if first is None or current.isEmpty():
        detail = f"v{served.model_version} has no rows in {adapter.table} as of {as_of}: run `omnilake score` first"
        return [Check("prediction_drift", o, SKIPPED, detail=detail) for o in outputs]
    reference = rows.where(F.col("as_of") == F.lit(first))
    edges = quantile_edges_spark(reference, outputs, bins=settings.bins)
    return drift_checks(
        "prediction_drift",
        histograms_spark(reference, edges),
        histograms_spark(current, edges),
        settings,
        reference_as_of=first,
        missing=False,
    )


def served_rows(table: DataFrame, name: str, version: str | None, horizon_days: int) -> DataFrame:
    """The rows of a serving table scored by `name` (version `version`, if given) for `horizon_days`."""
    rows = table.where(F.col("model_name") == F.lit(name))
    if version is not None:
        rows = rows.where(F.col("model_version") == F.lit(version))
    if "horizon_days" in table.columns:
        rows = rows.where(F.col("horizon_days") == F.lit(int(horizon_days)))
    return rows


# -- realized performance ----------------------------------------------------------------------------------------
def judge(rule: RealizedRule, metric: str, value: float, validation: float | None) -> tuple[str, float | None, str]:
    """(status, threshold, detail) of one realized metric under the model's rule."""
    if metric in rule.guards:
        limit = float(rule.guards[metric])
        return (ALERT if value > limit else OK), limit, f"{value:.4g} {'>' if value > limit else '<='} {limit:g}"
    if metric != rule.metric:
        return OK, None, "reported"
    if validation is None:
        return OK, None, "no validation value (a label-free version): reported"
    room = rule.tolerance * abs(validation) if rule.relative else rule.tolerance
    limit = validation - room if rule.higher_is_better else validation + room
    worse = value < limit if rule.higher_is_better else value > limit
    word = "below" if rule.higher_is_better else "above"
    return (ALERT if worse else OK), limit, f"{value:.4g} vs {validation:.4g} at validation ({word} {limit:.4g} alerts)"


def realized_checks(
    adapter: ModelAdapter, env: MlEnv, client: MlflowClient, name: str, as_of: date, horizon_days: int
) -> list[Check]:
    """The newest scores at least min_days (default: the horizon) before `as_of`, measured on what has happened
    since (see the module docstring), next to the validation values of the version that made them."""
    rule = adapter.settings.realized
    since = as_of - timedelta(days=rule.min_days or horizon_days)
    rows = (
        served_rows(env.catalog.read(adapter.table), name, None, horizon_days)
        if env.catalog.exists(adapter.table)
        else None
    )
    found = None if rows is None else rows.where(F.col("as_of") <= F.lit(since)).agg(F.max("as_of")).first()[0]
    if found is None:
        detail = f"no scores of {name} as of {since} or before: nothing has happened yet"
        return [Check("realized", rule.metric, SKIPPED, detail=detail)]
    scores = rows.where(F.col("as_of") == F.lit(found))
    stamped = str(scores.agg(F.max("model_version")).first()[0])
    version = client.get_model_version(name, stamped)

    def served() -> tuple[ModelConfig, Any]:
        from ml.serving.pyfunc import load

        text = (version.tags or {}).get(CONFIG_TAG)
        config = ModelConfig.from_json(text) if text else adapter.fallback
        return config, load(f"models:/{name}/{stamped}").unwrap_python_model().predictor

    with stage("ml.monitor.realized", model=adapter.name, version=stamped, origin=found):
        until = min(as_of, found + timedelta(days=horizon_days))
        metrics = adapter.realized(scores, served, origin=found, until=until, horizon_days=horizon_days)
    run_metrics = client.get_run(version.run_id).data.metrics
    validation = {k.removeprefix("compare."): v for k, v in run_metrics.items() if k.startswith("compare.")}
    out = []
    for metric, raw in sorted(metrics.items()):
        value = finite_or_none(raw)
        if value is None:
            out.append(Check("realized", metric, SKIPPED, detail="not finite", reference_as_of=found))
            continue
        status, limit, detail = judge(rule, metric, value, validation.get(metric))
        out.append(
            Check("realized", metric, status, value, validation.get(metric), limit, f"v{stamped}: {detail}", found)
        )
    return out


# -- output ------------------------------------------------------------------------------------------------------
def _write(env: MlEnv, report: MonitorReport, served: Served) -> int:
    """Replace this (registered model, as_of)'s rows of gold.model_monitoring."""
    from jobs.io.schemas import ddl

    data = [
        (
            report.as_of,
            report.model,
            report.registered_name,
            report.horizon_days,
            served.model_version,
            c.check,
            c.subject,
            c.status,
            c.value,
            c.reference,
            c.threshold,
            c.detail,
            c.reference_as_of,
            served.run_id,
        )
        for c in report.checks
    ]
    frame = env.spark.createDataFrame(data, ddl(TABLE))
    where = f"as_of = DATE'{report.as_of.isoformat()}' AND registered_model = '{report.registered_name}'"
    env.catalog.overwrite_where(frame, TABLE, where)
    return len(data)


def status_lines(report: MonitorReport) -> list[str]:
    """The card's monitoring section: the status line and the alerts (or the PSI leaders when all is well)."""
    shown: Sequence[Check] = (
        report.alerts
        or sorted(
            (c for c in report.checks if c.value is not None and c.check.endswith("drift")),
            key=lambda c: -(c.value or 0),
        )[:3]
    )
    lines = [
        f"## Monitoring as of {report.as_of}: {report.status()} ({len(report.alerts)} alerts, gold.model_monitoring)"
    ]
    lines += [f"- {c.check} {c.subject}: {c.detail}" for c in shown[:8]]
    return lines


def _record(client: MlflowClient, served: Served, report: MonitorReport) -> None:
    """The champion's version tag and registry description carry the latest monitoring status above its card."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client.set_model_version_tag(
        served.model_name, served.model_version, MONITOR_TAG, f"{report.status()} as of {report.as_of}"
    )
    try:
        card = mlflow.artifacts.load_text(f"runs:/{served.run_id}/model_card.md")
    except (MlflowException, OSError):
        card = ""
    text = "\n".join([*status_lines(report), "", card])
    describe_version(client, served.model_name, served.model_version, text, full=f"runs:/{served.run_id}/model_card.md")
