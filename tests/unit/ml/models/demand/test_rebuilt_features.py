"""The demand adapter's features rebuilt from silver (no features.item_store_day yet, e.g. a lake of imported
sales): one rebuild a command, cut at each later request's day, equal to a rebuild up to that day."""

from __future__ import annotations

from datetime import date

from pyspark.testing import assertDataFrameEqual

from jobs.common.config import Config
from jobs.io.tables import Catalog
from ml.models.demand.adapter import DemandAdapter
from ml.training.adapter import MlEnv
from tests.support.silver_tables import BASE, LATER, write_all


def _adapter(spark, cfg: Config, catalog: Catalog) -> DemandAdapter:
    return DemandAdapter(MlEnv(cfg=cfg, spark=spark, catalog=catalog, settings=cfg.ml), cfg.ml.model("demand"))


def test_one_rebuild_serves_every_earlier_day_as_a_rebuild_up_to_that_day(spark, cfg, catalog, monkeypatch) -> None:
    write_all(catalog, BASE)
    write_all(catalog, LATER)  # sales and stock after the earlier day: a cut must not see them
    adapter = _adapter(spark, cfg, catalog)
    rebuilds: list[date] = []
    real = DemandAdapter._rebuild
    monkeypatch.setattr(DemandAdapter, "_rebuild", lambda self, until: rebuilds.append(until) or real(self, until))
    late, early = date(2025, 3, 6), date(2025, 3, 3)
    adapter.item_store_day(late)
    cut = adapter.item_store_day(early)
    assert rebuilds == [late]  # the earlier day is cut from the first rebuild
    assertDataFrameEqual(cut, _adapter(spark, cfg, catalog).item_store_day(early))
    assert rebuilds == [late, early]
