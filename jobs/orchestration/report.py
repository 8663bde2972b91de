"""The demo's closing summary: tables and row counts, each model's metrics against its baselines (from MLflow when
runs exist), where the outputs are, and how to open the Airflow and MLflow UIs on the same state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs.common.config import Config
from jobs.io.listing import table_summaries

CHAMPION = "champion"
CANDIDATES = ("challenger", "champion")  # the other roles of a comparison are baselines (ml/training/train.py)


def _by_role(metrics: dict[str, float]) -> dict[str, dict[str, float]]:
    """`{"challenger.auc": .8, "recency.auc": .7}` -> `{"challenger": {"auc": .8}, "recency": {"auc": .7}}`."""
    roles: dict[str, dict[str, float]] = {}
    for key, value in sorted(metrics.items()):
        role, _, metric = key.rpartition(".")
        roles.setdefault(role or "run", {})[metric] = value
    return roles


def model_metrics(cfg: Config) -> list[dict[str, Any]]:
    """Per registered model: the champion version, the role it won as, and the comparison it won (metrics per
    role, from the training run that compared the candidates and baselines on a window none was fitted on).
    Empty when there is no MLflow store yet; MLflow is imported only when there is one."""
    uri = cfg.paths.mlflow_tracking_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return []
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)  # never a process-wide registry URI set elsewhere
    rows: list[dict[str, Any]] = []
    for model in client.search_registered_models():
        version = (model.aliases or {}).get(CHAMPION)
        if version is None:
            rows.append({"model": model.name, "version": None, "role": None, "roles": {}})
            continue
        served = client.get_model_version(model.name, str(version))
        run = client.get_run(served.run_id)
        parent = run.data.tags.get("mlflow.parentRunId")
        compared = client.get_run(parent).data.metrics if parent else run.data.metrics
        rows.append(
            {
                "model": model.name,
                "version": str(version),
                "role": (served.tags or {}).get("omnilake.role"),
                "roles": _by_role(compared),
            }
        )
    return rows


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()) or "-"


def print_summary(cfg: Config, *, airflow_env_file: Path, echo: Callable[[str], None] = print) -> None:
    rows = table_summaries(cfg)
    echo(f"\nTables under {cfg.paths.warehouse}:")
    width = max((len(r["table"]) for r in rows), default=10)
    for r in rows:
        echo(f"  {r['table']:<{width}}  {r['rows']:>12,}  v{r['version']}")
    echo("\nModels (champion vs baselines, from MLflow):")
    try:
        models = model_metrics(cfg)
    except Exception as exc:  # the summary must not fail on a store it cannot read
        models = []
        echo(f"  could not read MLflow at {cfg.paths.mlflow_tracking_uri}: {type(exc).__name__}: {exc}")
    if not models:
        echo("  no trained models yet (omnilake_retrain has not registered any)")
    for m in models:
        if m["version"] is None:
            echo(f"  {m['model']}: no champion")
            continue
        echo(f"  {m['model']} v{m['version']} (serving: {m['role'] or 'unknown role'})")
        for role, metrics in m["roles"].items():
            kind = "baseline" if role not in CANDIDATES and role != "run" else role
            echo(f"    {kind:<10} {role:<14} {_fmt(metrics)}")
    exports = Path(cfg.paths.exports)
    snapshots = sorted(p for p in exports.glob("*/*") if p.is_file())
    echo("\nOutputs:")
    echo(f"  Delta tables      {cfg.paths.warehouse}  (`omnilake tables`; read with Spark or delta-rs)")
    echo(
        f"  serving exports   {exports}  ({len(snapshots)} files; latest: "
        f"{snapshots[-1].parent.name if snapshots else 'none'})"
    )
    dashboards = sorted(exports.glob(f"*/{cfg.orchestration.dashboard.file_name}"))
    echo(
        f"  dashboard         {dashboards[-1] if dashboards else 'none yet'}  (open it in a browser; `omnilake "
        "dashboard --out FILE.html` writes one as of any date)"
    )
    echo(f"  task failures     {Path(cfg.paths.warehouse) / 'ops' / 'task_failures'}")
    echo(f"  Airflow state     {cfg.paths.airflow_home}")
    echo("\nOpen the UIs on the same state:")
    echo(
        f"  Airflow: source {airflow_env_file} && airflow standalone   (http://{cfg.orchestration.ui_host}:8080; user "
        f"admin, password in {Path(cfg.paths.airflow_home) / 'simple_auth_manager_passwords.json.generated'})"
    )
    uri = cfg.paths.mlflow_tracking_uri
    if uri.startswith(("http://", "https://")):  # a tracking server (OMNILAKE_ENV=cluster): its UI is that URL
        echo(f"  MLflow:  {uri}")
    else:
        host = cfg.orchestration.ui_host
        echo(f"  MLflow:  mlflow ui --host {host} --backend-store-uri {uri}   (http://{host}:5000)")
    echo(
        f"  Both listen on {cfg.orchestration.ui_host} only. To expose them on purpose (behind a proxy with "
        "authentication): AIRFLOW__API__HOST=0.0.0.0 before `airflow standalone`, `mlflow ui --host 0.0.0.0`."
    )
