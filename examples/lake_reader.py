"""A downstream service reading omnilake's forecasts and recommendations straight from the Delta tables.

Plain Python: `deltalake` and `pyarrow` only (no JVM, no Spark, no omnilake import), so any service can copy it.
Filters are pushed down: the as-of picks one partition, store / SKU / customer filters skip row groups.

  python examples/lake_reader.py --warehouse $OMNILAKE_HOME/warehouse [--as-of YYYY-MM-DD]
      [--store ST01 --sku SKU00001] [--customer CUSTOMER_ID]

Prints one JSON object: the as-of used, the forecast rows of the store x SKU (or the first series) and the
recommendations of the customer (or the first customer).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable


def table(warehouse: Path, name: str) -> DeltaTable:
    """`gold.demand_forecast` -> <warehouse>/gold/demand_forecast."""
    zone, short = name.split(".", 1)
    return DeltaTable(str(warehouse / zone / short))


def latest_as_of(warehouse: Path, name: str) -> date:
    """The newest as_of partition, from the Delta log alone (no data file is read)."""
    actions = pa.table(table(warehouse, name).get_add_actions(flatten=True))
    values = actions["partition.as_of"].to_pylist()
    return max(v if isinstance(v, date) else date.fromisoformat(str(v)) for v in values)


def forecast(warehouse: Path, as_of: date, store_id: str | None = None, sku: str | None = None) -> pa.Table:
    """One as-of's daily forecast (mean and the P10-P90 band) by date, for one store x SKU when given."""
    where = pc.field("as_of") == as_of
    if store_id is not None:
        where &= pc.field("store_id") == store_id
    if sku is not None:
        where &= pc.field("sku") == sku
    rows = (
        table(warehouse, "gold.demand_forecast")
        .to_pyarrow_dataset()
        .to_table(columns=["store_id", "sku", "date", "mean", "p10", "p50", "p90", "model_version"], filter=where)
    )
    return rows.sort_by([("store_id", "ascending"), ("sku", "ascending"), ("date", "ascending")])


def recommendations(warehouse: Path, as_of: date, customer_id: str | None = None) -> pa.Table:
    """One as-of's ranked recommendations, for one customer when given."""
    where = pc.field("as_of") == as_of
    if customer_id is not None:
        where &= pc.field("customer_id") == customer_id
    rows = (
        table(warehouse, "gold.recommendations")
        .to_pyarrow_dataset()
        .to_table(columns=["customer_id", "rank", "item_id", "score", "model_version"], filter=where)
    )
    return rows.sort_by([("customer_id", "ascending"), ("rank", "ascending")])


def _records(rows: pa.Table) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()} for r in rows.to_pylist()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, help="default: the newest forecast")
    parser.add_argument("--store")
    parser.add_argument("--sku")
    parser.add_argument("--customer")
    args = parser.parse_args(argv)
    as_of = args.as_of or latest_as_of(args.warehouse, "gold.demand_forecast")
    series = forecast(args.warehouse, as_of, args.store, args.sku)
    if args.store is None or args.sku is None:  # the first series of the as-of
        first = series.slice(0, 1).to_pylist()
        series = forecast(args.warehouse, as_of, first[0]["store_id"], first[0]["sku"]) if first else series
    recs = recommendations(args.warehouse, as_of, args.customer)
    if args.customer is None and recs.num_rows:
        recs = recs.filter(pc.field("customer_id") == recs["customer_id"][0])
    json.dump({"as_of": as_of.isoformat(), "forecast": _records(series), "recommendations": _records(recs)}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
