"""The `omnilake` command (the public command line; see README and DESIGN.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from jobs.common.argtypes import iso_date
from jobs.common.config import Config, ConfigError, load_config
from jobs.common.errors import EXIT_BAD_INPUT, EXIT_BUSY, UserError
from jobs.common.locks import LockBusy, run_lock
from jobs.common.log import setup_logging
from jobs.sources.specs import IMPORT_KINDS


def cmd_generate(cfg: Config, args: argparse.Namespace) -> int:
    from jobs.generate.command import generate_landing

    print(
        generate_landing(
            cfg, customers=args.customers, days=args.days, seed=args.seed, out=args.out, drift_from=args.drift_from
        )
    )
    return 0


def cmd_ingest(cfg: Config, args: argparse.Namespace) -> int:
    from jobs.bronze.run import run_bronze
    from jobs.silver.run import run_silver

    run_bronze(cfg, landing=Path(args.from_dir) if args.from_dir else None, up_to=args.date)
    summary = run_silver(cfg, full_identity=args.full_identity)
    audit = summary.get("audit", [])
    print(
        f"ingested {summary['pending_batches']} batch(es): "
        f"{sum(a['bronze_rows'] for a in audit):,} bronze rows, {sum(a['loaded'] for a in audit):,} loaded, "
        f"{sum(a['quarantined'] for a in audit):,} quarantined"
    )
    return 0


def cmd_tables(cfg: Config, args: argparse.Namespace) -> int:
    from jobs.io.listing import table_summaries

    if args.health:
        return print_health(cfg)
    rows = table_summaries(cfg)
    if not rows:
        print(f"no tables under {cfg.paths.warehouse}")
        return 0
    width = max(len(r["table"]) for r in rows)
    print(f"{'table':<{width}}  {'rows':>12}  {'version':>7}  last update (UTC)")
    for r in rows:
        print(f"{r['table']:<{width}}  {r['rows']:>12,}  {r['version']:>7}  {r['updated']}")
    return 0


def print_health(cfg: Config) -> int:
    from jobs.orchestration.maintain import health

    rows = health(cfg)
    if not rows:
        print(f"no tables under {cfg.paths.warehouse}")
        return 0
    width = max(len(r["table"]) for r in rows)
    print(
        f"{'table':<{width}}  {'files':>7}  {'avg KB':>8}  {'data MB':>8}  {'disk files':>10}  {'disk MB':>8}  "
        f"{'version':>7}  {'commits':>7}  last maintenance (UTC)"
    )
    for r in rows:
        done = r["last_maintained"].strftime("%Y-%m-%d %H:%M:%S") if r["last_maintained"] else "never"
        print(
            f"{r['table']:<{width}}  {r['files']:>7,}  {r['average_file_bytes'] / 1024:>8.1f}  "
            f"{r['data_bytes'] / 2**20:>8.1f}  {r['disk_files']:>10,}  {r['disk_bytes'] / 2**20:>8.1f}  "
            f"{r['version']:>7}  {r['log_files']:>7}  {done}"
        )
    return 0


def cmd_maintain(cfg: Config, args: argparse.Namespace) -> int:
    from jobs.orchestration.maintain import MaintenanceFailed, run_maintenance

    try:
        rows = run_maintenance(cfg, args.table or ())
    except MaintenanceFailed as exc:
        print(f"omnilake maintain: failed: {exc}", file=sys.stderr)
        return 1
    files = sum(r["files_before"] for r in rows), sum(r["files_after"] for r in rows)
    disk = sum(r["disk_bytes_before"] for r in rows) / 2**20, sum(r["disk_bytes_after"] for r in rows) / 2**20
    removed = sum(r["bronze_rows_removed"] for r in rows)
    print(
        f"maintained {len(rows)} table(s): data files {files[0]:,} -> {files[1]:,}, on disk {disk[0]:,.1f} MB -> "
        f"{disk[1]:,.1f} MB, {removed:,} bronze rows past retention removed (`omnilake tables --health`)"
    )
    return 0


def cmd_export(cfg: Config, args: argparse.Namespace) -> int:
    from jobs.orchestration.restricted_exports import export

    rows = export(
        cfg, args.table, Path(args.out), allow_restricted=args.allow_restricted, as_of=args.as_of, reason=args.reason
    )
    print(f"exported {rows:,} rows of {args.table} to {args.out}")
    return 0


def cmd_import(cfg: Config, args: argparse.Namespace) -> int:
    from jobs.imports.run import run_import

    summary = run_import(
        cfg,
        args.kind,
        Path(args.file),
        mapping_text=args.map,
        channel=args.channel,
        fmt=args.format,
        encoding=args.encoding,
    )
    audit = next((a for a in summary.get("audit", []) if a["source"] == IMPORT_KINDS[args.kind].name), None)
    if audit is None:
        print(f"{args.file}: already imported (same content); nothing to do")
        return 0
    if summary.get("skipped"):
        print(f"{args.file}: already imported; a run stopped before silver: its rows are loaded now")
    print(
        f"imported {args.file}: {audit['bronze_rows']:,} rows, {audit['loaded']:,} loaded, "
        f"{audit['duplicate'] + audit['superseded']:,} duplicate/superseded, {audit['quarantined']:,} quarantined "
        "(see silver.quarantine)"
    )
    return 0


def cmd_build(cfg: Config, args: argparse.Namespace) -> int:
    if args.layer == "gold":
        from jobs.gold.run import run_gold as run
    else:
        from jobs.features.run import run_features as run
    summary = run(cfg, args.as_of, since=args.since, full=args.full)
    for table, rows in sorted(summary.items()):
        print(f"{table}: {rows}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="omnilake", description="omni-channel commerce lakehouse")
    parser.add_argument("--env", help="config env (conf/<env>.yaml); default $OMNILAKE_ENV or local")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write synthetic landing files and a manifest")
    gen.add_argument("--customers", type=int)
    gen.add_argument("--days", type=int)
    gen.add_argument("--seed", type=int)
    gen.add_argument("--out", help="default $OMNILAKE_HOME/landing")
    gen.add_argument(
        "--drift-from",
        type=iso_date,
        metavar="YYYY-MM-DD",
        help="plant the drift of conf generate.drift from this date on (default: its date; null: no drift)",
    )
    gen.set_defaults(fn=cmd_generate)
    ing = sub.add_parser("ingest", help="landing -> bronze -> silver")
    ing.add_argument("--from", dest="from_dir", help="landing folder (default $OMNILAKE_HOME/landing)")
    ing.add_argument("--date", type=iso_date, help="load delivery folders up to and including this date")
    ing.add_argument(
        "--full-identity",
        action="store_true",
        help="resolve every identity edge again (default: only the customers this run's new edges touch)",
    )
    ing.set_defaults(fn=cmd_ingest)
    bld = sub.add_parser("build", help="gold analytics or point-in-time features")
    bld.add_argument("layer", choices=["gold", "features"])
    bld.add_argument("--as-of", type=iso_date, help="default: the last complete business date in silver")
    bld.add_argument("--since", type=iso_date, help="also write the snapshots of every date from here to --as-of")
    bld.add_argument(
        "--full",
        action="store_true",
        help="rewrite every fact partition up to --as-of (default: only those new or changed data affect)",
    )
    bld.set_defaults(fn=cmd_build)
    imp = sub.add_parser("import", help="bring your own orders, interactions or daily sales (CSV/Parquet)")
    imp.add_argument("kind", choices=list(IMPORT_KINDS))
    imp.add_argument("file")
    imp.add_argument("--map", required=True, help="key=COLUMN pairs, comma separated (see README)")
    imp.add_argument("--channel", help="channel name for imported orders (a new channel is allowed)")
    imp.add_argument("--format", choices=["csv", "parquet"], help="default: from the file suffix")
    imp.add_argument(
        "--encoding",
        help="the CSV file's text encoding, e.g. latin-1 or cp1252 (default: UTF-8, with or without a BOM; a byte "
        "that is not valid in it refuses the file)",
    )
    imp.set_defaults(fn=cmd_import)
    tab = sub.add_parser("tables", help="every table with row count and last update")
    tab.add_argument(
        "--health", action="store_true", help="files, sizes, versions and last maintenance per table instead"
    )
    tab.set_defaults(fn=cmd_tables)
    mnt = sub.add_parser(
        "maintain", help="bronze retention, OPTIMIZE / Z-ORDER, VACUUM, log cleanup (conf maintenance)"
    )
    mnt.add_argument("--table", action="append", help="zone.table (repeatable); default: every table")
    mnt.set_defaults(fn=cmd_maintain)
    exp = sub.add_parser("export", help="write a table to CSV or Parquet")
    exp.add_argument("table")
    exp.add_argument("--out", required=True, help="FILE.csv or FILE.parquet")
    exp.add_argument(
        "--allow-restricted",
        action="store_true",
        help="allow bronze/restricted tables (raw PII); gold.marketing_audiences: with consented contact details",
    )
    exp.add_argument(
        "--reason",
        help="why, recorded in ops.restricted_exports with every --allow-restricted export (required for contacts)",
    )
    exp.add_argument("--as-of", type=iso_date, help="only the rows of this as-of date (snapshot and score tables)")
    exp.set_defaults(fn=cmd_export)
    from jobs.orchestration.commands import register as register_orchestration
    from jobs.orchestration.privacy_commands import register as register_privacy
    from jobs.orchestration.serving_commands import register as register_serving
    from ml.commands import register as register_ml

    register_ml(sub)  # train, score, evaluate, monitor
    # demo checks which Spark steps this command line has: it gets the parser factory, it does not import us
    register_orchestration(sub, build_parser=build_parser, run_command=main)  # quality, export-serving, demo, runner
    register_serving(sub)  # publish, postgres
    register_privacy(sub)  # privacy forget, privacy vacuum
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.env)
        setup_logging(cfg.logging.level, cfg.logging.json)
        lock = lock_name(args)
        if lock is None:
            return int(args.fn(cfg, args) or 0)
        wait = cfg.orchestration.lock_wait_seconds
        with run_lock(cfg.home, lock, command=" ".join(map(str, argv or sys.argv[1:])), wait_seconds=wait):
            return int(args.fn(cfg, args) or 0)
    except LockBusy as exc:
        print(f"omnilake {args.command}: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (UserError, ConfigError, FileNotFoundError, *_input_errors()) as exc:
        print(f"omnilake {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def lock_name(args: argparse.Namespace) -> str | None:
    """The run lock a command holds while it runs (jobs/common/locks.py): one per table family it writes.
    ingest and import share one (bronze batch numbers, the file registry, silver), and so does privacy (it deletes
    from bronze and silver); read-only commands take none."""
    if args.command in ("ingest", "import", "privacy"):  # privacy: an ingest must not re-add what it erases
        return "silver"
    if args.command == "build":
        return f"build-{args.layer}"
    if args.command in ("train", "score", "evaluate", "monitor", "maintain"):
        return args.command
    return None


def _input_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "your input is wrong": one line, exit 3 (everything else is a bug: traceback)."""
    from jobs.bronze.ingest import LandingError
    from jobs.imports.run import ImportFileError
    from jobs.io.tables import TableError
    from jobs.sources.contracts import ContractError

    return (LandingError, TableError, ImportFileError, ContractError)


def run() -> None:
    """The `omnilake` console script: main(), then exit without tearing down native thread pools.

    Arrow's and delta-rs's worker threads can abort the interpreter's shutdown ("terminate called without an
    active exception", delta-io/delta-rs#2184) after the command has finished and written everything; exiting
    with os._exit after flushing our own streams and stopping Spark keeps a finished command's status."""
    import logging
    import os

    code = main()
    if "pyspark.sql" in sys.modules:  # a Spark command: stop the session (and its JVM) first
        active = sys.modules["pyspark.sql"].SparkSession.getActiveSession()
        if active is not None:
            active.stop()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
