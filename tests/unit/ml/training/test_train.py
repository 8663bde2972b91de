"""The train wrapper against a real MLflow registry (SQLite under tmp): the gate promotes a better challenger,
refuses a worse one, logs its numbers, and a short history serves the label-free model."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import mlflow
import pytest

from jobs.common.config.ml import MlGate, ModelConfig
from ml.models.churn.adapter import ChurnAdapter
from ml.serving.registry import CHALLENGER, CHAMPION, by_alias, tracking_client
from ml.training.adapter import BaseAdapter, MlEnv
from ml.training.frames import LABEL_COLUMNS
from ml.training.handoff import Bounded
from ml.training.train import train_model
from ml.training.windows import History
from tests.support.synthetic import Planted, Simulated, customer_frame, simulate

START, DAYS, H = date(2025, 1, 1), 200, 30
END = START + timedelta(days=DAYS - 1)
WEAK = ModelConfig(
    "lgbm",
    {
        "num_boost_round": 1,
        "num_leaves": 2,
        "min_data_in_leaf": 800,
        "seed": 3,
        "num_threads": 1,
        "calibration": "platt",
        "calibration_fraction": 0.25,
    },
)


class PlantedChurnAdapter(ChurnAdapter):
    """ChurnAdapter on in-memory planted histories: the real fit/evaluate/log path without Spark frames."""

    def __init__(self, env: MlEnv, sim: Simulated, first: date = START) -> None:
        BaseAdapter.__init__(self, env, env.settings.model("churn"))
        self.sim, self.first = sim, first

    def history(self) -> History:
        return History(first=self.first, last=END)

    def load(self, as_of: date, label_days: int | None, *, horizon_days: int) -> Bounded:
        frame = customer_frame(self.sim, as_of=as_of, horizon_days=label_days or horizon_days)
        frame = frame if label_days else frame.drop(columns=list(LABEL_COLUMNS))
        return Bounded(frame=frame, source_rows=len(frame), sampled=False)

    def monitor_frame(self, as_of: date) -> None:
        return None  # no Spark here: the versions get an empty reference profile


@pytest.fixture(scope="module")
def sim() -> Simulated:
    return simulate(Planted(customers=2500, days=DAYS), start=START, seed=21)


def _env(cfg, challenger: ModelConfig | None = None, *, refresh: bool = True) -> MlEnv:
    settings = cfg.ml
    churn = dataclasses.replace(settings.churn, challenger=challenger or settings.churn.challenger)
    return MlEnv(
        cfg=cfg,
        spark=None,
        catalog=None,
        settings=dataclasses.replace(settings, churn=churn, gate=MlGate(refresh_champion=refresh)),
    )


def _train(cfg, sim, challenger=None, *, refresh=True):
    env = _env(cfg, challenger, refresh=refresh)
    return train_model(PlantedChurnAdapter(env, sim), env, as_of=END, horizon_days=H)


def test_gate_promotes_a_better_challenger_and_refuses_a_worse_one(cfg, sim):
    client = tracking_client(cfg)
    name = "omnilake_churn_h30"
    first = _train(cfg, sim, WEAK)  # a one-split model loses to the BG/NBD baseline
    assert first.decision.outcome == "baseline"
    assert by_alias(client, name, CHAMPION).config.kind == "bgnbd"
    assert by_alias(client, name, CHALLENGER).config == WEAK

    good = _train(cfg, sim)  # the configured challenger beats the champion (BG/NBD) and both baselines
    assert good.decision.outcome == "promote", good.decision.reason
    champion = by_alias(client, name, CHAMPION)
    assert champion.model_version == by_alias(client, name, CHALLENGER).model_version == good.versions[CHAMPION]
    assert champion.config.kind == "lgbm" and champion.config != WEAK
    assert good.metrics["challenger"]["auc"] >= good.metrics["baseline_bgnbd"]["auc"] + 0.005

    worse = _train(cfg, sim, WEAK)  # refused; the champion's configuration is refitted on the newest window
    assert worse.decision.outcome == "refresh"
    assert "does not beat champion" in worse.decision.reason
    assert by_alias(client, name, CHALLENGER).config == WEAK
    refreshed = by_alias(client, name, CHAMPION)
    assert refreshed.config == champion.config and refreshed.model_version != champion.model_version

    kept = _train(cfg, sim, WEAK, refresh=False)  # refresh off: the champion version does not move
    assert kept.decision.outcome == "keep"
    assert by_alias(client, name, CHAMPION).model_version == refreshed.model_version


def test_the_decision_numbers_card_signature_and_example_are_logged(cfg, sim):
    report = _train(cfg, sim)
    parent = mlflow.get_run(report.run_id)
    assert parent.data.params["decision"] == "promote"
    assert parent.data.params["compare_eval_labels"] == "(2025-06-19, 2025-07-19]"
    logged = set(parent.data.metrics)
    assert {"challenger.auc", "baseline_bgnbd.auc", "baseline_recency.auc", "challenger.ece"} <= logged
    served = by_alias(tracking_client(cfg), "omnilake_churn_h30", CHAMPION)
    child = mlflow.get_run(served.run_id)
    assert child.data.params["role"] == "challenger" and child.data.params["kind"] == "lgbm"
    assert child.data.metrics["compare.auc"] == pytest.approx(report.metrics["challenger"]["auc"])
    card = mlflow.artifacts.load_text(f"runs:/{served.run_id}/model_card.md")
    assert "| **challenger** |" not in card  # the table is shared; rows are the roles
    assert "baseline_recency" in card and "outcome: **promote**" in card and "days_since_last_event" in card
    client = tracking_client(cfg)
    described = client.get_model_version("omnilake_churn_h30", served.model_version).description
    assert described.startswith(f"# omnilake_churn_h30 v{served.model_version}: challenger (lgbm)")
    assert "## Promotion history" in described and "| version | role | kind | as_of | decision | aliases |" in card
    assert f"| {served.model_version} | challenger | lgbm | {END} | promote |" in card
    assert "champion: v" in client.get_registered_model("omnilake_churn_h30").description
    features = mlflow.artifacts.load_dict(f"runs:/{served.run_id}/features.json")["features"]
    assert "days_since_last_event" in features and "label_purchases" not in features
    info = mlflow.models.get_model_info(served.uri)
    assert info.signature.inputs.input_names() == features
    assert info.saved_input_example_info is not None
    scored = mlflow.pyfunc.load_model(served.uri).predict(customer_frame(sim, as_of=END, horizon_days=H).head(3))
    assert list(scored.columns) == ["churn_probability", "top_reasons"]


def test_short_history_serves_the_label_free_model_without_a_comparison(cfg, sim):
    env = _env(cfg)
    report = train_model(PlantedChurnAdapter(env, sim, first=END - timedelta(days=70)), env, as_of=END, horizon_days=H)
    assert report.decision.outcome == "fallback"
    assert "history too short" in report.decision.reason and report.metrics == {}
    client = tracking_client(cfg)
    assert by_alias(client, "omnilake_churn_h30", CHAMPION).config.kind == "bgnbd"
    assert by_alias(client, "omnilake_churn_h30", CHALLENGER) is None
