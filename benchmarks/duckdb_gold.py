"""The gold tables daily_sales, rfm_segments, cohort_retention and sku_matrix in DuckDB SQL, checked against ours.

Usage: .venv/bin/python benchmarks/duckdb_gold.py --home DIR --as-of D
The same logic as jobs/gold/{sales,customers,cohorts,merch}.py with the rules of conf (gold:), over the silver
Delta tables read with delta-rs into Arrow (DuckDB's delta extension downloads at run time: not used). The timing
includes those reads. The result is compared with the gold tables our Spark job wrote for the same as-of:
daily_sales every date up to it, the snapshots their `as_of` partition.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.compare import diff_tables, read_table  # noqa: E402

if TYPE_CHECKING:
    import pyarrow as pa

    from jobs.common.config.gold import GoldRules, Tier

COLUMNS = {
    "silver.order_lines": ["channel", "order_id", "line_no", "customer_id", "store_id", "order_ts", "order_date"]
    + ["status", "sku", "quantity", "net_amount"],
    "silver.returns": ["return_id", "channel", "order_id", "line_no", "sku", "quantity", "refund_amount"]
    + ["return_date"],
    "silver.products": ["sku", "category", "list_price", "unit_cost", "launched_date"],
}
KEYS = {
    "gold.daily_sales": ["business_date", "channel", "store_id", "sku"],
    "gold.rfm_segments": ["customer_id"],
    "gold.cohort_retention": ["cohort_month", "month_n"],
    "gold.sku_matrix": ["sku"],
}
# Decimals agree to the cent. A rate rounded to 4 places may differ by one unit in the last place: Spark divides
# decimals (rounded half-up to 6 places) before the double and rounds that half-up; DuckDB divides in double.
TOLERANCE = 1.5e-4


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _views(rules: GoldRules, as_of: date) -> str:
    """Sales lines (status not excluded, a null status counts) and orders (jobs/gold/sales.order_totals) up to
    `as_of` with a customer."""
    excluded = ", ".join(_q(s) for s in rules.excluded_statuses) or "NULL"
    return f"""
    CREATE OR REPLACE TEMP VIEW lines AS
      SELECT * FROM order_lines WHERE NOT coalesce(status IN ({excluded}), false);
    CREATE OR REPLACE TEMP VIEW orders AS
      SELECT channel, order_id, any_value(customer_id) AS customer_id, min(order_ts) AS order_ts,
             min(order_date) AS order_date, CAST(sum(net_amount) AS DECIMAL(18,2)) AS revenue
      FROM lines WHERE order_date <= DATE '{as_of}' AND customer_id IS NOT NULL
      GROUP BY channel, order_id;
    """


DAILY_SALES = """
WITH sold AS (
  SELECT order_date AS business_date, channel, store_id, sku, order_id, CAST(quantity AS BIGINT) AS units,
         net_amount AS revenue, CAST(0 AS BIGINT) AS returned_units, CAST(NULL AS DECIMAL(18,2)) AS refund_amount
  FROM lines),
returned AS (
  SELECT r.return_date AS business_date, r.channel, l.store_id, r.sku, CAST(NULL AS VARCHAR) AS order_id,
         CAST(0 AS BIGINT) AS units, CAST(NULL AS DECIMAL(18,2)) AS revenue,
         CAST(r.quantity AS BIGINT) AS returned_units, r.refund_amount
  FROM returns r LEFT JOIN lines l USING (channel, order_id, line_no)),
totals AS (
  SELECT business_date, channel, store_id, sku, CAST(sum(units) AS BIGINT) AS units,
         CAST(coalesce(sum(revenue), 0) AS DECIMAL(18,2)) AS revenue, count(DISTINCT order_id) AS orders,
         CAST(sum(returned_units) AS BIGINT) AS returned_units,
         CAST(coalesce(sum(refund_amount), 0) AS DECIMAL(18,2)) AS refund_amount
  FROM (SELECT * FROM sold UNION ALL BY NAME SELECT * FROM returned)
  GROUP BY business_date, channel, store_id, sku)
SELECT t.business_date, t.channel, t.store_id, p.category, t.sku, t.units, t.revenue,
       CAST(t.revenue - t.units * p.unit_cost AS DECIMAL(18,2)) AS margin, t.orders, t.returned_units,
       t.refund_amount
FROM totals t LEFT JOIN products p USING (sku)
WHERE t.business_date <= DATE '{as_of}'
"""

RFM = """
WITH rfm AS (
  SELECT customer_id, date_diff('day', max(order_date), DATE '{as_of}') AS recency_days, count(*) AS frequency,
         CAST(sum(revenue) AS DECIMAL(18,2)) AS monetary
  FROM orders GROUP BY customer_id),
scored AS (
  SELECT *,
    CAST(ceil(round(cume_dist() OVER (ORDER BY recency_days DESC) * 5, 6)) AS INTEGER) AS r_score,
    CAST(ceil(round(cume_dist() OVER (ORDER BY frequency ASC) * 5, 6)) AS INTEGER) AS f_score,
    CAST(ceil(round(cume_dist() OVER (ORDER BY monetary ASC) * 5, 6)) AS INTEGER) AS m_score,
    {tier} AS tier
  FROM rfm)
SELECT DATE '{as_of}' AS as_of, customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
       concat(r_score, f_score, m_score) AS rfm_score, tier, count(*) OVER (PARTITION BY tier) AS tier_customers
FROM scored
"""

COHORTS = """
WITH ranked AS (
  SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY order_ts, channel, order_id) AS n FROM orders),
people AS (
  SELECT f.customer_id, f.order_date AS first_date, s.order_date AS second_date,
         CAST(date_trunc('month', f.order_date) AS DATE) AS cohort_month
  FROM (SELECT * FROM ranked WHERE n = 1) f LEFT JOIN (SELECT * FROM ranked WHERE n = 2) s USING (customer_id)),
cohorts AS (
  SELECT cohort_month, count(*) AS customers,
    CAST(sum(CASE WHEN first_date + {days} <= DATE '{as_of}' THEN 1 ELSE 0 END) AS BIGINT) AS repurchase_eligible,
    CAST(sum(CASE WHEN date_diff('day', first_date, second_date) <= {days} THEN 1 ELSE 0 END) AS BIGINT)
      AS repurchased,
    sum(CASE WHEN date_diff('day', first_date, second_date) <= {days} AND first_date + {days} <= DATE '{as_of}'
        THEN 1 ELSE 0 END) AS repurchased_eligible
  FROM people GROUP BY cohort_month),
grid AS (
  SELECT *, unnest(range(0, date_diff('month', cohort_month, DATE '{month}') + 1)) AS month_n FROM cohorts),
active AS (
  SELECT p.cohort_month, date_diff('month', p.cohort_month, CAST(date_trunc('month', o.order_date) AS DATE)) AS month_n,
         count(DISTINCT o.customer_id) AS active_customers
  FROM orders o JOIN people p USING (customer_id) GROUP BY ALL)
SELECT DATE '{as_of}' AS as_of, g.cohort_month, g.customers, g.repurchase_eligible, g.repurchased,
       CASE WHEN g.repurchase_eligible > 0 THEN g.repurchased_eligible / g.repurchase_eligible END AS repurchase_rate,
       CAST(g.month_n AS INTEGER) AS month_n, coalesce(a.active_customers, 0) AS active_customers,
       coalesce(a.active_customers, 0) / g.customers AS retention_rate
FROM grid g LEFT JOIN active a USING (cohort_month, month_n)
"""

SKU_MATRIX = """
WITH sold AS (
  SELECT sku, CAST(sum(quantity) AS BIGINT) AS units, sum(net_amount) AS revenue FROM lines
  WHERE order_date BETWEEN DATE '{as_of}' - {window} + 1 AND DATE '{as_of}' GROUP BY sku),
catalog AS (
  SELECT sku, category, list_price, unit_cost FROM products
  WHERE launched_date IS NULL OR launched_date <= DATE '{as_of}'),
joined AS (
  SELECT coalesce(c.sku, s.sku) AS sku, c.category, coalesce(s.units, 0) AS units,
    CAST(coalesce(s.revenue, 0) AS DECIMAL(18,2)) AS revenue,
    CAST(coalesce(s.revenue, 0) - coalesce(s.units, 0) * c.unit_cost AS DECIMAL(18,2)) AS margin,
    CAST(coalesce((s.revenue - s.units * c.unit_cost) / nullif(s.revenue, 0),
                  (c.list_price - c.unit_cost) / nullif(c.list_price, 0)) AS DOUBLE) AS margin_rate
  FROM catalog c FULL JOIN sold s ON c.sku = s.sku),
ranked AS (
  SELECT *, cume_dist() OVER (ORDER BY revenue) AS sales_rank,
    revenue > 0 AND cume_dist() OVER (ORDER BY revenue) > {percentile} AS high_sales,
    revenue > 0 AND coalesce(margin_rate >= {margin}, false) AS high_margin
  FROM joined)
SELECT DATE '{as_of}' AS as_of, sku, category, units, revenue, margin, round(margin_rate, 4) AS margin_rate,
  round(sales_rank, 4) AS sales_percentile,
  CASE WHEN high_sales AND high_margin THEN 'star' WHEN high_sales THEN 'traffic_driver'
       WHEN high_margin THEN 'profit_driver' ELSE 'slow_mover' END AS quadrant
FROM ranked
"""


def _tier_sql(rules: GoldRules) -> str:
    """The first matching business tier (jobs/gold/customers._tier_condition): strict bounds, None unchecked."""

    def cond(t: Tier) -> str:
        parts = ["true"]
        if t.max_recency_days is not None:
            parts.append(f"recency_days < {t.max_recency_days}")
        if t.min_recency_days is not None:
            parts.append(f"recency_days > {t.min_recency_days}")
        if t.min_orders is not None:
            parts.append(f"frequency > {t.min_orders}")
        if t.min_spend is not None:
            parts.append(f"monetary > {t.min_spend}")
        return " AND ".join(parts)

    whens = " ".join(f"WHEN {cond(t)} THEN {_q(t.name)}" for t in rules.rfm.tiers)
    return f"CASE {whens} ELSE {_q(rules.rfm.default_tier)} END"


def load_home(env: Mapping[str, str]) -> tuple[Path, GoldRules]:
    """The warehouse folder and the gold rules of the configuration `env` selects (OMNILAKE_HOME, ...)."""
    from jobs.common.config import load_config

    cfg = load_config(environ=env)
    return Path(cfg.paths.warehouse), cfg.gold


def build(warehouse: Path, as_of: date, rules: GoldRules) -> dict[str, pa.Table]:
    """The four tables as Arrow, from the silver tables (read here: the timing includes the reads)."""
    import duckdb

    con = duckdb.connect()
    for name, columns in COLUMNS.items():
        con.register(name.split(".", 1)[1], read_table(warehouse, name, columns=columns))
    con.execute(_views(rules, as_of))
    sql = {
        "gold.daily_sales": DAILY_SALES.format(as_of=as_of),
        "gold.rfm_segments": RFM.format(as_of=as_of, tier=_tier_sql(rules)),
        "gold.cohort_retention": COHORTS.format(
            as_of=as_of, month=as_of.replace(day=1), days=rules.cohort.repurchase_days
        ),
        "gold.sku_matrix": SKU_MATRIX.format(
            as_of=as_of,
            window=rules.sku_matrix.window_days,
            percentile=rules.sku_matrix.high_sales_percentile,
            margin=rules.sku_matrix.high_margin_rate,
        ),
    }
    out = {table: con.sql(query).to_arrow_table() for table, query in sql.items()}
    con.close()
    return out


def compare(result: Mapping[str, pa.Table], warehouse: Path, as_of: date) -> dict[str, dict]:
    """Each DuckDB table against the Spark-written table of the same name under `warehouse` (daily_sales every
    date, the snapshots their `as_of` partition)."""
    tables = {}
    for table, duck in result.items():
        spark = read_table(warehouse, table, as_of=None if table == "gold.daily_sales" else as_of)
        difference = diff_tables(spark, duck, keys=KEYS[table], tolerance=TOLERANCE)
        tables[table] = {
            "spark_rows": spark.num_rows,
            "duckdb_rows": duck.num_rows,
            "equal": difference is None,
            "difference": difference,
        }
    return tables


def check(warehouse: Path, as_of: date, rules: GoldRules, *, four_tables: Path | None = None) -> dict:
    """Time DuckDB (reads included) and compare each table with our Spark job's output for `as_of`, and with
    the four tables benchmarks/spark_gold.py wrote under `four_tables` when given."""
    started = time.monotonic()
    ours = build(warehouse, as_of, rules)
    seconds = time.monotonic() - started
    tables = compare(ours, warehouse, as_of)
    out = {"seconds": round(seconds, 2), "tables": tables}
    checked = list(tables.values())
    if four_tables is not None:
        out["four_table_job"] = compare(ours, four_tables, as_of)
        checked += out["four_table_job"].values()
    return {**out, "equal": all(t["equal"] for t in checked)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, help="OMNILAKE_HOME whose gold tables were built as of --as-of")
    parser.add_argument("--as-of", required=True, type=date.fromisoformat)
    args = parser.parse_args()
    warehouse, rules = load_home({**os.environ, "OMNILAKE_HOME": str(Path(args.home).resolve())})
    result = check(warehouse, args.as_of, rules)
    print(json.dumps(result, indent=2))
    if not result["equal"]:
        raise SystemExit("DuckDB and Spark differ (see above)")


if __name__ == "__main__":
    main()
