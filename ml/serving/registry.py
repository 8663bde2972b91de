"""MLflow tracking and model registry: URI and experiments from config, aliases, the champion and its config.

Experiments: `<experiment_prefix><model>` (omnilake/ltv, ...) with artifacts under cfg.paths.mlflow_artifacts.
Registered models: `<registered_model_prefix>_<model>_h<H>`, one per model and horizon, with aliases
`challenger` (the latest challenger run) and `champion` (what scoring loads). Only the driver talks to MLflow.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.common.config import Config
from jobs.common.config.ml import ModelConfig

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

CHAMPION, CHALLENGER = "champion", "challenger"
CONFIG_TAG = "omnilake.config"


def tracking_client(cfg: Config) -> MlflowClient:
    """Point MLflow (tracking and registry) at cfg.paths.mlflow_tracking_uri and return a client for it."""
    import mlflow
    from mlflow import MlflowClient

    uri = cfg.paths.mlflow_tracking_uri
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    for name in ("mlflow", "alembic", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Our signatures come from Spark-typed frames, where integer feature columns are never null.
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(client: MlflowClient, cfg: Config, name: str, model: str) -> str:
    """The experiment `name`, created on first use with its artifacts under cfg.paths.mlflow_artifacts/<model>."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    root = cfg.paths.mlflow_artifacts
    if re.match(r"^[a-z][a-z0-9+.-]+:", root):  # a URI (s3://, abfss://, mlflow-artifacts:/...), used as given
        location = f"{root.rstrip('/')}/{model}"
    else:
        local = Path(root, model)
        local.mkdir(parents=True, exist_ok=True)
        location = local.resolve().as_uri()
    return client.create_experiment(name, artifact_location=location)


@dataclass(frozen=True)
class Served:
    """A registered version as scoring stamps it on every row."""

    model_name: str
    model_version: str
    run_id: str
    config: ModelConfig | None

    @property
    def uri(self) -> str:
        return f"models:/{self.model_name}/{self.model_version}"


def by_alias(client: MlflowClient, name: str, alias: str) -> Served | None:
    """The version behind `name@alias`, or None when the model or the alias does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        version: ModelVersion = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    text = (version.tags or {}).get(CONFIG_TAG)
    config = ModelConfig.from_json(text) if text else None
    return Served(model_name=name, model_version=str(version.version), run_id=str(version.run_id), config=config)


def tag_version(client: MlflowClient, name: str, version: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def set_alias(client: MlflowClient, name: str, alias: str, version: str) -> None:
    client.set_registered_model_alias(name, alias, version)


DESCRIPTION_LIMIT = 5000  # characters: MLflow's SQL store keeps a model version's description in VARCHAR(5000)


def version_history(client: MlflowClient, name: str) -> list[dict[str, str]]:
    """Every version of `name`, oldest first: version, role, kind, as_of, decision (its tags) and current aliases."""
    aliases: dict[str, list[str]] = {}
    for alias, version in client.get_registered_model(name).aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    out = []
    for mv in sorted(client.search_model_versions(f"name = '{name}'"), key=lambda v: int(v.version)):
        tags = mv.tags or {}
        config = tags.get(CONFIG_TAG)
        out.append(
            {
                "version": str(mv.version),
                "role": tags.get("omnilake.role", ""),
                "kind": ModelConfig.from_json(config).kind if config else "",
                "as_of": tags.get("omnilake.as_of", ""),
                "decision": tags.get("omnilake.decision", ""),
                "aliases": ", ".join(sorted(aliases.get(str(mv.version), []))),
            }
        )
    return out


def describe_version(client: MlflowClient, name: str, version: str, text: str, *, full: str) -> None:
    """Set a version's registry description (cut to DESCRIPTION_LIMIT with a pointer to `full`, the artifact)."""
    if len(text) > DESCRIPTION_LIMIT:
        tail = f"\n\n... (cut: the whole card is {full})"
        text = text[: DESCRIPTION_LIMIT - len(tail)] + tail
    client.update_model_version(name, version, description=text)
