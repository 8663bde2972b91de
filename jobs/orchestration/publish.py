"""`omnilake publish --as-of D`: the serving tables and the gold tables a service reads, copied into PostgreSQL
(delta-rs and psycopg 3 COPY: no JVM, no row-by-row inserts).

Each lake table of conf `serving.postgres.tables` becomes `<schema_name>.<table>` (the zone dropped), with the lake's
columns (lists, maps and structs as jsonb), a unique index on its key (nulls not distinct) and the lookup indexes of
conf. A table is partitioned in the lake by one date column (as_of or business_date); publishing as of D brings
the partitions in (D - window_days, D] in line: a partition whose Delta data files differ from those recorded at
its last publish (`<schema>._published_partitions`: a digest of the file paths) is deleted and copied again, one
no longer in the lake is deleted, an unchanged one is left alone. So a rerun of the same lake changes nothing, a
rescored as-of or a rebuilt business date is replaced whole, and a daily publish costs what changed.

One publish is one transaction (DDL included) under an advisory lock: readers see the previous rows until it
commits, and a publish that fails or is killed half-way leaves them as they were. `<schema>._publish_log` keeps a
row per publish.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jobs.common.config import Config
from jobs.common.errors import UserError
from jobs.common.log import event
from jobs.io.faults import after_commit
from jobs.io.lake import exists, lake_path
from jobs.io.listing import csv_schema, flatten_nested

if TYPE_CHECKING:
    import psycopg
    import pyarrow as pa

PARTITIONS, LOG = "_published_partitions", "_publish_log"
LOCK_KEY = 0x6F6D6E69  # pg_advisory_xact_lock key of every omnilake publish ("omni")


class NotConfigured(UserError):
    """No serving.postgres.dsn: the local default is the embedded lake only."""


def not_configured_message(cfg: Config) -> str:
    settings = cfg.serving.postgres
    return (
        "no PostgreSQL is configured for publishing: set serving.postgres.dsn in conf/<env>.yaml or "
        "OMNILAKE__SERVING__POSTGRES__DSN (e.g. postgresql://omnilake@host:5432/omnilake), and the password in "
        f"${settings.password_env} or {settings.password_file}. `make postgres-up` (omnilake postgres up) starts a "
        "local server and prints its DSN."
    )


@dataclass
class TableResult:
    table: str
    partition_column: str
    delta_version: int
    replaced: list[date] = field(default_factory=list)
    deleted: list[date] = field(default_factory=list)
    unchanged: int = 0
    rows: int = 0
    seconds: float = 0.0


@dataclass
class PublishResult:
    as_of: date
    target: str  # the DSN, without a password
    tables: list[TableResult]
    skipped: list[str]  # conf tables not in the lake yet
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "rows": {t.table: t.rows for t in self.tables},
            "replaced": {t.table: len(t.replaced) for t in self.tables},
            "skipped": self.skipped,
            "seconds": round(self.seconds, 2),
        }


def connect(cfg: Config) -> psycopg.Connection[Any]:
    """A connection to conf serving.postgres.dsn with the password from $<password_env> or <password_file>."""
    import psycopg

    settings = cfg.serving.postgres
    if not settings.dsn:
        raise NotConfigured(not_configured_message(cfg))
    if urlsplit(settings.dsn).password if "://" in settings.dsn else "password=" in settings.dsn:
        raise UserError(
            f"serving.postgres.dsn must not hold the password: put it in ${settings.password_env} or "
            f"{settings.password_file}"
        )
    password = os.environ.get(settings.password_env)
    if not password and Path(settings.password_file).exists():
        password = Path(settings.password_file).read_text().strip()
    try:
        return psycopg.connect(settings.dsn, password=password, connect_timeout=settings.connect_timeout_seconds)
    except psycopg.OperationalError as exc:
        raise UserError(f"cannot connect to PostgreSQL at {settings.dsn}: {str(exc).strip()}") from None


# ---- pure parts: types, digests, CSV ----


def pg_type(kind: pa.DataType) -> str:
    """The PostgreSQL column type of an Arrow type (nested types as jsonb, written as JSON text)."""
    import pyarrow as pa

    checks = (
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_int8, "smallint"),
        (pa.types.is_int16, "smallint"),
        (pa.types.is_int32, "integer"),
        (pa.types.is_int64, "bigint"),
        (pa.types.is_float32, "real"),
        (pa.types.is_float64, "double precision"),
        (pa.types.is_date, "date"),
        (pa.types.is_string, "text"),
        (pa.types.is_large_string, "text"),
        (pa.types.is_binary, "bytea"),
        (pa.types.is_nested, "jsonb"),
    )
    if pa.types.is_decimal(kind):
        return f"numeric({kind.precision},{kind.scale})"
    if pa.types.is_timestamp(kind):
        return "timestamp with time zone" if kind.tz else "timestamp without time zone"
    for check, name in checks:
        if check(kind):
            return name
    raise UserError(f"no PostgreSQL type for Arrow type {kind}")


def partition_digests(files: Iterable[tuple[date, str]]) -> dict[date, str]:
    """partition value -> sha256 of its sorted data file paths (a rewritten partition has new file names)."""
    by_part: dict[date, list[str]] = {}
    for part, path in files:
        by_part.setdefault(part, []).append(path)
    return {part: hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest() for part, paths in by_part.items()}


def plan(lake: dict[date, str], published: dict[date, str]) -> tuple[list[date], list[date], int]:
    """(partitions to copy again, partitions to delete, unchanged count) of one table's window."""
    replace = sorted(p for p, digest in lake.items() if published.get(p) != digest)
    delete = sorted(p for p in published if p not in lake)
    return replace, delete, len(lake) - len(replace)


def csv_chunks(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterable[tuple[bytes, int]]:
    """(CSV bytes without a header, rows) per record batch, as COPY ... (FORMAT csv) reads it: nested values as JSON
    text, every string quoted (so an empty string stays one and an unquoted empty field is NULL)."""
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    flat = csv_schema(schema)
    for batch in batches:
        out = io.BytesIO()
        pacsv.write_csv(flatten_nested(batch, flat), out, options)
        yield out.getvalue(), batch.num_rows


# ---- the database side ----


def _ident(*names: str) -> Any:
    from psycopg import sql

    return sql.Identifier(*names)


def _take_lock(conn: psycopg.Connection[Any], cfg: Config) -> None:
    """The transaction's publish lock (one writer of the schema at a time), waiting at most lock_timeout_seconds."""
    from psycopg import sql

    timeout = sql.Literal(f"{cfg.serving.postgres.lock_timeout_seconds}s")
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(timeout))
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))


def _ensure_bookkeeping(conn: psycopg.Connection[Any], schema: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(schema)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (table_name text NOT NULL, partition_value date NOT NULL, "
            "digest text NOT NULL, rows bigint NOT NULL, delta_version bigint NOT NULL, "
            "published_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (table_name, partition_value))"
        ).format(_ident(schema, PARTITIONS))
    )
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (publish_id bigserial PRIMARY KEY, as_of date NOT NULL, "
            "finished_at timestamptz NOT NULL DEFAULT now(), seconds double precision, summary jsonb)"
        ).format(_ident(schema, LOG))
    )


def _ensure_table(conn: psycopg.Connection[Any], schema: str, table: str, columns: pa.Schema, spec: Any) -> None:
    """Create the table and its indexes, or add the lake's new columns; a column whose type changed is an error."""
    from psycopg import sql

    wanted = {f.name: pg_type(f.type) for f in columns}
    qualified = sql.Identifier(schema, table).as_string(conn)
    have = dict(
        conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attnum > 0 AND NOT attisdropped",
            (qualified,),
        ).fetchall()
    )
    if not have:
        body = sql.SQL(", ").join(sql.SQL("{} {}").format(_ident(n), sql.SQL(t)) for n, t in wanted.items())
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(_ident(schema, table), body))
        have = wanted
    for name, kind in wanted.items():
        if name not in have:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(_ident(schema, table), _ident(name), sql.SQL(kind))
            )
        elif have[name] != kind:
            raise UserError(
                f"{schema}.{table}.{name} is {have[name]} in PostgreSQL but {kind} in the lake: migrate or drop it"
            )
    missing = [c for c in (*spec.key, *(c for index in spec.indexes for c in index)) if c not in wanted]
    if missing:
        raise UserError(f"conf serving.postgres.tables: {table} has no column(s) {', '.join(missing)}")
    indexes = [("key", spec.key, True), *((f"ix{i}", cols, False) for i, cols in enumerate(spec.indexes))]
    for suffix, cols, unique in indexes:
        conn.execute(
            sql.SQL("CREATE {} INDEX IF NOT EXISTS {} ON {} ({}){}").format(
                sql.SQL("UNIQUE" if unique else ""),
                _ident(f"{table}_{suffix}"),
                _ident(schema, table),
                sql.SQL(", ").join(_ident(c) for c in cols),
                sql.SQL(" NULLS NOT DISTINCT" if unique else ""),
            )
        )


def _published(conn: psycopg.Connection[Any], schema: str, table: str, lo: date, hi: date) -> dict[date, str]:
    from psycopg import sql

    rows = conn.execute(
        sql.SQL(
            "SELECT partition_value, digest FROM {} WHERE table_name = %s AND partition_value > %s "
            "AND partition_value <= %s"
        ).format(_ident(schema, PARTITIONS)),
        (table, lo, hi),
    ).fetchall()
    return dict(rows)


def _lake_files(cfg: Config, name: str) -> tuple[Any, str, list[tuple[date, str]]]:
    """(DeltaTable, its partition column, [(partition value, data file identity)])."""
    import pyarrow as pa
    from deltalake import DeltaTable

    table = DeltaTable(str(lake_path(cfg, name)))
    parts = table.metadata().partition_columns
    if len(parts) != 1:
        raise UserError(f"{name} must be partitioned by one date column to be published, not {parts}")
    column = parts[0]
    actions = pa.table(table.get_add_actions(flatten=True))
    values = [
        v if isinstance(v, date) else date.fromisoformat(str(v)) for v in actions[f"partition.{column}"].to_pylist()
    ]
    # a file's identity: its path, and its deletion vector where the table has them (a delete that only adds a
    # deletion vector keeps the path)
    parts = [actions["path"], *(actions[c] for c in actions.column_names if c.startswith("deletionVector"))]
    rows = zip(*(part.to_pylist() for part in parts), strict=True)
    identities = ["|".join("" if v is None else str(v) for v in row) for row in rows]
    return table, column, list(zip(values, identities, strict=True))


def _publish_table(conn: psycopg.Connection[Any], cfg: Config, name: str, as_of: date, *, full: bool) -> TableResult:
    import pyarrow.compute as pc
    from psycopg import sql

    settings = cfg.serving.postgres
    schema, table = settings.schema_name, name.split(".", 1)[1]
    started = time.monotonic()
    delta, column, files = _lake_files(cfg, name)
    lo = as_of - timedelta(days=settings.window_days)
    lake = partition_digests((p, f) for p, f in files if lo < p <= as_of)
    dataset = delta.to_pyarrow_dataset()
    _ensure_table(conn, schema, table, dataset.schema, settings.tables[name])
    published = _published(conn, schema, table, lo, as_of)
    if full:  # every partition of the window differs from what is recorded
        published = dict.fromkeys(published, "")
    replace, delete, unchanged = plan(lake, published)
    result = TableResult(name, column, delta.version(), replace, delete, unchanged)
    gone = replace + delete
    if gone:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(_ident(schema, table), _ident(column)), (gone,)
        )
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE table_name = %s AND partition_value = ANY(%s)").format(
                _ident(schema, PARTITIONS)
            ),
            (table, gone),
        )
    if replace:
        names = dataset.schema.names
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            _ident(schema, table), sql.SQL(", ").join(_ident(n) for n in names)
        )
        counts: dict[date, int] = dict.fromkeys(replace, 0)
        batches = dataset.to_batches(filter=pc.field(column).isin(replace))
        with conn.cursor().copy(copy_sql) as copy:
            for chunk, rows in csv_chunks(_counted(batches, column, counts), dataset.schema):
                copy.write(chunk)
                result.rows += rows
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (table_name, partition_value, digest, rows, delta_version) "
                    "VALUES (%s, %s, %s, %s, %s)"
                ).format(_ident(schema, PARTITIONS)),
                [(table, p, lake[p], counts[p], result.delta_version) for p in replace],
            )
    result.seconds = time.monotonic() - started
    event(
        "publish.table",
        table=name,
        version=result.delta_version,
        replaced=len(replace),
        deleted=len(delete),
        unchanged=unchanged,
        rows=result.rows,
        secs=round(result.seconds, 2),
    )
    after_commit(f"postgres:{name}")  # the fault-injection hook of the reliability tests (inside the transaction)
    return result


def _counted(batches: Iterable[pa.RecordBatch], column: str, counts: dict[date, int]) -> Iterable[pa.RecordBatch]:
    """The batches unchanged, counting rows per partition value on the way (for the bookkeeping rows)."""
    import pyarrow.compute as pc

    for batch in batches:
        tally = pc.value_counts(batch.column(column))
        for item in tally.to_pylist():
            counts[item["values"]] += item["counts"]
        yield batch


def publish(cfg: Config, *, as_of: date, tables: Sequence[str] | None = None, full: bool = False) -> PublishResult:
    """Copy the conf tables (or `tables`) as of `as_of` into PostgreSQL in one transaction (see the module doc).
    `full`: copy every partition of the window again, changed or not. NotConfigured without a DSN."""
    from psycopg import sql

    settings = cfg.serving.postgres
    if not settings.dsn:
        raise NotConfigured(not_configured_message(cfg))
    wanted = list(tables or settings.tables)
    unknown = [t for t in wanted if t not in settings.tables]
    if unknown:
        raise UserError(f"not a published table: {', '.join(unknown)} (conf serving.postgres.tables)")
    started = time.monotonic()
    present = [t for t in wanted if exists(cfg, t)]
    skipped = [t for t in wanted if t not in present]
    for name in skipped:
        event("publish.skip", table=name, reason="table does not exist yet")
    results: list[TableResult] = []
    with connect(cfg) as conn:  # commits on a clean exit, rolls back on an exception
        _take_lock(conn, cfg)
        _ensure_bookkeeping(conn, settings.schema_name)
        for name in present:
            results.append(_publish_table(conn, cfg, name, as_of, full=full))
        outcome = PublishResult(as_of, settings.dsn or "", results, skipped, time.monotonic() - started)
        conn.execute(
            sql.SQL("INSERT INTO {} (as_of, seconds, summary) VALUES (%s, %s, %s)").format(
                _ident(settings.schema_name, LOG)
            ),
            (as_of, outcome.seconds, json.dumps(outcome.as_dict())),
        )
    outcome.seconds = time.monotonic() - started
    event(
        "publish.done",
        as_of=as_of,
        tables=len(results),
        rows=sum(r.rows for r in results),
        secs=round(outcome.seconds, 2),
    )
    return outcome


def erase_published(cfg: Config, customer_ids: Sequence[str]) -> dict[str, int]:
    """Delete the rows of `customer_ids` from every published table with a customer_id column, every partition
    (also those older than the publish window, which no later publish rewrites), in one transaction under the
    publish lock; rows deleted per `<schema>.<table>` (tables never published are skipped). `omnilake privacy
    forget` calls it before it touches the lake: a server it cannot reach stops the forget with nothing erased, so
    the request can simply be run again. Nothing to do without a DSN."""
    from psycopg import sql

    settings = cfg.serving.postgres
    if not settings.dsn or not customer_ids:
        return {}
    removed: dict[str, int] = {}
    with connect(cfg) as conn:
        _take_lock(conn, cfg)
        holding = conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = %s AND column_name = 'customer_id'",
            (settings.schema_name,),
        ).fetchall()
        published = {row[0] for row in holding}
        for name in settings.tables:
            table = name.split(".", 1)[1]
            if table in published:
                deleted = conn.execute(
                    sql.SQL("DELETE FROM {} WHERE customer_id = ANY(%s)").format(_ident(settings.schema_name, table)),
                    (list(customer_ids),),
                )
                removed[f"{settings.schema_name}.{table}"] = deleted.rowcount
    event("privacy.postgres", tables=len(removed), rows=sum(removed.values()))
    return removed
