"""What the published models keep of an erased subject: scrubbed through MLflow's artifact API, or marked to retrain.

Every logged model of omnilake's experiments (MLflow 3 keeps a model's files under the experiment's
`models/<model_id>/artifacts`, reached with `get_artifact_repository(logged_model.artifact_location)`, so this works
on a local store and through an `mlflow-artifacts:` server alike) is checked:
- scrubbed: the input examples (`input_example.json`, `serving_input_example.json`) lose the rows naming the subject;
  an ALS recommender (`artifacts/recommender`) loses the subject's id-map row (`users`), their seen (customer, item)
  pairs (`seen`) and their user factor row (`als/userFactors`): each changed folder is deleted and uploaded again;
- marked to retrain: the champion of every customer model (LTV, churn, recommend) as `<name> v<version>`. Their
  trees, BG/NBD parameters and ALS item factors hold none of the subject's ids but were fitted on their rows; the next
  `omnilake train` (the weekly omnilake_retrain) fits on a lake without them. Demand models are fitted on store x SKU
  sales, which hold no person.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs.common.config import Config
from jobs.common.log import event
from ml.serving.registry import CHAMPION, tracking_client

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from pyspark.sql import SparkSession

    from jobs.silver.erasure import Footprint

EXAMPLES = ("input_example.json", "serving_input_example.json")
RECOMMENDER = "artifacts/recommender"
CUSTOMER_MODELS = ("ltv", "churn", "recommend")


def scrub_models(cfg: Config, spark: SparkSession, fp: Footprint) -> tuple[list[str], list[str]]:
    """(artifacts scrubbed as '<model id>/<path>', model versions to retrain as '<name> v<version>')."""
    client = tracking_client(cfg)
    experiments = [e for e in client.search_experiments() if e.name.startswith(cfg.ml.experiment_prefix)]
    if not experiments:
        return [], []
    ids = set(fp.customer_ids) | set(fp.ids_of(prefix="imported:"))
    scrubbed: list[str] = []
    for model in _logged_models(client, [e.experiment_id for e in experiments]):
        scrubbed += [f"{model.model_id}/{p}" for p in _scrub_model(spark, model.artifact_location, ids)]
    retrain = _champions(client, cfg) if ids else []
    event("privacy.models", scrubbed=len(scrubbed), retrain=len(retrain))
    return scrubbed, retrain


def _logged_models(client: MlflowClient, experiment_ids: list[str]) -> Iterable[Any]:
    token = None
    while True:
        page = client.search_logged_models(experiment_ids=experiment_ids, max_results=100, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _champions(client: MlflowClient, cfg: Config) -> list[str]:
    prefix = cfg.ml.registered_model_prefix
    out = []
    for registered in client.search_registered_models():
        kind = registered.name.removeprefix(f"{prefix}_").rsplit("_h", 1)[0]
        version = (registered.aliases or {}).get(CHAMPION)
        if registered.name.startswith(f"{prefix}_") and kind in CUSTOMER_MODELS and version is not None:
            out.append(f"{registered.name} v{version}")
    return sorted(out)


def _scrub_model(spark: SparkSession, location: str, ids: set[str]) -> list[str]:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repo = get_artifact_repository(location)
    present = {f.path for f in repo.list_artifacts()}
    changed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in EXAMPLES:
            if name in present:
                local = Path(repo.download_artifacts(name, tmp))
                if _scrub_example(local, ids):
                    repo.log_artifact(str(local))
                    changed.append(name)
        if any(f.path == RECOMMENDER for f in repo.list_artifacts("artifacts")):
            changed += _scrub_recommender(spark, repo, Path(tmp), ids)
    return changed


def _scrub_example(path: Path, ids: set[str]) -> bool:
    """Drop the rows of a saved example ({"columns", "data"} split form, at any depth) that hold one of `ids`."""
    doc = json.loads(path.read_text())
    dropped = _drop_rows(doc, ids)
    if dropped:
        path.write_text(json.dumps(doc))
    return dropped > 0


def _drop_rows(node: Any, ids: set[str]) -> int:
    if isinstance(node, dict):
        dropped = 0
        if isinstance(node.get("data"), list):
            kept = [row for row in node["data"] if not _names(row, ids)]
            dropped += len(node["data"]) - len(kept)
            node["data"] = kept
        return dropped + sum(_drop_rows(v, ids) for k, v in node.items() if k != "data")
    return 0


def _names(value: Any, ids: set[str]) -> bool:
    if isinstance(value, list | tuple):
        return any(_names(v, ids) for v in value)
    if isinstance(value, dict):
        return any(_names(v, ids) for v in value.values())
    return isinstance(value, str) and value in ids


def _scrub_recommender(spark: SparkSession, repo: Any, tmp: Path, ids: set[str]) -> list[str]:
    """Remove the subject from a saved ALS recommender (ml/models/recommend/als.py save_recommender)."""
    from pyspark.sql import functions as F

    (tmp / "download").mkdir(parents=True, exist_ok=True)
    root = Path(repo.download_artifacts(RECOMMENDER, str(tmp / "download")))
    users = spark.read.parquet(str(root / "users"))
    mine = [r["user_idx"] for r in users.where(F.col("customer_id").isin(sorted(ids))).collect()]
    if not mine and not spark.read.parquet(str(root / "seen")).where(F.col("customer_id").isin(sorted(ids))).count():
        return []
    parts = {
        "users": F.col("customer_id").isin(sorted(ids)),
        "seen": F.col("customer_id").isin(sorted(ids)),
        "als/userFactors": F.col("id").isin(mine),
    }
    changed = []
    for sub, theirs in parts.items():
        frame = spark.read.parquet(str(root / sub))
        if not frame.where(theirs).limit(1).count():
            continue
        fresh = tmp / "scrubbed" / sub
        frame.where(~theirs).write.mode("overwrite").parquet(str(fresh))
        repo.delete_artifacts(f"{RECOMMENDER}/{sub}")
        repo.log_artifacts(str(fresh), f"{RECOMMENDER}/{sub}")
        changed.append(f"{RECOMMENDER}/{sub}")
    return changed
