"""Benchmark: demand levels (ml.models.demand.levels.aggregate_levels) for 200k series x a few days.

Usage: .venv/bin/python benchmarks/demand_levels_bench.py [--series 20000 200000] [--days 3] [--stores 200]
       [--categories 20] [--n-samples N] [--series-per-chunk N]   (the last two default to conf ml.demand.levels)
The series forecast is built in Spark (spark.range: series x days, store = id % stores, category = sku % categories,
mean from a hash of the id, P10 / P50 / P90 as fixed multiples of it), never in pandas. For each size: wall seconds
of the levels (computed and cached, JVM start excluded), and, sampled every 0.2 s with psutil, the peak RSS of the
process tree (this Python driver, its JVM and the Python workers, summed) and the peak RSS of the largest single
Python worker. Checks that the total level's mean equals the sum of the series means. Prints a table and writes
benchmarks/results/<YYYY-MM-DD>-demand-levels.json (UTC date).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import MB, RESULTS, write_json  # noqa: E402

START = date(2025, 1, 1)


class Peaks:
    """Peak RSS of this process tree and of its largest Python worker, sampled every 0.2 s in a thread."""

    def __init__(self) -> None:
        self.tree = self.worker = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        import psutil

        me = psutil.Process(os.getpid())
        while not self._done.wait(0.2):
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a worker that ended between listing and reading
                    rss = p.memory_info().rss
                    total += rss
                    if p.pid != me.pid and "java" not in p.name():
                        self.worker = max(self.worker, rss)
            self.tree = max(self.tree, total)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def series_forecast(spark: Any, *, series: int, days: int, stores: int, categories: int) -> Any:
    """store_id, sku, category, date, mean, p10, p50, p90 for `series` store x SKU series and `days` days."""
    from pyspark.sql import functions as F

    sku = F.floor(F.col("id") / stores)
    mean = F.lit(0.2) + F.pmod(F.xxhash64("id"), F.lit(1000)) / F.lit(100.0)
    return (
        spark.range(series)
        .crossJoin(spark.range(days).withColumnRenamed("id", "day"))
        .select(
            F.concat(F.lit("S"), F.col("id") % stores).alias("store_id"),
            F.concat(F.lit("K"), sku).alias("sku"),
            F.concat(F.lit("C"), sku % categories).alias("category"),
            F.date_add(F.lit(START), F.col("day").cast("int")).alias("date"),
            mean.alias("mean"),
            (mean * 0.3).alias("p10"),
            (mean * 0.9).alias("p50"),
            (mean * 1.8).alias("p90"),
        )
    )


def run_size(spark: Any, args: argparse.Namespace, series: int) -> dict[str, Any]:
    from pyspark.sql import functions as F

    from ml.models.demand.levels import aggregate_levels

    forecast = series_forecast(spark, series=series, days=args.days, stores=args.stores, categories=args.categories)
    levels = aggregate_levels(
        forecast, n_samples=args.n_samples, seed=7, series_per_chunk=args.series_per_chunk
    ).persist()
    with Peaks() as peaks:
        start = time.perf_counter()
        rows = levels.count()
        wall = time.perf_counter() - start
    totals = {r["date"]: r["mean"] for r in levels.where(F.col("level") == "total").collect()}
    exact = {r["date"]: r["m"] for r in forecast.groupBy("date").agg(F.sum("mean").alias("m")).collect()}
    levels.unpersist()
    return {
        "series": series,
        "days": args.days,
        "series_days": series * args.days,
        "level_rows": rows,
        "wall_s": round(wall, 2),
        "peak_rss_tree_mb": round(peaks.tree / MB),
        "peak_rss_python_worker_mb": round(peaks.worker / MB),
        "one_day_draw_matrix_mb": round(series * args.n_samples * 8 / MB),  # what one group per day drew at once
        "total_mean_exact": all(abs(totals[d] - exact[d]) <= 1e-9 * exact[d] for d in exact),
    }


def main(argv: list[str] | None = None) -> int:
    from jobs.common.config import load_config
    from jobs.common.spark import build_spark

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--n-samples", type=int, default=None)
    parser.add_argument("--series-per-chunk", type=int, default=None)
    args = parser.parse_args(argv)
    cfg = load_config(environ={**os.environ, "OMNILAKE_HOME": os.environ.get("OMNILAKE_HOME", tempfile.mkdtemp())})
    configured = cfg.ml.demand.levels
    args.n_samples = args.n_samples or configured.n_samples
    args.series_per_chunk = args.series_per_chunk or configured.series_per_chunk
    spark = build_spark(cfg)
    results = [run_size(spark, args, n) for n in args.series]
    print(f"\nn_samples {args.n_samples}, series_per_chunk {args.series_per_chunk}, master {cfg.spark.master}")
    head = f"{'series':>9}{'days':>6}{'rows out':>10}{'wall s':>9}{'tree RSS MB':>13}{'worker RSS MB':>15}"
    print(head + f"{'1-day matrix MB':>17}{'mean exact':>12}")
    for r in results:
        print(
            f"{r['series']:>9,}{r['days']:>6}{r['level_rows']:>10,}{r['wall_s']:>9.1f}{r['peak_rss_tree_mb']:>13,}"
            f"{r['peak_rss_python_worker_mb']:>15,}{r['one_day_draw_matrix_mb']:>17,}{r['total_mean_exact']!s:>12}"
        )
    payload = {
        "config": {
            "n_samples": args.n_samples,
            "series_per_chunk": args.series_per_chunk,
            "stores": args.stores,
            "categories": args.categories,
            "master": cfg.spark.master,
            "shuffle_partitions": cfg.spark.shuffle_partitions,
        },
        "runs": results,
    }
    write_json(RESULTS / f"{datetime.now(UTC).date().isoformat()}-demand-levels.json", payload)
    return 0 if all(r["total_mean_exact"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
