"""The schema registry says what the writers really write, and its pyarrow form is what Spark would write."""

from __future__ import annotations

from datetime import datetime

import pytest
from pyspark.sql import functions as F

from jobs.io.inputs import INPUT_COLUMNS, input_schema
from jobs.io.schemas import SCHEMAS, arrow_schema, columns, ddl


def _schema(spark, text: str):
    return spark.createDataFrame([], text).schema


def test_batch_audit_schema_is_what_ingest_writes(spark) -> None:
    """ops.batch_audit: audit_counts' columns, then processed_at, forgotten and expired (0), which jobs/silver/run.py
    stamps at the merge (`omnilake privacy forget` and `omnilake maintain` count the bronze rows they remove)."""
    from jobs.silver.contracts import VIOLATION
    from jobs.silver.quarantine import audit_counts
    from jobs.silver.run import stamped

    bronze = spark.createDataFrame(
        [("b1", "web_orders/2025-03-01/a.csv", datetime(2025, 3, 2, 6))],
        "_batch_id string, _source_file string, _ingested_at timestamp",
    )
    checked = bronze.withColumn(VIOLATION, F.lit(None).cast("struct<code:string>"))
    classified = bronze.withColumn("_outcome", F.lit("loaded"))
    written = stamped(audit_counts("web_orders", bronze=bronze, checked=checked, classified=classified))
    assert written.schema.simpleString() == _schema(spark, ddl("ops.batch_audit")).simpleString()


def test_derived_silver_schemas_are_what_their_transforms_select(spark) -> None:
    from jobs.silver.derived import customers, order_headers

    lines = spark.createDataFrame([], ddl("silver.order_lines"))
    assert order_headers(lines).schema.simpleString() == _schema(spark, ddl("silver.orders")).simpleString()
    id_map = spark.createDataFrame([], ddl("silver.identity_map"))
    members = spark.createDataFrame([], ddl("silver.members"))
    first = spark.createDataFrame([], "customer_id string, first_seen_ts timestamp")
    built = customers(id_map, members, first)
    assert built.schema.simpleString() == _schema(spark, ddl("silver.customers")).simpleString()


def test_input_contracts_are_projections_of_the_tables() -> None:
    for name, names in INPUT_COLUMNS.items():
        types = dict(columns(name))
        assert input_schema(name) == ", ".join(f"{c} {types[c]}" for c in names)
    with pytest.raises(KeyError, match="no column"):
        ddl("silver.orders", ["order_id", "nope"])


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_arrow_schema_matches_sparks_own_conversion(spark, name: str) -> None:
    import pyarrow as pa

    from_spark = spark.createDataFrame([], ddl(name)).toArrow().schema
    ours = arrow_schema(name)
    assert ours.names == from_spark.names
    for mine, theirs in zip(ours.types, from_spark.types, strict=True):
        if pa.types.is_list(mine):  # list item field names differ ("item" / "element"); the item type must not
            assert pa.types.is_list(theirs) and mine.value_type == theirs.value_type
        else:
            assert mine == theirs, name
