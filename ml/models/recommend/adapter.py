"""Recommendations (ml/models/recommend) wired into the shared wrappers: ALS vs popularity, ranking metrics,
gold.recommendations.

Data "at a with labels H": implicit feedback up to a (purchases, carts, views, imported interactions) and the
relevant items of (a, a + H]: what each customer bought, or, in a lake without purchases (conf
ml.recommend.labels), every item whose feedback in the window is positive. History spans every feedback kind, so a
lake of imported interactions alone trains, evaluates and scores. Candidates recommend top-k new items
(already-seen pairs excluded) to the customers with relevant items in the window and are scored with
precision/recall/NDCG@k. Both ALS and popularity are label-free, so popularity is the fallback. Everything stays
in Spark except the popularity list, which is bounded by the catalog (and by the hand-off cap).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pyspark.sql import functions as F

from jobs.common.config import ConfigError
from jobs.common.config.ml import ModelConfig, RecommendSettings
from jobs.common.log import event
from jobs.gold.baskets import top_rules
from jobs.gold.sales import sales_lines
from ml.models.recommend.als import AlsParams, AlsRecommender, load_recommender, recommend, recommend_popular, train_als
from ml.models.recommend.evaluate import evaluate
from ml.models.recommend.interactions import (
    feedback_span,
    interactions_from_silver,
    popularity,
    purchase_lines,
    within,
)
from ml.models.recommend.together import blend, together_candidates
from ml.training.adapter import BaseAdapter, Output, stamp
from ml.training.handoff import to_pandas_bounded
from ml.training.windows import History, HistoryError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from ml.serving.registry import Served

OUTPUT_COLUMNS = ["customer_id", "item_id", "rank", "score", "as_of", "model_name", "model_version", "run_id"]


@dataclass
class PopularityRecommender:
    """The most popular items (bounded list); recommends each customer the top ones they have not seen."""

    popular: pd.DataFrame  # item_id, rank, score
    input_columns: list[str]

    def predict_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Without exclusions (what a standalone pyfunc can know): the top `rank`s for every customer."""
        top = self.popular.sort_values("rank").head(10)
        return frame[["customer_id"]].merge(top, how="cross")[["customer_id", "item_id", "rank", "score"]]


@dataclass(frozen=True)
class RecommendData:
    interactions: DataFrame  # customer_id, item_id, strength up to as_of
    future: DataFrame | None  # customer_id, item_id bought in (as_of, as_of + H]
    as_of: date
    bought_together: bool = False  # conf ml.recommend.bought_together.enabled: its candidates blended in

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"as_of": str(self.as_of), "interactions": self.interactions.count()}
        out["bought_together"] = self.bought_together
        if self.future is not None:
            out["future_pairs"] = self.future.count()
        return out


class RecommendAdapter(BaseAdapter):
    name = "recommend"
    settings: RecommendSettings
    key = ("customer_id",)
    table = "gold.recommendations"
    output_ddl = "item_id string, rank int, score double"
    monitored_outputs = ("score",)
    baselines = {"baseline_popularity": ModelConfig("popularity")}
    servable_baselines = ("baseline_popularity",)
    fallback = ModelConfig("popularity")

    def _silver(self) -> dict[str, DataFrame]:
        """Every feedback source, empty when the lake has none of it (an interactions-only lake has no orders)."""
        from jobs.io.inputs import read_inputs

        src = read_inputs(self.env.catalog, ("silver.order_lines", "silver.events"))
        src["silver.interactions_imported"] = self.env.catalog.read_or_empty("silver.interactions_imported")
        return src

    def interactions(self, as_of: date) -> DataFrame:
        src = self._silver()
        return interactions_from_silver(
            src["silver.order_lines"],
            src["silver.events"],
            src["silver.interactions_imported"],
            weights=self.settings.weights,
            as_of=as_of,
            excluded_statuses=self.env.cfg.gold.excluded_statuses,
        )

    def out_of_stock(self, as_of: date) -> DataFrame:
        """Items (SKUs) with nothing on hand in any store on the last inventory snapshot up to `as_of`. Items the
        inventory feed does not cover (e.g. imported ones) are never filtered; no inventory at all filters none."""
        from jobs.io.inputs import read_inputs

        stock = read_inputs(self.env.catalog, ("silver.inventory",))["silver.inventory"]
        stock = stock.where(F.col("snapshot_date") <= F.lit(as_of))
        last = stock.groupBy("sku").agg(F.max("snapshot_date").alias("snapshot_date"))
        return (
            stock.join(last, on=["sku", "snapshot_date"], how="inner")
            .groupBy("sku")
            .agg(F.sum(F.coalesce(F.col("on_hand"), F.lit(0))).alias("on_hand"))
            .where(F.col("on_hand") <= 0)
            .select(F.col("sku").alias("item_id"))
        )

    @cached_property
    def _span(self) -> tuple[date | None, date | None, bool]:
        """(first, last, any purchase) of the lake's feedback, read once per adapter."""
        src = self._silver()
        return feedback_span(
            src["silver.order_lines"],
            src["silver.events"],
            src["silver.interactions_imported"],
            excluded_statuses=self.env.cfg.gold.excluded_statuses,
        )

    def history(self) -> History:
        """The days with any feedback: purchases, cart/view events or imported interactions."""
        first, last, _ = self._span
        if first is None or last is None:
            raise HistoryError(
                "no customer feedback to recommend from: silver.order_lines has no customer purchases, silver.events "
                "no cart or view of a SKU, silver.interactions_imported no rows"
            )
        return History(first=first, last=last)

    def label_kind(self) -> str:
        """`purchases` or `feedback` (conf ml.recommend.labels; auto: purchases when the lake has any)."""
        wanted = self.settings.labels
        if wanted == "auto":
            wanted = "purchases" if self._span[2] else "feedback"
        return wanted

    def load(self, as_of: date, label_days: int | None, *, horizon_days: int) -> RecommendData:
        interactions = self.interactions(as_of).cache()
        future = None
        if label_days is not None:
            future = self._relevant(as_of, as_of + timedelta(days=label_days)).cache()
        return RecommendData(
            interactions=interactions, future=future, as_of=as_of, bought_together=self.settings.bought_together.enabled
        )

    def _relevant(self, as_of: date, end: date) -> DataFrame:
        """customer_id, item_id of the window (as_of, end]: what each customer bought, or (label kind `feedback`)
        every item whose feedback in the window sums to a positive strength."""
        kind = self.label_kind()
        event("ml.recommend.labels", kind=kind, start=as_of + timedelta(days=1), end=end)
        src = self._silver()
        if kind == "purchases":
            lines = purchase_lines(src["silver.order_lines"], excluded_statuses=self.env.cfg.gold.excluded_statuses)
            bought = lines.where(within(F.col("order_date"), end, as_of))
            return bought.select("customer_id", F.col("sku").alias("item_id")).distinct()
        window = interactions_from_silver(
            src["silver.order_lines"],
            src["silver.events"],
            src["silver.interactions_imported"],
            weights=self.settings.weights,
            as_of=end,
            since=as_of,
            excluded_statuses=self.env.cfg.gold.excluded_statuses,
        )
        return window.where(F.col("strength") > 0).select("customer_id", "item_id")

    def _k(self) -> int:
        return self.settings.evaluate.k

    def fit(self, config: ModelConfig, data: RecommendData, horizon_days: int) -> Any:
        if config.kind == "als":
            return train_als(data.interactions, params=AlsParams(**config.params))
        if config.kind == "popularity":
            popular = popularity(data.interactions, n=None).where(F.col("rank") <= self.env.settings.handoff.max_rows)
            bounded = to_pandas_bounded(popular, key=("item_id",), limits=self.env.settings.handoff, what="popularity")
            return PopularityRecommender(popular=bounded.frame, input_columns=["customer_id"])
        raise ConfigError(f"config 'ml.models.recommend': unknown model kind '{config.kind}' (als, popularity)")

    def _recommend(self, predictor: Any, customers: DataFrame, seen: DataFrame, n: int, as_of: date) -> DataFrame:
        """Top-n per customer, without the items they have seen or that are out of stock at `as_of`; with conf
        ml.recommend.bought_together enabled, its candidates first (ml/models/recommend/together.py)."""
        out_of_stock = self.out_of_stock(as_of).cache()
        if isinstance(predictor, AlsRecommender):
            recs = recommend(predictor, customers, exclude=seen, out_of_stock=out_of_stock, n=n)
        else:
            popular = self.env.spark.createDataFrame(predictor.popular, "item_id string, rank int, score double")
            recs = recommend_popular(popular, customers, exclude=seen, out_of_stock=out_of_stock, n=n)
        together = self.settings.bought_together
        if not together.enabled:
            return recs
        wanted = customers.select(F.col("customer_id").cast("string").alias("customer_id"))
        candidates = self._together(as_of).join(wanted, on="customer_id", how="left_semi")
        return blend(recs, candidates, n=n, slots=together.slots, exclude=seen, out_of_stock=out_of_stock)

    def _together(self, as_of: date) -> DataFrame:
        """The bought-together candidates as of `as_of`: the rules of conf gold.basket_rules (the function behind
        gold.basket_rules, over the sales lines: no dependency on a gold build) and each customer's purchases."""
        excluded = self.env.cfg.gold.excluded_statuses
        order_lines = self._silver()["silver.order_lines"]
        rules = top_rules(
            sales_lines(order_lines, excluded_statuses=excluded), as_of=as_of, rules=self.env.cfg.gold.basket_rules
        )
        return together_candidates(
            purchase_lines(order_lines, excluded_statuses=excluded),
            rules,
            as_of=as_of,
            recent_days=self.settings.bought_together.recent_days,
        )

    def evaluate(self, config: ModelConfig, predictor: Any, data: RecommendData) -> dict[str, float]:
        assert data.future is not None
        k = self._k()
        seen = data.interactions.select("customer_id", "item_id")
        recs = self._recommend(predictor, data.future.select("customer_id").distinct(), seen, k, data.as_of)
        catalog = max(int(data.interactions.select("item_id").distinct().count()), 1)
        return evaluate(recs, data.future, k=k, catalog_size=catalog)

    def example(self, data: RecommendData) -> pd.DataFrame:
        return data.interactions.select("customer_id").distinct().limit(5).toPandas()

    def log_model(self, predictor: Any, data: RecommendData, *, registered_name: str) -> str:
        if not isinstance(predictor, AlsRecommender):
            return super().log_model(predictor, data, registered_name=registered_name)
        import mlflow
        from mlflow.models import ModelSignature
        from mlflow.types import ColSpec, Schema

        from ml.models.recommend.als import save_recommender
        from ml.models.recommend.pyfunc import ARTIFACT_KEY, AlsPyfunc
        from ml.serving.pyfunc import pip_requirements

        signature = ModelSignature(
            inputs=Schema([ColSpec("string", "customer_id")]),
            outputs=Schema(
                [
                    ColSpec("string", "customer_id"),
                    ColSpec("string", "item_id"),
                    ColSpec("integer", "rank"),
                    ColSpec("double", "score"),
                ]
            ),
        )
        with tempfile.TemporaryDirectory() as tmp:
            save_recommender(predictor, Path(tmp) / "recommender")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=AlsPyfunc(),
                artifacts={ARTIFACT_KEY: str(Path(tmp) / "recommender")},
                signature=signature,
                input_example=self.example(data),
                pip_requirements=pip_requirements(),
                registered_model_name=registered_name,
            )
        return str(info.registered_model_version)

    def score_frame(self, as_of: date) -> DataFrame:
        return self.interactions(as_of).select("customer_id").distinct()

    def output_columns(self) -> list[str]:
        return list(OUTPUT_COLUMNS)

    def replace_where(self, as_of: date, horizon_days: int) -> str:
        return f"as_of = DATE'{as_of.isoformat()}'"

    def outputs(self, served: Served, *, as_of: date, horizon_days: int) -> list[Output]:
        """Top-n new items for every customer with feedback up to as_of, from the champion, in Spark."""
        import mlflow

        if served.config is not None and served.config.kind == "als":
            local = mlflow.artifacts.download_artifacts(artifact_uri=served.uri)
            predictor: Any = load_recommender(self.env.spark, Path(local) / "artifacts" / "recommender")
        else:
            predictor = mlflow.pyfunc.load_model(served.uri).unwrap_python_model().predictor
        interactions = self.interactions(as_of)
        n = self.settings.top_n
        recs = self._recommend(
            predictor,
            interactions.select("customer_id").distinct(),
            interactions.select("customer_id", "item_id"),
            n,
            as_of,
        )
        rows = stamp(recs, served, as_of).select(*OUTPUT_COLUMNS)
        return [Output(self.table, rows, self.replace_where(as_of, horizon_days))]
