"""Benchmark: generate + ingest (first run, then an idempotent rerun) at a given scale.

Usage: .venv/bin/python benchmarks/ingest_bench.py --customers 10000 --days 180 [--home DIR]
Prints a table and writes benchmarks/results/ingest_<customers>x<days>.json. Each step runs as its own
`omnilake` process, as a user or Airflow would run it (JVM start included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OMNILAKE = str(Path(sys.executable).parent / "omnilake")


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run([OMNILAKE, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--home", help="OMNILAKE_HOME (default: a new temp dir)")
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="omnilake_bench_")
    env = {**os.environ, "OMNILAKE_HOME": home, "OMNILAKE_ENV": os.environ.get("OMNILAKE_ENV", "local")}
    steps = {
        "generate": timed(["generate", "--customers", str(args.customers), "--days", str(args.days)], env),
        "ingest (first)": timed(["ingest"], env),
        "ingest (rerun, nothing new)": timed(["ingest"], env),
    }
    sys.path.insert(0, str(ROOT))
    from jobs.common.config import load_config
    from jobs.io.listing import table_summaries

    tables = table_summaries(load_config(environ=env))
    print(f"\nscale: {args.customers} customers x {args.days} days   home: {home}")
    print(f"{'step':<30}{'seconds':>10}")
    for name, secs in steps.items():
        print(f"{name:<30}{secs:>10.1f}")
    print(f"\n{'table':<34}{'rows':>12}")
    for t in tables:
        print(f"{t['table']:<34}{t['rows']:>12,}")
    out = ROOT / "benchmarks" / "results" / f"ingest_{args.customers}x{args.days}.json"
    out.write_text(
        json.dumps(
            {
                "customers": args.customers,
                "days": args.days,
                "seconds": steps,
                "tables": {t["table"]: t["rows"] for t in tables},
            },
            indent=2,
        )
    )
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
