"""Benchmark: identity resolution of one day's new edges, incremental (only the customers they touch) against the
full recompute over every edge, in one process on the same Delta tables.

Usage: .venv/bin/python benchmarks/identity_bench.py [--customers 100000] [--day-share 0.01] [--repeats 2]
The graph is built with spark.range: each customer has 1-3 accounts (web, app, member; each with a self edge) that
all link to one identifier (a phone token for even customers, an email token for odd ones): ~3 nodes and ~4 edges
per customer. The day adds new edges, ~`day-share` of the edges: new customers (an account and its phone), new app
accounts of existing customers, and links from one customer's web account to another's identifier (merges).
silver.identity_edges and silver.identity_map are written as Delta tables under a temp OMNILAKE_HOME (the map as
a resolution from an empty map gives it, built from the graph's make-up); each repeat times both paths, from
reading the tables to the checkpointed changed rows (what Ingest.update_identities merges); the two must give
the same rows.
Prints a table and writes benchmarks/results/<YYYY-MM-DD>-identity.json (UTC date).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import RESULTS, write_json  # noqa: E402


def _graph(spark, customers: int, seed: int):
    """(edges of `customers` customers, ids 0..customers-1) as described in the module docstring."""
    from pyspark.sql import functions as F

    accounts = (
        spark.range(customers)
        .withColumnRenamed("id", "c")
        .withColumn("k", F.explode(F.sequence(F.lit(0), F.pmod(F.xxhash64("c", F.lit(seed)), F.lit(3)))))
    )
    kind = F.element_at(F.array(*map(F.lit, ("web", "app", "member"))), F.col("k").cast("int") + 1)
    return _account_edges(accounts, kind, F.concat(F.lit("a"), "c", F.lit("_"), "k"), F.col("c"))


def _resolved(graph):
    """The map a resolution of `graph` from an empty map gives, built from what the graph is made of: the nodes of
    an account's customer are its accounts and their identifier; its id is C + sha2 of the smallest node key. (A
    map that differed would make the full recompute of the day change more rows than the incremental one, and
    the run fail.)"""
    from pyspark.sql import functions as F

    c = F.regexp_extract(F.col("src_value"), r"^a(\d+)_", 1)
    nodes = graph.select(F.col("src_type").alias("id_type"), F.col("src_value").alias("id_value"), c.alias("c"))
    nodes = nodes.unionByName(
        graph.where(F.col("dst_type").isin("phone", "email")).select(
            F.col("dst_type").alias("id_type"), F.col("dst_value").alias("id_value"), c.alias("c")
        )
    ).distinct()
    smallest = nodes.groupBy("c").agg(F.min(F.concat_ws("|", "id_type", "id_value")).alias("key"))
    ids = smallest.select("c", F.concat(F.lit("C"), F.substring(F.sha2("key", 256), 1, 12)).alias("customer_id"))
    return nodes.join(ids, on="c", how="inner").select("id_type", "id_value", "customer_id")


def _identifier(c):
    from pyspark.sql import functions as F

    return (
        F.when(c % 2 == 0, F.lit("phone")).otherwise(F.lit("email")),
        F.concat(F.when(c % 2 == 0, F.lit("p")).otherwise(F.lit("e")), c.cast("string")),
    )


def _account_edges(rows, kind, account, customer):
    """A self edge per account and its link to its customer's identifier."""
    id_type, id_value = _identifier(customer)
    self_edge = rows.select(
        kind.alias("src_type"), account.alias("src_value"), kind.alias("dst_type"), account.alias("dst_value")
    )
    link = rows.select(
        kind.alias("src_type"), account.alias("src_value"), id_type.alias("dst_type"), id_value.alias("dst_value")
    )
    return self_edge.unionByName(link)


def _day(spark, customers: int, new_edges: int, seed: int):
    """~new_edges edges: half new customers (one web account each, 2 edges), 3/8 new app accounts of existing
    customers (2 edges), 1/8 links from an existing web account to another customer's identifier (1 edge)."""
    from pyspark.sql import functions as F

    n_new, n_acc, n_link = new_edges // 4, new_edges * 3 // 16, new_edges // 8
    fresh = spark.range(n_new).select((F.col("id") + customers).alias("c"))
    fresh_edges = _account_edges(fresh, F.lit("web"), F.concat(F.lit("a"), "c", F.lit("_0")), F.col("c"))
    picked = spark.range(n_acc).select("id", F.pmod(F.xxhash64("id", F.lit(seed + 1)), F.lit(customers)).alias("c"))
    acc_edges = _account_edges(picked, F.lit("app"), F.concat(F.lit("n"), "id"), F.col("c"))
    pairs = spark.range(n_link).select(
        F.pmod(F.xxhash64("id", F.lit(seed + 2)), F.lit(customers)).alias("c"),
        F.pmod(F.xxhash64("id", F.lit(seed + 3)), F.lit(customers)).alias("other"),
    )
    id_type, id_value = _identifier(F.col("other"))
    links = pairs.select(
        F.lit("web").alias("src_type"),
        F.concat(F.lit("a"), "c", F.lit("_0")).alias("src_value"),
        id_type.alias("dst_type"),
        id_value.alias("dst_value"),
    )
    return fresh_edges.unionByName(acc_edges).unionByName(links)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--day-share", type=float, default=0.01, help="new edges of the day / edges of the graph")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="omnilake_identity_bench_")
    env = {"OMNILAKE_HOME": home, "OMNILAKE_ENV": os.environ.get("OMNILAKE_ENV", "local")}

    from jobs.common.config import load_config
    from jobs.common.spark import build_spark
    from jobs.io.tables import Catalog
    from jobs.silver import identity

    cfg = load_config(environ=env)
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    rounds = cfg.ingest.identity_max_rounds

    started = time.monotonic()
    graph = _graph(spark, args.customers, args.seed).localCheckpoint()
    catalog.overwrite(graph, "silver.identity_edges")
    catalog.overwrite(_resolved(graph), "silver.identity_map")
    setup_s = time.monotonic() - started
    sizes = {
        "edges": catalog.read("silver.identity_edges").count(),
        "nodes": catalog.read("silver.identity_map").count(),
        "customers": catalog.read("silver.identity_map").select("customer_id").distinct().count(),
    }
    day = _day(spark, args.customers, round(sizes["edges"] * args.day_share), args.seed)
    new = identity.new_edges(day, known=catalog.read("silver.identity_edges")).localCheckpoint()
    sizes["new_edges"] = new.count()

    def timed(resolve):
        t = time.monotonic()
        changed, existing = resolve(
            new,
            edges=catalog.read("silver.identity_edges"),
            id_map=catalog.read("silver.identity_map"),
            max_rounds=rounds,
        )
        return time.monotonic() - t, changed, existing

    runs: dict[str, list[float]] = {"full": [], "incremental": []}
    for _ in range(args.repeats):
        full_s, full, _ = timed(identity.resolve_full)
        inc_s, inc, touched = timed(identity.resolve_incremental)
        runs["full"].append(round(full_s, 2))
        runs["incremental"].append(round(inc_s, 2))
    same = full.exceptAll(inc).limit(1).count() == 0 and inc.exceptAll(full).limit(1).count() == 0
    moved = inc.join(touched.select(*identity.NODE), on=list(identity.NODE), how="left_semi").count()
    sizes.update(changed_rows=inc.count(), moved_rows=moved, touched_map_rows=touched.count())
    best = {k: min(v) for k, v in runs.items()}
    ratio = round(best["full"] / best["incremental"], 1)

    print(f"\ngraph: {sizes['nodes']:,} nodes, {sizes['edges']:,} edges, {sizes['customers']:,} customers")
    print(
        f"day:   {sizes['new_edges']:,} new edges; touched map rows {sizes['touched_map_rows']:,}; changed rows "
        f"{sizes['changed_rows']:,} ({sizes['moved_rows']:,} known nodes moved); same rows: {same}"
    )
    print(f"\n{'path':<14}{'best s':>9}  runs s")
    for name, times in runs.items():
        print(f"{name:<14}{best[name]:>9.2f}  {', '.join(f'{t:.2f}' for t in times)}")
    print(f"{'full / incr.':<14}{ratio:>9.1f}x   (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    write_json(
        args.results / f"{datetime.now(UTC).date().isoformat()}-identity.json",
        {
            "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()],  # the cores are shared: read times with it
            "spark": {"master": cfg.spark.master, "shuffle_partitions": cfg.spark.shuffle_partitions},
            "args": {k: v for k, v in vars(args).items() if k != "results"},
            "sizes": sizes,
            "setup_s": round(setup_s, 2),
            "seconds": runs,
            "best_s": best,
            "full_over_incremental": ratio,
            "same_rows": same,
        },
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
