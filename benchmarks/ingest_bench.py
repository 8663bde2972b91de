"""Benchmark: generate + ingest (first run, then an idempotent rerun that must find nothing new) at a given scale.

Usage: .venv/bin/python benchmarks/ingest_bench.py --customers 10000 --days 180 [--home DIR]
Prints a table and writes benchmarks/results/ingest_<customers>x<days>.json. Each step runs as its own
`omnilake` process, as a user or Airflow would run it (JVM start included), measured by benchmarks/harness.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import RESULTS, print_rows, print_steps, run_step, table_rows, write_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--home", help="OMNILAKE_HOME (default: a new temp dir)")
    args = parser.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="omnilake_bench_")).resolve()
    env = {**os.environ, "OMNILAKE_HOME": str(home), "OMNILAKE_ENV": os.environ.get("OMNILAKE_ENV", "local")}
    from jobs.common.config import load_config

    warehouse = Path(load_config(environ=env).paths.warehouse)
    argv = {
        "generate": ["generate", "--customers", str(args.customers), "--days", str(args.days)],
        "ingest (first)": ["ingest"],
        "ingest (rerun, nothing new)": ["ingest"],
    }
    steps = [
        run_step(
            name, a, env, warehouse=warehouse, event_dir=home / "bench" / "eventlog" / str(i), input_zones=("bronze",)
        )
        for i, (name, a) in enumerate(argv.items())
    ]
    tables = table_rows(warehouse)
    print(f"\nscale: {args.customers} customers x {args.days} days   home: {home}")
    print_steps(steps)
    print()
    print_rows(tables)
    write_json(
        RESULTS / f"ingest_{args.customers}x{args.days}.json",
        {
            "customers": args.customers,
            "days": args.days,
            "steps": {s.name: s.as_json() for s in steps},
            "tables": tables,
        },
    )


if __name__ == "__main__":
    main()
