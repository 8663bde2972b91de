"""Benchmark: the global demand model side by side with the per-series ETS loop (and the two simple baselines).

Usage:
  .venv/bin/python benchmarks/demand_bench.py realistic [--stores 2] [--skus 800] [--days 730] [--seed 11]
  .venv/bin/python benchmarks/demand_bench.py lake --home DIR      (features.item_store_day of a built lake, e.g.
                                                                   the one `make bench SF=0.1` leaves in its --home)
  common: [--origins 3] [--step-days 28] [--max-rows N]

`realistic` is tests/support/retail_shapes.simulate_intermittent: intermittent grocery-like series (most days zero,
compound sizes, weekly profiles, price changes, promotions, level shifts). `lake` reads a lake's item_store_day, so
the generator at a scale factor is measured on the same code path as the daily forecast.

It runs ml.models.demand.backtest with the conf's demand parameters and origin lattice over `--origins` rolling
origins `--step-days` apart, the last one H days before the last day: every model is fitted on data up to each
origin and scored on the H days after it, at store x SKU, SKU, store, category and total. Wall seconds per model
are the backtest's own (global model: training frame, fit and forecast; ETS: the statsmodels loop over every series;
the moving average and seasonal naive: their pandas forecasts). Prints a table and writes
benchmarks/results/<YYYY-MM-DD>-demand-<fixture>.json (UTC date).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import RESULTS, write_json  # noqa: E402


def _history(args: argparse.Namespace, spark, cfg):  # noqa: ANN001, ANN202 (Spark objects: imported lazily)
    """(Spark item_store_day frame, a description of the fixture)."""
    if args.fixture == "realistic":
        from tests.support.retail_shapes import simulate_intermittent

        panel = simulate_intermittent(stores=args.stores, skus=args.skus, days=args.days, seed=args.seed)
        described = {
            "stores": args.stores,
            "skus": args.skus,
            "days": args.days,
            "seed": args.seed,
            "zero_share": round(float((panel["units"] == 0).mean()), 4),
        }
        return spark.createDataFrame(panel.drop(columns=["expected"])).cache(), described
    from jobs.io.tables import Catalog

    frame = Catalog.from_config(spark, cfg).read("features.item_store_day").cache()
    return frame, {"home": str(args.home), "rows": frame.count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixture", choices=("realistic", "lake"))
    parser.add_argument("--home", type=Path, help="OMNILAKE_HOME of the lake (fixture `lake`)")
    parser.add_argument("--stores", type=int, default=2)
    parser.add_argument("--skus", type=int, default=800)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--origins", type=int, default=3)
    parser.add_argument("--step-days", type=int, default=28)
    parser.add_argument("--max-rows", type=int, help="cap the backtest's history rows (conf ml.handoff sample)")
    args = parser.parse_args()
    if args.fixture == "lake" and args.home is None:
        parser.error("fixture `lake` needs --home")

    import os

    os.environ.setdefault("OMNILAKE_HOME", str(args.home or tempfile.mkdtemp(prefix="demand-bench-")))
    from pyspark.sql import functions as F

    from jobs.common.config import load_config
    from jobs.common.config.ml import HandOff
    from jobs.common.spark import build_spark
    from ml.models.demand.backtest import backtest
    from ml.models.demand.model import DemandParams

    cfg = load_config()
    spark = build_spark(cfg)
    settings = cfg.ml.demand
    horizon = settings.horizon_days
    history, described = _history(args, spark, cfg)
    last = history.agg(F.max("date")).first()[0]
    origins = [last - timedelta(days=horizon + i * args.step_days) for i in range(args.origins)]
    limits = HandOff(max_rows=args.max_rows, seed=cfg.ml.handoff.seed) if args.max_rows else None
    started = time.perf_counter()
    result = backtest(
        history,
        origins=origins,
        horizon=horizon,
        params=DemandParams(**(settings.challenger.params if settings.challenger else {})),
        lattice=settings.frame,
        limits=limits,
    )
    total = time.perf_counter() - started
    wape = result.pivot(index="model", columns="level", values="wape")
    bias = result[result["level"] == "total"].set_index("model")["bias"]
    wall = result.groupby("model")["wall_s"].first()
    table = wape.assign(bias_total=bias, wall_s=wall).round(4)
    print(f"demand backtest, fixture {args.fixture} {described}, origins {[str(o) for o in origins]}, H={horizon}")
    print(table.to_string())
    print(f"backtest wall {total:.1f} s")
    name = f"{datetime.now(UTC).date().isoformat()}-demand-{args.fixture}.json"
    write_json(
        RESULTS / name,
        {
            "fixture": args.fixture,
            "described": described,
            "origins": [str(o) for o in origins],
            "horizon_days": horizon,
            "wape": {m: row.to_dict() for m, row in wape.iterrows()},
            "bias_total": bias.to_dict(),
            "wall_s": wall.to_dict(),
            "backtest_wall_s": round(total, 2),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
