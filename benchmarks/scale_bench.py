"""Scale-factor benchmark: the whole chain at SF0.01 / SF0.1 / SF1 (100k x SF customers x 365 days).

Usage: .venv/bin/python benchmarks/scale_bench.py --sf 0.01|0.1|1 [--home DIR] [--skip-ml] [--skip-duckdb]
       [--steps-via runner|process]

The Spark steps run as the DAGs run them: by default in the warm runner (`omnilake runner exec`, conf
orchestration.spark_steps), which a step marked cold below starts afresh (JVM start, cold JIT and Delta logs): the
history ingest, the last day's ingest (a daily run's first step: the runner has idled out since the day before) and
the cold `build gold --full` of the engine comparison. `--steps-via process` runs each step as its own `omnilake`
process instead (JVM start in every step), as `spark_steps.mode: submit` does.
1. generate; ingest every delivery but the last day's; build features and gold as of that day (first build:
   every partition); unless --skip-ml train and score every model as of it;
2. the incremental day: ingest the last day, build features and gold as of it (only the affected fact
   partitions), score;
3. the full rebuild of the same as-of: `build features --full`, `build gold --full`, score; every fact table
   and every snapshot of the last day must equal the incremental day's (exact, every non-nested column);
4. unless --skip-duckdb, the engine comparison on the same silver snapshot: daily_sales, rfm_segments,
   cohort_retention and sku_matrix built in DuckDB (benchmarks/duckdb_gold.py) and by our gold job's functions in
   a cold Spark process that builds and writes those four only (benchmarks/spark_gold.py); both checked equal to
   what `build gold --full` (a cold process, every gold table; its time is reported beside them) wrote.
Per step (benchmarks/harness.py): wall s, input and output rows, rows/s, peak RSS, Spark peak execution memory.
Prints the tables and the ratios and writes benchmarks/results/<YYYY-MM-DD>-sf<N>.json.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import duckdb_gold  # noqa: E402
from benchmarks.compare import read_table, sorted_flat  # noqa: E402
from benchmarks.harness import RESULTS, Step, print_rows, print_steps, run_step, table_rows, write_json  # noqa: E402
from benchmarks.landing import landing_records  # noqa: E402

BASE_CUSTOMERS, DAYS = 100_000, 365
FACTS = ("gold.daily_sales", "gold.funnel", "gold.channel_roi", "gold.alerts", "gold.alert_digest", "gold.anomalies")
FACT_FEATURES = ("features.item_store_day",)
# the snapshots of the last day (the customer ones carried from the day before by the incremental run); not
# inventory_health: the incremental gold reads the forecast scored the day before, the --full one today's
SNAPSHOTS = (
    "gold.customer_360",
    "gold.rfm_segments",
    "gold.cohort_members",
    "gold.cohort_retention",
    "gold.sku_matrix",
    "gold.sell_through",
    "features.customer_asof",
)
ML_INPUTS = (
    "silver.order_lines",
    "silver.events",
    "silver.returns",
    "silver.products",
    "silver.inventory",
    "silver.daily_sales_imported",
    "silver.interactions_imported",
    "features.customer_asof",
    "features.item_store_day",
)
# what a day costs against what a year costs, stage by stage: name of the incremental step -> full steps
INCREMENTAL_VS_FULL = {
    "ingest": ("ingest (last day)", ("ingest (all but the last day)", "ingest (last day)")),
    "features": ("build features (incremental day)", ("build features (--full)",)),
    "gold": ("build gold (incremental day)", ("build gold (--full)",)),
    "score": ("score all (incremental day)", ("score all (--full)",)),
}


def layer_inputs() -> dict[str, tuple[str, ...]]:
    """The tables each build reads, as its entry point declares them."""
    from jobs.features.run import INPUTS as FEATURES
    from jobs.gold.run import INPUTS as GOLD

    return {"features": FEATURES, "gold": GOLD}


def fact_snapshot(warehouse: Path, as_of: date) -> dict[str, Any]:
    """Every fact table, and every snapshot as of `as_of`, sorted by all its non-nested columns (the incremental
    and full builds must agree)."""
    facts = {name: sorted_flat(read_table(warehouse, name)) for name in (*FACTS, *FACT_FEATURES)}
    return {**facts, **{name: sorted_flat(read_table(warehouse, name, as_of=as_of)) for name in SNAPSHOTS}}


def ratios(steps: dict[str, Step], sf_label: str, results: Path) -> dict[str, Any]:
    """Incremental day / full rebuild per stage and in sum, and SF1 / SF0.1 of the whole chain when both exist."""
    out: dict[str, Any] = {"incremental_vs_full": {}}
    day = year = 0.0
    for stage, (inc, full) in INCREMENTAL_VS_FULL.items():
        if inc not in steps or not set(full) <= set(steps):  # without ML, or without the --full steps
            continue
        a, b = steps[inc].wall_s, sum(steps[f].wall_s for f in full)
        out["incremental_vs_full"][stage] = {"incremental_s": a, "full_s": round(b, 2), "ratio": round(a / b, 3)}
        day, year = day + a, year + b
    out["incremental_vs_full"]["total"] = {"incremental_s": round(day, 2), "full_s": round(year, 2)}
    out["incremental_vs_full"]["total"]["ratio"] = round(day / year, 3)
    out["whole_chain_s"] = round(sum(s.wall_s for s in steps.values()), 2)
    other = {"sf0.1": "sf1", "sf1": "sf0.1"}.get(sf_label)
    found = sorted(results.glob(f"*-{other}.json")) if other else []
    theirs = json.loads(found[-1].read_text()) if found else {}  # the newest result of the other size
    if theirs and set(theirs["steps"]) == set(steps):  # the same steps (both with ML, or both without)
        mine = {"label": sf_label, "ratios": out, "steps": {k: v.as_json() for k, v in steps.items()}}
        small, large = (mine, theirs) if sf_label == "sf0.1" else (theirs, mine)
        first = "ingest (all but the last day)"
        out["sf1_vs_sf0.1"] = {
            "other_file": found[-1].name,
            "whole_chain": round(large["ratios"]["whole_chain_s"] / small["ratios"]["whole_chain_s"], 3),
            "landing_rows": round(large["steps"][first]["input_rows"] / small["steps"][first]["input_rows"], 3),
        }
    return out


def print_ratios(r: dict[str, Any]) -> None:
    print(f"\n{'incremental day vs full rebuild':<40}{'day s':>9}{'year s':>9}{'ratio':>9}")
    for stage, v in r["incremental_vs_full"].items():
        print(f"{stage:<40}{v['incremental_s']:>9.1f}{v['full_s']:>9.1f}{v['ratio']:>9.3f}")
    print(f"whole chain: {r['whole_chain_s']:.1f} s")
    if "sf1_vs_sf0.1" in r:
        sf = r["sf1_vs_sf0.1"]
        print(f"SF1 / SF0.1 whole chain: {sf['whole_chain']:.2f} (the other size: {sf['other_file']})")
    if "engine" in r:
        e = r["engine"]
        print(f"four gold tables cold, Spark / DuckDB: {e['spark_s']:.1f} / {e['duckdb_s']:.1f} s")
        print(f"(build gold --full, every gold table, cold: {e['gold_full_s']:.1f} s)")


def print_report(
    steps: dict[str, Step],
    summary: dict[str, Any],
    equal: dict[str, bool],
    fact_rows: dict[str, int],
    engine: dict[str, Any] | None,
    tables: dict[str, int],
) -> None:
    print_steps(steps.values())
    print_ratios(summary)
    print("\nincremental day == full rebuild (rows, every non-nested column):")
    for name, same in equal.items():
        print(f"  {name:<38}{fact_rows[name]:>13,}  {'equal' if same else 'DIFFERENT'}")
    if engine is not None:
        for title, key in (("build gold --full", "tables"), ("spark_gold.py", "four_table_job")):
            print(f"\nDuckDB == Spark, {title} (gold as of the last day):")
            for name, t in engine[key].items():
                print(f"  {name:<38}{t['spark_rows']:>13,}  {'equal' if t['equal'] else t['difference']}")
    print()
    print_rows(tables)


def spark_four_tables(home: Path, as_of: date, env: dict[str, str]) -> tuple[Path, float]:
    """(the scratch warehouse, wall seconds) of benchmarks/spark_gold.py (a cold process: JVM start, the four tables
    read, built, written under home/bench/four_tables), the Spark side of the engine comparison."""
    out = home / "bench" / "four_tables"
    argv = ["--home", str(home), "--as-of", as_of.isoformat(), "--out", str(out)]
    print(f"-- the four tables in Spark, cold: spark_gold.py {' '.join(argv)}", file=sys.stderr, flush=True)
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "spark_gold.py"), *argv], env=env, check=True)
    return out, round(time.monotonic() - started, 2)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sf", type=float, required=True, choices=(0.01, 0.1, 1.0), help="scale factor")
    parser.add_argument("--home", help="OMNILAKE_HOME (default: a new temp dir)")
    parser.add_argument("--skip-ml", action="store_true", help="no train / score steps")
    parser.add_argument("--skip-duckdb", action="store_true", help="no DuckDB comparison")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--steps-via", choices=("runner", "process"), default="runner", help="see the module doc")
    # hidden: the smoke test's tiny size and its own results folder
    parser.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--days", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    # the suite's smoke test (tests/integration/test_bench_smoke.py): no --full rebuild steps and so no
    # incremental-vs-full check, which tests/integration/gold/test_incremental.py and test_run_gold.py make
    parser.add_argument("--no-full", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    customers, days = args.customers or round(BASE_CUSTOMERS * args.sf), args.days or DAYS
    label = f"sf{args.sf:g}" if (args.customers, args.days) == (None, None) else f"sf{args.sf:g}-{customers}x{days}"
    home = Path(args.home or tempfile.mkdtemp(prefix="omnilake_scale_")).resolve()
    env = {**os.environ, "OMNILAKE_HOME": str(home), "OMNILAKE_ENV": os.environ.get("OMNILAKE_ENV", "local")}
    from jobs.common.config import load_config
    from jobs.orchestration.runner import info_path, stop_runner

    cfg = load_config(environ=env)
    warehouse, landing = Path(cfg.paths.warehouse), Path(cfg.paths.landing)
    steps: dict[str, Step] = {}
    reads = layer_inputs()

    runner = info_path(cfg) if args.steps_via == "runner" else None
    atexit.register(stop_runner, cfg)  # also when a step fails: no warm driver left holding memory

    def step(name: str, argv: list[str], *, spark: bool = True, cold: bool = False, **kw: Any) -> None:
        shared = runner is not None and spark  # one event log folder: it is part of the runner's environment
        event_dir = home / "bench" / "eventlog" / ("runner" if shared else _slug(name))
        via = runner if shared else None
        steps[name] = run_step(name, argv, env, warehouse=warehouse, event_dir=event_dir, runner=via, cold=cold, **kw)

    def layer(name: str, kind: str, as_of: date, *extra: str, cold: bool = False) -> None:
        argv = ["build", kind, "--as-of", as_of.isoformat(), *extra]
        step(name, argv, inputs=reads[kind], output_zones=(kind,), cold=cold)

    def ml(name: str, command: str, as_of: date) -> None:
        if not args.skip_ml:
            zones = ("gold",) if command == "score" else ()  # train writes to MLflow, not to tables
            step(name, [command, "all", "--as-of", as_of.isoformat()], inputs=ML_INPUTS, output_zones=zones)

    step(
        "generate",
        ["generate", "--customers", str(customers), "--days", str(days), "--seed", str(args.seed)],
        spark=False,
    )
    generated = steps["generate"]
    generated.output_rows = landing_records(landing)
    generated.rows_per_s = round(generated.output_rows / generated.wall_s, 1)
    manifest = json.loads((landing / "_manifest.json").read_text())
    last = date.fromisoformat(manifest["end_date"])
    before = last - timedelta(days=1)
    step("ingest (all but the last day)", ["ingest", "--date", before.isoformat()], input_zones=("bronze",), cold=True)
    layer("build features (first, all partitions)", "features", before)
    layer("build gold (first, all partitions)", "gold", before)
    ml("train all", "train", before)
    ml("score all (first)", "score", before)
    step("ingest (last day)", ["ingest", "--date", last.isoformat()], input_zones=("bronze",), cold=True)
    layer("build features (incremental day)", "features", last)
    layer("build gold (incremental day)", "gold", last)
    ml("score all (incremental day)", "score", last)
    incremental = fact_snapshot(warehouse, last)
    equal: dict[str, bool] = {}
    if not args.no_full:
        layer("build features (--full)", "features", last, "--full")
        layer("build gold (--full)", "gold", last, "--full", cold=True)
        ml("score all (--full)", "score", last)
        full = fact_snapshot(warehouse, last)
        equal = {name: incremental[name].equals(full[name]) for name in incremental}
    stop_runner(cfg)

    summary = ratios(steps, label, args.results)
    engine = None
    if not (args.skip_duckdb or args.no_full):  # the comparison's reference is what `build gold --full` wrote
        four, spark_s = spark_four_tables(home, last, env)
        engine = duckdb_gold.check(warehouse, last, cfg.gold, four_tables=four)
        summary["engine"] = {
            "spark_s": spark_s,
            "duckdb_s": engine["seconds"],
            "spark_over_duckdb": round(spark_s / engine["seconds"], 2),
            "gold_full_s": steps["build gold (--full)"].wall_s,
        }
    tables = table_rows(warehouse)
    models: list[dict[str, Any]] = []
    if not args.skip_ml:
        from jobs.orchestration.report import model_metrics

        models = model_metrics(cfg)  # each champion's comparison run, every role's metrics

    print(f"\n{label}: {customers} customers x {days} days ({manifest['start_date']} .. {last})   home: {home}")
    print_report(steps, summary, equal, {n: t.num_rows for n, t in incremental.items()}, engine, tables)
    payload = {
        "sf": args.sf,
        "label": label,
        "customers": customers,
        "days": days,
        "seed": args.seed,
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "start_date": manifest["start_date"],
        "end_date": last,
        "promotions": len(manifest["truth"]["promotions"]),
        "machine": {"cpus": os.cpu_count(), "spark_master": cfg.spark.master, "driver_memory": cfg.spark.driver_memory},
        "steps_via": args.steps_via,
        "home": str(home),
        "steps": {name: s.as_json() for name, s in steps.items()},
        "ratios": summary,
        "incremental_equals_full": equal,
        "duckdb": engine,
        "models": models,
        "tables": tables,
    }
    write_json(args.results / f"{datetime.now(UTC).date().isoformat()}-{label}.json", payload)
    if not all(equal.values()) or (engine is not None and not engine["equal"]):
        raise SystemExit("a check failed: incremental vs full rebuild, or DuckDB vs Spark (see above)")


if __name__ == "__main__":
    main()
