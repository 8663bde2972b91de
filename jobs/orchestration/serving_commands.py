"""`omnilake publish` and `omnilake postgres`: the serving tables in PostgreSQL (jobs/orchestration/publish.py) and a
local server for it (jobs/orchestration/pgserver.py). Imports stay inside the commands."""

from __future__ import annotations

import argparse
import sys

from jobs.common.argtypes import iso_date
from jobs.common.config import Config
from jobs.common.errors import EXIT_BAD_INPUT


def cmd_publish(cfg: Config, args: argparse.Namespace) -> int:
    """Copy the serving tables (and the gold tables a service reads) as of --as-of into PostgreSQL."""
    from jobs.orchestration.publish import NotConfigured, publish

    try:
        result = publish(cfg, as_of=args.as_of, tables=args.table, full=args.full)
    except NotConfigured as exc:
        print(f"omnilake publish: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for table in result.tables:
        print(
            f"{table.table}: {table.rows:,} rows in {len(table.replaced)} {table.partition_column} partition(s) "
            f"replaced, {len(table.deleted)} deleted, {table.unchanged} unchanged (Delta version "
            f"{table.delta_version}, {table.seconds:.1f} s)"
        )
    for name in result.skipped:
        print(f"{name}: not built yet, skipped")
    schema = cfg.serving.postgres.schema_name
    print(f"published as of {args.as_of} into {result.target} (schema {schema}) in {result.seconds:.1f} s")
    return 0


def cmd_postgres(cfg: Config, args: argparse.Namespace) -> int:
    """A local PostgreSQL server for publish: up (prints how to point omnilake at it), down or status."""
    from jobs.orchestration import pgserver

    settings = cfg.serving.postgres
    if args.action == "down":
        print("stopped the local PostgreSQL" if pgserver.down(cfg) else "no local PostgreSQL was running")
        return 0
    server = pgserver.up(cfg) if args.action == "up" else pgserver.status(cfg)
    if server is None:
        print(f"no local PostgreSQL running under {settings.local.dir}")
        return 1
    print(f"PostgreSQL {'started' if server.started else 'running'} on 127.0.0.1:{server.port} (data {server.dir})")
    print(f"  export OMNILAKE__SERVING__POSTGRES__DSN={server.dsn}")
    print(f"  password: {settings.password_file} (or ${settings.password_env})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `publish` and `postgres` to the `omnilake` command's sub-parsers."""
    pub = sub.add_parser("publish", help="copy serving and gold tables as of a date into PostgreSQL (conf serving)")
    pub.add_argument("--as-of", type=iso_date, required=True, help="the business date whose window is published")
    pub.add_argument(
        "--table", action="append", help="only this lake table (repeatable; default: conf serving.postgres.tables)"
    )
    pub.add_argument("--full", action="store_true", help="copy every partition of the window again, changed or not")
    pub.set_defaults(fn=cmd_publish)
    pg = sub.add_parser(
        "postgres", help="a local PostgreSQL server on 127.0.0.1 for publish (conf serving.postgres.local)"
    )
    pg.add_argument("action", choices=["up", "down", "status"])
    pg.set_defaults(fn=cmd_postgres)
