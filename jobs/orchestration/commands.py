"""`omnilake quality`, `omnilake export-serving` and `omnilake demo`; jobs/cli.py adds them to its sub-parsers with
`register(sub, build_parser=...)`. Imports stay inside the commands so `omnilake --help` loads nothing heavy."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial

from jobs.common.argtypes import iso_date
from jobs.common.config import Config
from jobs.common.errors import EXIT_BAD_INPUT, EXIT_BREACH, UserError


def cmd_quality(cfg: Config, args: argparse.Namespace) -> int:
    """The DAG's quality gate from the command line: prints the measures, exit 1 on a breach."""
    from jobs.orchestration.quality import check_quality

    rules = cfg.orchestration.quality
    report = check_quality(cfg, start=args.start or args.end, end=args.end, rules=rules)
    rate = f"{report.quarantine_rate:.2%}"
    print(
        f"dates {report.start}..{report.end}: {report.batches} batches, {report.bronze_rows:,} bronze rows, "
        f"{report.quarantined:,} quarantined ({rate}, max {rules.max_quarantine_rate:.2%}); latest order_date "
        f"{report.latest_order_date} (lag {report.freshness_lag_days} days, max {rules.max_freshness_lag_days}); "
        f"{len(report.rejected_files)} rejected file(s) (max {rules.max_rejected_files})"
    )
    for breach in report.breaches:
        print(f"BREACH: {breach}")
    return EXIT_BREACH if report.breaches else 0


def cmd_export_serving(cfg: Config, args: argparse.Namespace) -> int:
    """Write the serving tables' CSV/Parquet snapshots under <exports>/<as-of>/ (what the DAGs' export does)."""
    from jobs.orchestration.exports import export_serving, snapshot_dir

    written = export_serving(cfg, as_of=args.as_of, formats=cfg.orchestration.export.formats)
    for table, rows in written.items():
        print(f"{table}: {rows:,} rows")
    print(f"{len(written)} serving table(s) exported to {snapshot_dir(cfg, args.as_of)}")
    return 0


def cmd_demo(cfg: Config, args: argparse.Namespace, *, build_parser: Callable[[], argparse.ArgumentParser]) -> int:
    """Generated data through Airflow's own runs, then a summary (see jobs/orchestration/demo.py)."""
    from jobs.orchestration.demo import DemoError, DemoParams, run_demo

    defaults = cfg.orchestration.demo
    params = DemoParams(
        customers=args.customers or defaults.customers,
        days=args.days or defaults.days,
        seed=defaults.seed if args.seed is None else args.seed,
        daily_days=defaults.daily_days if args.daily_days is None else args.daily_days,
        reset=args.reset,
    )
    try:
        return run_demo(cfg, params, build_parser=build_parser, echo=lambda line: print(line, flush=True))
    except DemoError as exc:
        print(f"omnilake demo: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def cmd_runner(cfg: Config, args: argparse.Namespace, *, run_command: Callable[[list[str]], int]) -> int:
    """The warm Spark driver of the DAGs' Spark steps (jobs/orchestration/runner.py): serve, status or stop."""
    from jobs.orchestration import runner

    if args.action == "serve":
        return runner.serve(cfg, args.identity, run_command)
    if args.action == "exec":
        if not args.argv:
            raise UserError("omnilake runner exec needs a command, e.g. `omnilake runner exec build gold`")
        return runner.run_step(cfg, args.argv)
    if args.action == "stop":
        print("stopped the Spark runner" if runner.stop_runner(cfg) else "no Spark runner was running")
        return 0
    info = runner.read_info(cfg)
    if info is None or not runner.alive(info.pid):
        print(f"no Spark runner for {cfg.home}")
        return 1
    print(f"Spark runner pid {info.pid} on 127.0.0.1:{info.port}; log {info.log}")
    return 0


def cmd_cluster(cfg: Config, args: argparse.Namespace) -> int:
    """The local Spark standalone cluster and MLflow server (jobs/orchestration/cluster.py): up, down or status."""
    import json

    from jobs.orchestration import cluster

    if args.action == "up":
        try:
            return cluster.up(cfg)
        except cluster.ClusterError as exc:
            print(f"omnilake cluster up: error: {exc}", file=sys.stderr)
            return 1
    if args.action == "down":
        return cluster.down(cfg)
    state = cluster.status(cfg)
    print(json.dumps(state, indent=2))
    return 0 if all(s["healthy"] for s in state["services"].values()) else 1


def cmd_dashboard(cfg: Config, args: argparse.Namespace) -> int:
    """The business's dashboard as one self-contained HTML file (jobs/orchestration/dashboard)."""
    from pathlib import Path

    from jobs.orchestration.dashboard.build import write_dashboard

    result = write_dashboard(cfg, out=Path(args.out), as_of=args.as_of)
    print(f"dashboard as of {result.as_of}: {result.path} ({result.bytes:,} bytes, {result.seconds:.1f} s)")
    print(f"sections rendered ({len(result.rendered)}): {', '.join(result.rendered) or 'none'}")
    if result.missing:
        print(f"sections not built yet ({len(result.missing)}): {', '.join(result.missing)} (see the page's notes)")
    return 0


def register(
    sub: argparse._SubParsersAction,
    *,
    build_parser: Callable[[], argparse.ArgumentParser],
    run_command: Callable[[list[str]], int],
) -> None:
    """Add `quality`, `export-serving`, `demo` and `runner` to the `omnilake` command's sub-parsers; `build_parser`
    builds the whole command's parser (the demo checks which Spark steps it has); `run_command` is the command's
    main(argv) (the runner serves it)."""
    qual = sub.add_parser("quality", help="quarantine rate and freshness of business dates (exit 1 on a breach)")
    qual.add_argument("--end", type=iso_date, required=True, help="last business date, inclusive")
    qual.add_argument("--start", type=iso_date, help="first business date (default: --end)")
    qual.set_defaults(fn=cmd_quality)
    exp = sub.add_parser("export-serving", help="CSV/Parquet snapshots of the serving tables under exports/<date>")
    exp.add_argument("--as-of", type=iso_date, required=True, help="the snapshot's business date")
    exp.set_defaults(fn=cmd_export_serving)
    demo = sub.add_parser("demo", help="generated data through Airflow's own runs (embedded SQLite Airflow)")
    demo.add_argument("--customers", type=int, help="default: conf orchestration.demo.customers")
    demo.add_argument("--days", type=int, help="default: conf orchestration.demo.days")
    demo.add_argument("--seed", type=int, help="default: conf orchestration.demo.seed")
    demo.add_argument("--daily-days", type=int, help="last days run one by one (default: conf)")
    demo.add_argument("--reset", action="store_true", help="first remove this OMNILAKE_HOME's demo state")
    demo.set_defaults(fn=partial(cmd_demo, build_parser=build_parser))
    run = sub.add_parser("runner", help="the warm Spark driver that runs the DAGs' Spark steps (status, stop, exec)")
    run.add_argument(
        "action",
        choices=["status", "stop", "exec", "serve"],
        help="exec CMD...: run an omnilake command in the runner (started when needed); serve: what a step starts",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, help="the command of exec")
    run.add_argument("--identity", default="", help=argparse.SUPPRESS)
    run.set_defaults(fn=partial(cmd_runner, run_command=run_command))
    clu = sub.add_parser(
        "cluster", help="Spark standalone master + workers and an MLflow server on 127.0.0.1 (conf `cluster`)"
    )
    clu.add_argument("action", choices=["up", "down", "status"], help="status: exit 1 unless every service is healthy")
    clu.set_defaults(fn=cmd_cluster)
    dash = sub.add_parser("dashboard", help="the business's dashboard: one self-contained HTML file (no network)")
    dash.add_argument("--as-of", type=iso_date, help="default: the latest business date in gold.daily_sales")
    dash.add_argument("--out", required=True, help="the HTML file to write, e.g. report.html")
    dash.set_defaults(fn=cmd_dashboard)
