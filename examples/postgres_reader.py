"""A downstream service reading omnilake's forecasts and recommendations from PostgreSQL (what `omnilake publish`
loads). Plain Python: psycopg 3 only. The lookups use the indexes publish creates (store_id, sku, date on
demand_forecast; customer_id on recommendations).

  OMNILAKE_PG_PASSWORD=... python examples/postgres_reader.py --dsn postgresql://omnilake@host:5432/omnilake
      [--schema omnilake] [--as-of YYYY-MM-DD] [--store ST01 --sku SKU00001] [--customer CUSTOMER_ID]

Prints the same JSON object as examples/lake_reader.py for the same lake and arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row


def latest_as_of(conn: psycopg.Connection[Any], schema: str) -> date:
    query = sql.SQL("SELECT max(as_of) AS as_of FROM {}").format(sql.Identifier(schema, "demand_forecast"))
    return conn.execute(query).fetchone()["as_of"]


def forecast(
    conn: psycopg.Connection[Any], schema: str, as_of: date, store_id: str | None = None, sku: str | None = None
) -> list[dict[str, Any]]:
    """One as-of's daily forecast (mean and the P10-P90 band) by date, for one store x SKU when given."""
    query = sql.SQL(
        "SELECT store_id, sku, date, mean, p10, p50, p90, model_version FROM {} WHERE as_of = %(as_of)s "
        "AND (%(store)s::text IS NULL OR store_id = %(store)s) AND (%(sku)s::text IS NULL OR sku = %(sku)s) "
        "ORDER BY store_id, sku, date"
    ).format(sql.Identifier(schema, "demand_forecast"))
    return conn.execute(query, {"as_of": as_of, "store": store_id, "sku": sku}).fetchall()


def recommendations(
    conn: psycopg.Connection[Any], schema: str, as_of: date, customer_id: str | None = None
) -> list[dict[str, Any]]:
    """One as-of's ranked recommendations, for one customer when given."""
    query = sql.SQL(
        "SELECT customer_id, rank, item_id, score, model_version FROM {} WHERE as_of = %(as_of)s "
        "AND (%(customer)s::text IS NULL OR customer_id = %(customer)s) ORDER BY customer_id, rank"
    ).format(sql.Identifier(schema, "recommendations"))
    return conn.execute(query, {"as_of": as_of, "customer": customer_id}).fetchall()


def _records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()} for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="without the password: it comes from $OMNILAKE_PG_PASSWORD")
    parser.add_argument("--schema", default="omnilake")
    parser.add_argument("--as-of", type=date.fromisoformat, help="default: the newest forecast")
    parser.add_argument("--store")
    parser.add_argument("--sku")
    parser.add_argument("--customer")
    args = parser.parse_args(argv)
    password = os.environ.get("OMNILAKE_PG_PASSWORD")
    with psycopg.connect(args.dsn, password=password, row_factory=dict_row) as conn:
        as_of = args.as_of or latest_as_of(conn, args.schema)
        series = forecast(conn, args.schema, as_of, args.store, args.sku)
        if (args.store is None or args.sku is None) and series:  # the first series of the as-of
            series = forecast(conn, args.schema, as_of, series[0]["store_id"], series[0]["sku"])
        recs = recommendations(conn, args.schema, as_of, args.customer)
        if args.customer is None and recs:
            recs = [r for r in recs if r["customer_id"] == recs[0]["customer_id"]]
    json.dump({"as_of": as_of.isoformat(), "forecast": _records(series), "recommendations": _records(recs)}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
