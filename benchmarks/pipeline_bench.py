"""Benchmark: the whole chain at one scale, each step as its own `omnilake` process (JVM start included).

Usage: .venv/bin/python benchmarks/pipeline_bench.py --customers 10000 --days 365 [--home DIR] [--skip-ml]

1. generate; ingest every delivery but the last day's; build features and gold as of that day (first build:
   every partition);
2. ingest the last day; build features and gold as of it: the incremental day (only affected fact partitions);
3. rebuild the same as-of with `--full` and check that each fact table's rows equal the incremental result's;
4. unless --skip-ml: train all models as of the last day (MLflow on this home) and score them; the train lines
   (each model's metric against its baselines) go into the JSON.
Prints a table and writes benchmarks/results/pipeline_<customers>x<days>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OMNILAKE = str(Path(sys.executable).parent / "omnilake")
FACTS = (
    "gold.daily_sales",
    "gold.funnel",
    "gold.channel_roi",
    "gold.alerts",
    "gold.anomalies",
    "features.item_store_day",
)


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds and stdout of one `omnilake` command (stderr passes through: progress lines)."""
    started = time.monotonic()
    out = subprocess.run([OMNILAKE, *args], env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return time.monotonic() - started, out


def fact_tables(env: dict[str, str]) -> dict[str, pa.Table]:
    """Every fact table, columns by name and rows sorted by all columns, read with delta-rs (no JVM)."""
    from deltalake import DeltaTable

    from jobs.common.config import load_config
    from jobs.io.lake import lake_path

    cfg = load_config(environ=env)
    out = {}
    for name in FACTS:
        table = DeltaTable(str(lake_path(cfg, name))).to_pyarrow_table()
        columns = sorted(c for c in table.column_names if not pa.types.is_nested(table.schema.field(c).type))
        out[name] = table.select(columns).sort_by([(c, "ascending") for c in columns])
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", help="OMNILAKE_HOME (default: a new temp dir)")
    parser.add_argument("--skip-ml", action="store_true")
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="omnilake_pipeline_")
    env = {**os.environ, "OMNILAKE_HOME": home, "OMNILAKE_ENV": os.environ.get("OMNILAKE_ENV", "local")}
    steps: dict[str, float] = {}
    outputs: dict[str, str] = {}

    def step(name: str, argv: list[str]) -> None:
        print(f"-- {name}: omnilake {' '.join(argv)}", file=sys.stderr, flush=True)
        steps[name], outputs[name] = run(argv, env)

    step(
        "generate", ["generate", "--customers", str(args.customers), "--days", str(args.days), "--seed", str(args.seed)]
    )
    manifest = json.loads((Path(home) / "landing" / "_manifest.json").read_text())
    last = date.fromisoformat(manifest["end_date"])
    before = (last - timedelta(days=1)).isoformat()
    step("ingest (all but the last day)", ["ingest", "--date", before])
    step("build features (first, all partitions)", ["build", "features", "--as-of", before])
    step("build gold (first, all partitions)", ["build", "gold", "--as-of", before])
    step("ingest (last day)", ["ingest", "--date", last.isoformat()])
    step("build features (incremental day)", ["build", "features", "--as-of", last.isoformat()])
    step("build gold (incremental day)", ["build", "gold", "--as-of", last.isoformat()])
    incremental = fact_tables(env)
    step("build features (--full, same as-of)", ["build", "features", "--as-of", last.isoformat(), "--full"])
    step("build gold (--full, same as-of)", ["build", "gold", "--as-of", last.isoformat(), "--full"])
    full = fact_tables(env)
    equal = {name: incremental[name].equals(full[name]) for name in FACTS}
    if not args.skip_ml:
        step("train all", ["train", "all", "--as-of", last.isoformat()])
        step("score all", ["score", "all", "--as-of", last.isoformat()])

    from jobs.common.config import load_config
    from jobs.io.listing import table_summaries
    from jobs.orchestration.report import model_metrics

    cfg = load_config(environ=env)
    tables = table_summaries(cfg)
    models = [] if args.skip_ml else model_metrics(cfg)  # each champion's comparison run, every role's metrics
    print(f"\nscale: {args.customers} customers x {args.days} days ({manifest['start_date']} .. {last})   home: {home}")
    print(f"{'step':<44}{'seconds':>10}")
    for name, secs in steps.items():
        print(f"{name:<44}{secs:>10.1f}")
    print("\nincremental day == full rebuild (rows, every non-nested column):")
    for name in FACTS:
        print(f"  {name:<32}{incremental[name].num_rows:>10,}  {'equal' if equal[name] else 'DIFFERENT'}")
    if "train all" in outputs:
        print("\ntrain all:\n" + outputs["train all"])
    for m in models:
        print(f"{m['model']} v{m['version']} serving {m['role']}:")
        for role, metrics in m["roles"].items():
            print(f"    {role:<22}" + ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())))
    print(f"{'table':<36}{'rows':>12}")
    for t in tables:
        print(f"{t['table']:<36}{t['rows']:>12,}")
    out = ROOT / "benchmarks" / "results" / f"pipeline_{args.customers}x{args.days}.json"
    out.write_text(
        json.dumps(
            {
                "customers": args.customers,
                "days": args.days,
                "seed": args.seed,
                "seconds": steps,
                "incremental_equals_full": equal,
                "fact_rows": {k: v.num_rows for k, v in incremental.items()},
                "train": outputs.get("train all", "").splitlines(),
                "score": outputs.get("score all", "").splitlines(),
                "models": models,
                "tables": {t["table"]: t["rows"] for t in tables},
            },
            indent=2,
        )
    )
    print(f"\nwritten {out}")
    if not all(equal.values()):
        raise SystemExit("incremental and full rebuild differ (see above)")


if __name__ == "__main__":
    main()
