"""The demo summary reads the champion's comparison from MLflow (skipped gracefully when nothing is trained)."""

from __future__ import annotations

from pathlib import Path

from jobs.common.config import Config
from jobs.orchestration.report import model_metrics, print_summary


def test_no_mlflow_store_means_no_models_and_no_store_created(cfg: Config) -> None:
    assert model_metrics(cfg) == []
    assert not Path(cfg.paths.mlflow_tracking_uri.removeprefix("sqlite:///")).exists()


def test_champion_metrics_per_role_from_the_comparison_run(cfg: Config, tmp_path: Path) -> None:
    import mlflow
    from mlflow import MlflowClient

    Path(cfg.paths.mlflow_tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    client = MlflowClient(tracking_uri=cfg.paths.mlflow_tracking_uri, registry_uri=cfg.paths.mlflow_tracking_uri)
    experiment = client.create_experiment("omnilake/churn", artifact_location=str(tmp_path / "artifacts"))
    parent = client.create_run(experiment)
    client.log_metric(parent.info.run_id, "challenger.auc", 0.81)
    client.log_metric(parent.info.run_id, "recency.auc", 0.7)
    child = client.create_run(experiment, tags={mlflow.utils.mlflow_tags.MLFLOW_PARENT_RUN_ID: parent.info.run_id})
    client.create_registered_model("omnilake_churn_h30")
    client.create_registered_model("omnilake_ltv_h30")
    version = client.create_model_version(
        "omnilake_churn_h30", source=str(tmp_path), run_id=child.info.run_id, tags={"omnilake.role": "challenger"}
    )
    client.set_registered_model_alias("omnilake_churn_h30", "champion", version.version)
    assert sorted(model_metrics(cfg), key=lambda m: m["model"]) == [
        {
            "model": "omnilake_churn_h30",
            "version": "1",
            "role": "challenger",
            "roles": {"challenger": {"auc": 0.81}, "recency": {"auc": 0.7}},
        },
        {"model": "omnilake_ltv_h30", "version": None, "role": None, "roles": {}},
    ]
    lines: list[str] = []
    print_summary(cfg, airflow_env_file=tmp_path / "env.sh", echo=lines.append)
    text = "\n".join(lines)
    assert "  omnilake_churn_h30 v1 (serving: challenger)" in text
    assert "    baseline   recency        auc=0.7" in text and "  omnilake_ltv_h30: no champion" in text
    assert f"mlflow ui --host 127.0.0.1 --backend-store-uri {cfg.paths.mlflow_tracking_uri}" in text
    assert "(http://127.0.0.1:8080;" in text and "Both listen on 127.0.0.1 only" in text
    assert f"source {tmp_path / 'env.sh'} && airflow standalone" in text
