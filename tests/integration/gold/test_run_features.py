from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as Dec

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.features.run import INPUTS, run_features
from jobs.io.tables import Catalog
from tests.support.silver_tables import LATER, copy_warehouse, line, with_rules, write_all, write_silver

D4 = date(2025, 3, 4)
# everything here is dated after D4, including a return (on 03-05) of an order placed before it
AFTER = {
    "silver.order_lines": [LATER["silver.order_lines"][0]],
    "silver.events": LATER["silver.events"],
    "silver.inventory": LATER["silver.inventory"],
    "silver.returns": [
        ("R2", "web", "W1", 1, "P1", 2, Dec("20.00"), "other", datetime(2025, 3, 5, 9), date(2025, 3, 5))
    ],
}


def _frozen(catalog: Catalog, table: str) -> DataFrame:
    df = catalog.read(table)
    return catalog.spark.createDataFrame(df.collect(), df.schema)


@pytest.mark.integration
def test_features_as_of_d_ignore_later_data_and_follow_data_up_to_d(spark, cfg, base_silver) -> None:
    feat_cfg = with_rules(cfg)
    catalog = Catalog.from_config(spark, feat_cfg)
    copy_warehouse(base_silver, feat_cfg.paths.warehouse, tuple(n.replace(".", "/") for n in INPUTS))
    first = run_features(feat_cfg, D4, since=D4 - timedelta(days=1))  # a backfill of customer_asof from 03-03
    assert first == {"features.item_store_day": 17, "features.grid_state": 17, "features.customer_asof": 6}
    customers, items = _frozen(catalog, "features.customer_asof"), _frozen(catalog, "features.item_store_day")
    assert items.agg(F.max("date")).first()[0] == D4

    write_all(catalog, AFTER)
    summary = run_features(feat_cfg, D4)
    assert summary == {"features.item_store_day": 0, "features.grid_state": 0, "features.customer_asof": 3}
    assertDataFrameEqual(catalog.read("features.customer_asof"), customers)
    assertDataFrameEqual(catalog.read("features.item_store_day"), items)

    # one more POS sale by C1 on D itself (S1, P1): C1's features and that item-store-day move
    write_silver(
        catalog, "silver.order_lines", [line("pos", "T9", "2025-03-04", "C1", "m1", "P1", 1, "10.00", store="S1")]
    )
    run_features(feat_cfg, D4)
    assertDataFrameEqual(
        catalog.read("features.customer_asof")
        .where(F.col("as_of") == D4)
        .select("customer_id", "frequency", "monetary", "recency_days"),
        spark.createDataFrame(
            [("C1", 3, 39.0, 0), ("C2", 2, 110.0, 1), ("C3", 1, 50.0, 1)],
            "customer_id string, frequency long, monetary double, recency_days int",
        ),
    )
    assertDataFrameEqual(
        catalog.read("features.item_store_day").where(F.col("date") == D4).select("store_id", "sku", "units"),
        spark.createDataFrame(
            [("S1", "P1", 1.0), ("S1", "P3", 0.0), ("S2", "P2", 3.0), ("S2", "P3", 0.0), ("S3", "P1", 0.0)],
            "store_id string, sku string, units double",
        ),
    )
