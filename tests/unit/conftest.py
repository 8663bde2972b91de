"""Inline silver frames for transform tests: rows as dicts, typed by the input contracts of jobs/io/inputs.py
(columns a test does not set are null)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pyspark.sql import DataFrame

from jobs.io.inputs import input_schema


@pytest.fixture()
def silver(spark) -> Callable[[str, list[dict[str, Any]]], DataFrame]:
    def make(table: str, rows: list[dict[str, Any]]) -> DataFrame:
        schema = spark.createDataFrame([], input_schema(table)).schema
        unknown = {k for r in rows for k in r} - set(schema.fieldNames())
        assert not unknown, f"{table} has no columns {unknown}"
        return spark.createDataFrame([tuple(r.get(f.name) for f in schema.fields) for r in rows], schema)

    return make
