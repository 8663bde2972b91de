"""The engine comparison's Spark side: the four gold tables of benchmarks/duckdb_gold.py (daily_sales,
rfm_segments, cohort_retention, sku_matrix) built by our gold job's own functions in one cold process.

Usage: .venv/bin/python benchmarks/spark_gold.py --home DIR --as-of D --out DIR
The same work as DuckDB's side, no more: read the silver tables, build the four tables with jobs/gold (all
history, as `build gold --full` does), write them as Delta tables under --out (a scratch warehouse, not the
home's gold). The caller times the whole process, JVM start included. `build gold --full` writes every gold
table, facts and snapshots, with its bookkeeping: timed beside this, it is not the engine comparison.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LINES, RETURNS, PRODUCTS = "silver.order_lines", "silver.returns", "silver.products"


def build(home: Path, as_of: date, out: Path) -> dict[str, int]:
    """Build and write the four tables as of `as_of` under `out`; table -> rows written."""
    from pyspark.sql import functions as F

    from jobs.common.config import load_config
    from jobs.common.spark import build_spark
    from jobs.gold.cohorts import cohort_members, cohort_retention_of
    from jobs.gold.customers import rfm_segments
    from jobs.gold.merch import sku_matrix
    from jobs.gold.sales import daily_sales, sales_lines
    from jobs.io.inputs import read_inputs
    from jobs.io.tables import Catalog

    cfg = load_config(environ={**os.environ, "OMNILAKE_HOME": str(home)})
    rules = cfg.gold
    spark = build_spark(cfg)
    src = read_inputs(Catalog.from_config(spark, cfg), (LINES, RETURNS, PRODUCTS))
    lines = sales_lines(src[LINES], excluded_statuses=rules.excluded_statuses).cache()
    members = cohort_members(lines, as_of=as_of).cache()
    tables = {
        "gold.daily_sales": daily_sales(lines, src[RETURNS], src[PRODUCTS]).where(
            F.col("business_date") <= F.lit(as_of)
        ),
        "gold.rfm_segments": rfm_segments(lines, as_of=as_of, tiers=rules.rfm),
        "gold.cohort_retention": cohort_retention_of(
            members, as_of=as_of, repurchase_days=rules.cohort.repurchase_days
        ),
        "gold.sku_matrix": sku_matrix(lines, src[PRODUCTS], as_of=as_of, rules=rules.sku_matrix),
    }
    scratch = Catalog(spark, str(out), ("gold",))
    written = {}
    for name, df in tables.items():
        scratch.overwrite(df, name)
        written[name] = int(scratch.last_commit_metrics(name).get("numOutputRows", 0))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, type=Path, help="OMNILAKE_HOME whose silver tables are read")
    parser.add_argument("--as-of", required=True, type=date.fromisoformat)
    parser.add_argument("--out", required=True, type=Path, help="scratch warehouse the four tables are written to")
    args = parser.parse_args()
    for name, rows in build(args.home.resolve(), args.as_of, args.out.resolve()).items():
        print(f"{name}\t{rows}")


if __name__ == "__main__":
    main()
