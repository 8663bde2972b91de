"""Benchmark: `omnilake privacy forget` on a built lake, N requests one run each against the same N in one
requests file (erased together: one scan and one delete per table), each on its own copy of the lake.

Usage: .venv/bin/python benchmarks/privacy_bench.py [--home DIR] [--requests 5] [--env local]
`--home` is a built OMNILAKE_HOME (default: the demo's, .omnilake); it is copied twice to a temp dir and never
changed. The subjects are the first N customers (by id) with orders in two or more channels. The history purge
runs at once (privacy.vacuum_retention_hours 0), as in the tests, so its cost is counted; PostgreSQL is left out.
Then a rerun of the requests file, which must find nothing and write nothing (0 rows written).
Prints a table and writes benchmarks/results/<YYYY-MM-DD>-privacy.json (UTC date).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import RESULTS, Step, print_steps, run_step, table_rows, write_json  # noqa: E402


def subjects(warehouse: Path, n: int) -> list[str]:
    """The first `n` customer ids (sorted) with orders in 2+ channels, from silver.order_lines (delta-rs)."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    lines = DeltaTable(str(warehouse / "silver" / "order_lines")).to_pyarrow_table(columns=["customer_id", "channel"])
    lines = lines.filter(pc.is_valid(lines["customer_id"]))
    counted = lines.group_by("customer_id").aggregate([("channel", "count_distinct")])
    ids = sorted(r["customer_id"] for r in counted.to_pylist() if r["channel_count_distinct"] >= 2)
    if len(ids) < n:
        raise SystemExit(f"only {len(ids)} cross-channel customers in {warehouse}, asked for {n}")
    return ids[:n]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / ".omnilake")
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--env", default="local", help="OMNILAKE_ENV of the home (the demo's: local)")
    args = parser.parse_args()
    if not (args.home / "warehouse" / "silver" / "order_lines").is_dir():
        raise SystemExit(f"{args.home} holds no built lake: run `make demo` first, or pass --home")
    ids = subjects(args.home / "warehouse", args.requests)
    steps: list[Step] = []
    with tempfile.TemporaryDirectory(prefix="omnilake-privacy-bench-") as tmp:
        events = Path(tmp) / "events"
        homes = {}
        for mode in ("one by one", "batch"):
            homes[mode] = Path(tmp) / mode.replace(" ", "_")
            shutil.copytree(args.home, homes[mode], symlinks=True)
        requests = Path(tmp) / "requests.csv"
        requests.write_text("request_id,by,value\n" + "".join(f"r{i},customer-id,{c}\n" for i, c in enumerate(ids)))
        base = {k: v for k, v in os.environ.items() if not k.startswith("OMNILAKE")}
        base |= {"OMNILAKE_ENV": args.env, "OMNILAKE__PRIVACY__VACUUM_RETENTION_HOURS": "0"}
        for mode, home in homes.items():
            env = base | {"OMNILAKE_HOME": str(home)}
            warehouse = home / "warehouse"
            if mode == "batch":
                argv = ["privacy", "forget", "--requests", str(requests)]
                steps.append(run_step(f"batch of {len(ids)}", argv, env, warehouse=warehouse, event_dir=events))
                steps.append(run_step("batch rerun", argv, env, warehouse=warehouse, event_dir=events))
            else:
                for i, customer in enumerate(ids):
                    argv = ["privacy", "forget", "--customer", customer, "--request-id", f"r{i}"]
                    steps.append(run_step(f"one by one: r{i}", argv, env, warehouse=warehouse, event_dir=events))
        rows = {mode: table_rows(home / "warehouse") for mode, home in homes.items()}
    print_steps(steps)
    one_by_one = sum(s.wall_s for s in steps if s.name.startswith("one by one"))
    batch = next(s.wall_s for s in steps if s.name.startswith("batch of"))
    rerun = next(s for s in steps if s.name == "batch rerun")
    print(f"\n{len(ids)} requests: one by one {one_by_one:.1f} s, together {batch:.1f} s ({one_by_one / batch:.1f}x)")
    same = rows["one by one"] == rows["batch"]  # every table, row for row in count
    total = {mode: sum(counts.values()) for mode, counts in rows.items()}
    print(f"rows left in the lake: one by one {total['one by one']:,}, batch {total['batch']:,} (every table: {same})")
    print(f"rerun: {rerun.wall_s:.1f} s, {rerun.output_rows} rows written")
    day = datetime.now(UTC).date().isoformat()
    write_json(
        RESULTS / f"{day}-privacy.json",
        {
            "home": str(args.home),
            "requests": len(ids),
            "one_by_one_s": round(one_by_one, 1),
            "batch_s": batch,
            "rows_left": rows,
            "steps": [s.as_json() for s in steps],
        },
    )
    return 0 if same and rerun.output_rows == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
