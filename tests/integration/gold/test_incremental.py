from __future__ import annotations

from datetime import date

import pytest

from jobs.io.changes import FactSpec, Plan, plan_facts, save_watermarks
from jobs.io.tables import Catalog
from tests.support.silver_tables import BASE, write_silver

D = [date(2025, 3, i) for i in range(1, 6)]


@pytest.mark.integration
def test_plan_expands_changes_by_lookback_and_rebuilds_when_the_feed_is_off(spark, catalog: Catalog) -> None:
    write_silver(catalog, "silver.inventory", BASE["silver.inventory"])  # change data feed on
    events = spark.createDataFrame([(1, D[0])], "id int, event_date date")
    events.write.format("delta").save(catalog.path("silver.events"))  # created outside the catalog: no change feed
    for fact in ("gold.a", "gold.b", "gold.c"):
        catalog.overwrite(spark.createDataFrame([(D[0],)], "business_date date"), fact)
    save_watermarks(catalog, Plan("gold", D[3], {"silver.inventory": 0, "silver.events": 0}, {}))
    write_silver(catalog, "silver.inventory", [(D[1], "S1", "P1", 7, 0)])  # a late snapshot for 03-02
    catalog.merge(spark.createDataFrame([(2, D[1])], "id int, event_date date"), "silver.events", ["id"])
    specs = (
        FactSpec("gold.a", "business_date", {"silver.inventory": 1}),
        FactSpec("gold.b", "business_date", {"silver.inventory": None}),
        FactSpec("gold.c", "business_date", {"silver.events": 0}),
    )
    plan = plan_facts(
        catalog, "gold", specs, until=D[4], versions={"silver.inventory": 1, "silver.events": 1}, inputs={}
    )
    # 03-02 and the day after (lookback 1), every later day (None), 03-05 is new since the last run: all of them;
    # silver.events records no change feed: rebuild in full
    assert plan.affected == {"gold.a": (D[1], D[2], D[4]), "gold.b": (D[1], D[2], D[3], D[4]), "gold.c": None}
