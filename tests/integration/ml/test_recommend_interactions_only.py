"""A business whose only feedback is imported interactions (plays, ratings, clicks): no orders, no events.
`omnilake import interactions`, then `train recommend` compares ALS with popularity on a later window of the same
feedback, and `score recommend` writes recommendations under the imported ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.io.tables import Catalog
from tests.support.recommend_sim import AS_OF, simulate_plays

pytestmark = pytest.mark.integration


def test_an_interactions_only_lake_trains_evaluates_and_scores(
    tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNILAKE__ML__RECOMMEND__CHALLENGER__PARAMS__MAX_ITER", "5")
    plays = simulate_plays()
    path = tmp_path / "plays.csv"
    plays.to_csv(path, index=False)
    assert main(["import", "interactions", str(path), "--map", "customer_id=user,item_id=item,ts=at,weight=w"]) == 0
    assert not catalog.exists("silver.order_lines") or catalog.read("silver.order_lines").count() == 0

    assert main(["train", "recommend", "--as-of", str(AS_OF)]) == 0
    out = capsys.readouterr()
    summary = next(line for line in out.out.splitlines() if line.startswith("train recommend"))
    # an honest comparison on the later window, not the label-free fallback of a lake with "no purchases"
    assert ": fallback " not in summary and any(f": {o} " in summary for o in ("promote", "baseline", "keep"))
    assert "ndcg" in summary, summary  # ALS and popularity ranked against the later window's positive feedback
    print(summary)

    assert main(["score", "recommend", "--as-of", str(AS_OF)]) == 0
    recs = catalog.read("gold.recommendations")
    users = {r.customer_id for r in recs.select("customer_id").distinct().collect()}
    assert users and users <= set(plays["user"])  # the imported ids, as given
    assert {r.item_id for r in recs.select("item_id").distinct().collect()} <= set(plays["item"])
    assert recs.select("as_of").distinct().collect() == [(AS_OF,)]
    seen = catalog.read("silver.interactions_imported").select("customer_id", "item_id").distinct()
    assert recs.join(seen, ["customer_id", "item_id"], "inner").count() == 0  # nothing already played
    assert recs.groupBy("customer_id").agg(F.max("rank").alias("n")).where(F.col("n") > 10).count() == 0
