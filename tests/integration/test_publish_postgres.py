"""Issue 14 item 1: `omnilake publish` into a real PostgreSQL (the suite's own server, tests/support/postgres.py).

The lake tables are written with delta-rs in the shapes of docs/tables.md (partitioned by as_of or business_date,
a list column, decimals, a null store_id online); the end-to-end run publishes the real ones. Checked: the round
trip of rows and types, a rerun that changes nothing, a rescored as-of and a removed date replaced exactly, a window
that leaves older partitions alone, a publish killed half-way that leaves the previous rows, and readers that only
ever see the old or the new rows of an as-of while a publish runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import write_deltalake

from jobs.cli import main
from jobs.common.config import Config, load_config
from jobs.common.errors import EXIT_BAD_INPUT
from jobs.io.faults import FAULT_ENV
from jobs.io.lake import lake_path

pytestmark = pytest.mark.integration
D = date(2025, 3, 31)
ROOT = Path(__file__).resolve().parents[2]
MODEL = {"model_name": "omnilake_churn_h30", "model_version": "3", "run_id": "abc123"}


def churn(as_of: date, customers: int, shift: float = 0.0) -> pa.Table:
    rows = [
        {
            "customer_id": f"c{i:04d}",
            "as_of": as_of,
            "horizon_days": 30,
            "churn_probability": round(i / (customers + 1) + shift, 6),
            "risk_band": "high" if i % 3 == 0 else "low",
            "top_reasons": [] if i % 4 == 0 else ["recency_days", "orders_90"][: 1 + i % 2],
            **MODEL,
        }
        for i in range(customers)
    ]
    schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("as_of", pa.date32()),
            ("horizon_days", pa.int32()),
            ("churn_probability", pa.float64()),
            ("risk_band", pa.string()),
            ("top_reasons", pa.list_(pa.string())),
            ("model_name", pa.string()),
            ("model_version", pa.string()),
            ("run_id", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema)


def sales(day: date, units: int) -> pa.Table:
    money = pa.decimal128(18, 2)
    schema = pa.schema(
        [
            ("business_date", pa.date32()),
            ("channel", pa.string()),
            ("store_id", pa.string()),
            ("category", pa.string()),
            ("sku", pa.string()),
            ("units", pa.int64()),
            ("revenue", money),
            ("margin", money),
            ("orders", pa.int64()),
        ]
    )
    rows = [
        {
            "business_date": day,
            "channel": channel,
            "store_id": store,
            "category": "snacks",
            "sku": f"S{k}",
            "units": units + k,
            "revenue": Decimal(f"{(units + k) * 3}.25"),
            "margin": None if k == 0 else Decimal("1.10"),
            "orders": 1 + k,
        }
        for channel, store in (("web", None), ("pos", "ST01"))
        for k in range(3)
    ]
    return pa.Table.from_pylist(rows, schema)


def forecast(as_of: date, series: int, level: float) -> pa.Table:
    n = series * 28
    idx = pa.array(range(n))
    return pa.table(
        {
            "store_id": pa.array([f"ST{(i // 28) % 7:02d}" for i in range(n)]),
            "sku": pa.array([f"S{(i // 28) // 7:05d}" for i in range(n)]),
            "date": pa.array([as_of + timedelta(days=1 + i % 28) for i in range(n)], pa.date32()),
            "mean": pc.add(pc.cast(idx, pa.float64()), level),
            "p10": pa.array([level] * n, pa.float64()),
            "p50": pa.array([level] * n, pa.float64()),
            "p90": pa.array([level * 2] * n, pa.float64()),
            "as_of": pa.array([as_of] * n, pa.date32()),
            "model_name": pa.array(["demand"] * n),
            "model_version": pa.array(["1"] * n),
            "run_id": pa.array(["r"] * n),
        }
    )


@pytest.fixture()
def pg(cfg: Config, postgres_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, request) -> Config:
    """The test's home pointed at the suite's PostgreSQL, in a schema of its own."""
    for key, value in postgres_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("OMNILAKE__SERVING__POSTGRES__SCHEMA_NAME", f"t_{request.node.name[:40].lower()}")
    return load_config()


def write(cfg: Config, name: str, rows: pa.Table, part: str, *, replace: date | None = None) -> None:
    path = lake_path(cfg, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if replace is None:
        write_deltalake(str(path), rows, mode="append", partition_by=[part])
    else:
        write_deltalake(str(path), rows, mode="overwrite", predicate=f"{part} = '{replace.isoformat()}'")


def query(cfg: Config, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    settings = cfg.serving.postgres
    with psycopg.connect(settings.dsn, password=os.environ["OMNILAKE_PG_PASSWORD"]) as conn:
        return conn.execute(sql.format(s=settings.schema_name), params).fetchall()


def lake_rows(rows: pa.Table) -> list[tuple[Any, ...]]:
    return sorted(tuple(r.values()) for r in rows.to_pylist())


def pg_rows(cfg: Config, table: str, columns: list[str], where: str = "true") -> list[tuple[Any, ...]]:
    return sorted(query(cfg, f"SELECT {', '.join(columns)} FROM {{s}}.{table} WHERE {where}"))


def publish(*extra: str) -> int:
    return main(["publish", "--as-of", D.isoformat(), *extra])


def test_round_trip_rerun_rescore_and_window(pg: Config, capsys: pytest.CaptureFixture[str]) -> None:
    old = D - timedelta(days=pg.serving.postgres.window_days)  # just outside the window
    churn_d, churn_before, churn_old = churn(D, 40), churn(D - timedelta(days=7), 30), churn(old, 5)
    for rows in (churn_old, churn_before, churn_d):
        write(pg, "gold.churn_scores", rows, "as_of")
    days = [sales(D - timedelta(days=k), 10 * k) for k in range(3)]
    for rows in days:
        write(pg, "gold.daily_sales", rows, "business_date")

    assert publish() == 0
    out = capsys.readouterr().out
    assert "gold.churn_scores: 70 rows in 2 as_of partition(s) replaced" in out
    assert "gold.daily_sales: 18 rows in 3 business_date partition(s) replaced" in out
    assert "gold.demand_forecast: not built yet, skipped" in out
    # rows and types: everything in the window, nothing older
    cols = churn_d.schema.names
    assert pg_rows(pg, "churn_scores", cols) == lake_rows(pa.concat_tables([churn_before, churn_d]))
    assert pg_rows(pg, "daily_sales", days[0].schema.names) == lake_rows(pa.concat_tables(days))
    types = dict(
        query(
            pg,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'churn_scores'",
            pg.serving.postgres.schema_name,
        )
    )
    assert types["top_reasons"] == "jsonb" and types["horizon_days"] == "integer" and types["as_of"] == "date"
    money = query(
        pg,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
        "'{s}.daily_sales'::regclass AND attname = 'revenue'",
    )
    assert money == [("numeric(18,2)",)]
    indexes = {
        r[0]
        for r in query(pg, "SELECT indexname FROM pg_indexes WHERE schemaname = %s", pg.serving.postgres.schema_name)
    }
    assert {"churn_scores_key", "churn_scores_ix0", "daily_sales_key", "daily_sales_ix0"} <= indexes

    # a rerun of the same lake copies nothing and changes nothing
    assert publish() == 0
    out = capsys.readouterr().out
    assert "gold.churn_scores: 0 rows in 0 as_of partition(s) replaced, 0 deleted, 2 unchanged" in out
    assert pg_rows(pg, "churn_scores", cols) == lake_rows(pa.concat_tables([churn_before, churn_d]))

    # a rescore of D (fewer customers, new values) replaces D exactly; a business date removed from the lake goes
    rescored = churn(D, 25, shift=0.5)
    write(pg, "gold.churn_scores", rescored, "as_of", replace=D)
    from deltalake import DeltaTable

    DeltaTable(str(lake_path(pg, "gold.daily_sales"))).delete(
        f"business_date = '{(D - timedelta(days=2)).isoformat()}'"
    )
    assert publish() == 0
    out = capsys.readouterr().out
    assert "gold.churn_scores: 25 rows in 1 as_of partition(s) replaced, 0 deleted, 1 unchanged" in out
    assert "gold.daily_sales: 0 rows in 0 business_date partition(s) replaced, 1 deleted, 2 unchanged" in out
    assert pg_rows(pg, "churn_scores", cols) == lake_rows(pa.concat_tables([churn_before, rescored]))
    assert pg_rows(pg, "daily_sales", days[0].schema.names) == lake_rows(pa.concat_tables(days[:2]))
    # --full copies the window again, with the same result
    assert publish("--full", "--table", "gold.churn_scores") == 0
    assert "55 rows in 2 as_of partition(s) replaced" in capsys.readouterr().out
    assert pg_rows(pg, "churn_scores", cols) == lake_rows(pa.concat_tables([churn_before, rescored]))
    assert query(pg, "SELECT count(*) FROM {s}._publish_log") == [(4,)]


def test_a_forget_erases_the_person_from_every_published_partition(pg: Config) -> None:
    """`omnilake privacy forget` deletes the person's rows from the published copies before the lake (issue 15):
    every partition, also one older than the publish window that no later publish rewrites; tables without a
    customer_id and other people's rows are left alone; a second erasure deletes nothing."""
    from jobs.orchestration.publish import erase_published

    old = D - timedelta(days=pg.serving.postgres.window_days + 10)
    write(pg, "gold.churn_scores", churn(old, 10), "as_of")
    assert main(["publish", "--as-of", old.isoformat()]) == 0
    write(pg, "gold.churn_scores", churn(D, 10), "as_of")
    ids = pa.array([f"c{c:04d}" for c in range(4) for _ in range(3)])  # churn's ids: c0003 has 3 rows
    write(pg, "gold.recommendations", recs(D, 4).set_column(0, "customer_id", ids), "as_of")
    write(pg, "gold.daily_sales", sales(D, 10), "business_date")
    assert publish() == 0
    before = {t: query(pg, f"SELECT count(*) FROM {{s}}.{t}")[0][0] for t in ("churn_scores", "daily_sales")}

    schema = pg.serving.postgres.schema_name
    removed = erase_published(pg, ["c0003", "c0007"])
    assert removed == {f"{schema}.churn_scores": 4, f"{schema}.recommendations": 3}
    assert query(pg, "SELECT count(*) FROM {s}.churn_scores WHERE customer_id IN ('c0003', 'c0007')") == [(0,)]
    assert query(pg, "SELECT count(*) FROM {s}.churn_scores")[0][0] == before["churn_scores"] - 4
    assert query(pg, "SELECT count(*) FROM {s}.daily_sales")[0][0] == before["daily_sales"]
    assert erase_published(pg, ["c0003", "c0007"]) == {f"{schema}.churn_scores": 0, f"{schema}.recommendations": 0}


def test_killed_publish_leaves_the_previous_rows(pg: Config) -> None:
    write(pg, "gold.churn_scores", churn(D, 30), "as_of")
    write(pg, "gold.daily_sales", sales(D, 5), "business_date")
    assert publish() == 0
    before = {t: pg_rows(pg, t, ["*"]) for t in ("churn_scores", "daily_sales")}
    write(pg, "gold.churn_scores", churn(D, 12, shift=0.25), "as_of", replace=D)
    write(pg, "gold.daily_sales", sales(D, 50), "business_date", replace=D)
    # killed (SIGKILL, as a lost machine) right after its first table is loaded, before the commit
    env = {**os.environ, FAULT_ENV: "1"}
    killed = subprocess.run(
        [sys.executable, "-m", "jobs", "publish", "--as-of", D.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert "fault.kill" in killed.stderr and "table=postgres:gold.churn_scores" in killed.stderr
    assert {t: pg_rows(pg, t, ["*"]) for t in before} == before
    assert publish() == 0
    assert pg_rows(pg, "churn_scores", churn(D, 1).schema.names) == lake_rows(churn(D, 12, shift=0.25))
    assert pg_rows(pg, "daily_sales", sales(D, 1).schema.names) == lake_rows(sales(D, 50))


def test_readers_never_see_a_half_loaded_as_of(pg: Config) -> None:
    old, new = forecast(D, 6000, 1.0), forecast(D, 5000, 3.0)  # 168,000 rows, then 140,000
    write(pg, "gold.demand_forecast", old, "as_of")
    assert publish() == 0
    states = {
        (old.num_rows, round(pc.sum(old["mean"]).as_py(), 3)),
        (new.num_rows, round(pc.sum(new["mean"]).as_py(), 3)),
    }
    write(pg, "gold.demand_forecast", new, "as_of", replace=D)
    seen: list[tuple[tuple[int, float], bool]] = []
    done = threading.Event()
    settings = pg.serving.postgres

    def read() -> None:
        with psycopg.connect(settings.dsn, password=os.environ["OMNILAKE_PG_PASSWORD"], autocommit=True) as conn:
            while not done.is_set():
                count, total = conn.execute(
                    f"SELECT count(*), coalesce(sum(mean), 0) FROM {settings.schema_name}.demand_forecast "
                    "WHERE as_of = %s",
                    (D,),
                ).fetchone()
                copying = conn.execute(
                    "SELECT count(*) > 0 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY %%'"
                ).fetchone()[0]
                seen.append(((count, round(total, 3)), copying))

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.2)
    try:
        assert publish() == 0
        time.sleep(0.2)
    finally:
        done.set()
        reader.join(timeout=60)
    assert {state for state, _ in seen} <= states, {state for state, _ in seen} - states
    assert seen[0][0] != seen[-1][0]  # it saw the old rows first and the new ones last
    assert any(copying for _, copying in seen), "no read happened while the publish was copying"


def test_publish_without_a_dsn_says_how_and_exits_3(cfg: Config, capsys: pytest.CaptureFixture[str]) -> None:
    assert publish() == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "no PostgreSQL is configured" in err and "OMNILAKE__SERVING__POSTGRES__DSN" in err
    assert "make postgres-up" in err


def recs(as_of: date, customers: int) -> pa.Table:
    rows = [
        {"customer_id": f"c{c:03d}", "item_id": f"S{(c + r) % 9}", "rank": r, "score": 1.0 / r, "as_of": as_of, **MODEL}
        for c in range(customers)
        for r in range(1, 4)
    ]
    schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("item_id", pa.string()),
            ("rank", pa.int32()),
            ("score", pa.float64()),
            ("as_of", pa.date32()),
            *((k, pa.string()) for k in MODEL),
        ]
    )
    return pa.Table.from_pylist(rows, schema)


def reader(script: str, *args: str) -> dict[str, Any]:
    import json

    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_plain_python_readers_agree(pg: Config) -> None:
    """examples/lake_reader.py (delta-rs) and examples/postgres_reader.py (after a publish) return the same newest
    as-of's forecast of a store x SKU and recommendations of a customer."""
    for day in (D - timedelta(days=1), D):
        write(pg, "gold.demand_forecast", forecast(day, 14, 2.0 if day == D else 1.0), "as_of")
        write(pg, "gold.recommendations", recs(day, 4), "as_of")
    assert publish() == 0
    settings = pg.serving.postgres
    lake = reader("lake_reader.py", "--warehouse", pg.paths.warehouse, "--store", "ST01", "--sku", "S00000")
    served = reader(
        "postgres_reader.py",
        "--dsn",
        settings.dsn,
        "--schema",
        settings.schema_name,
        "--store",
        "ST01",
        "--sku",
        "S00000",
    )
    assert served == lake
    assert lake["as_of"] == D.isoformat() and len(lake["forecast"]) == 28
    assert {r["store_id"] for r in lake["forecast"]} == {"ST01"} and lake["forecast"][0]["p10"] == 2.0
    assert [r["rank"] for r in lake["recommendations"]] == [1, 2, 3]
    customer = reader("lake_reader.py", "--warehouse", pg.paths.warehouse, "--customer", "c002")
    assert [r["item_id"] for r in customer["recommendations"]] == ["S3", "S4", "S5"]
