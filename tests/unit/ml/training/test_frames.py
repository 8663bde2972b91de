"""Customer frames in Spark: one purchase per customer per day, as-of inclusive, labels (as_of, as_of + H]."""

from __future__ import annotations

from datetime import date

import pandas as pd
from pyspark.testing import assertDataFrameEqual

from ml.training.frames import CustomerSource
from tests.support.synthetic import silver_frame

D = date.fromisoformat
LINES = pd.DataFrame(
    [  # customer, order, day, status, net amount
        ("a", "o1", D("2025-01-01"), "paid", 10.0),
        ("a", "o2", D("2025-01-05"), "paid", 20.0),
        ("a", "o3", D("2025-01-05"), "paid", 5.0),
        ("a", "o4", D("2025-01-12"), "paid", 30.0),
        ("a", "o5", D("2025-01-20"), "paid", 12.0),
        ("b", "o6", D("2025-01-10"), "paid", 15.0),
        ("b", "o7", D("2025-01-11"), "cancelled", 99.0),
        ("b", "o8", D("2025-01-25"), "paid", 40.0),
        ("b", "o9", D("2025-01-26"), "paid", 1.0),
        ("c", "o10", D("2025-01-15"), "paid", 8.0),
        ("c", "o11", D("2025-01-16"), "paid", 9.0),
        ("d", "o12", D("2025-01-16"), "paid", 7.0),
    ],
    columns=["customer_id", "order_id", "order_date", "status", "net_amount"],
).assign(channel="web", line_no=1, sku="SKU-01", quantity=1)


def test_frame_summary_labels_and_score_frame(spark, cfg, catalog):
    catalog.overwrite(silver_frame(spark, LINES, "silver.order_lines"), "silver.order_lines")
    source = CustomerSource(catalog, cfg, buckets=2)
    frame = source.frame(D("2025-01-15"), label_days=10)
    expected = spark.createDataFrame(
        [
            ("a", 2.0, 11.0, 14.0, 27.5, 1.0, 12.0),
            ("b", 0.0, 0.0, 5.0, None, 1.0, 40.0),
            ("c", 0.0, 0.0, 0.0, None, 1.0, 9.0),
        ],
        "customer_id string, bg_x double, bg_t_x double, bg_T double, bg_m_x double, label_purchases double, "
        "label_revenue double",
    )
    assertDataFrameEqual(frame.select(*expected.columns), expected)
    # features.customer_asof columns arrive as doubles, computed as of the date (inclusive)
    recency = frame.select("customer_id", "recency_days", "frequency")
    assertDataFrameEqual(
        recency,
        spark.createDataFrame(
            [("a", 3.0, 4.0), ("b", 5.0, 1.0), ("c", 0.0, 1.0)],
            "customer_id string, recency_days double, frequency double",
        ),
    )
    assert source.history().first == D("2025-01-01") and source.history().last == D("2025-01-26")
    # a score frame: no labels, every customer with a purchase up to the date (d joins on the 16th)
    scoring = source.frame(D("2025-01-16"))
    assert not {"label_purchases", "label_revenue"} & set(scoring.columns)
    assertDataFrameEqual(
        scoring.select("customer_id", "bg_x"),
        spark.createDataFrame([("a", 2.0), ("b", 0.0), ("c", 1.0), ("d", 0.0)], "customer_id string, bg_x double"),
    )
