"""Benchmark: the ML models against their baselines on planted-signal data, larger than the tests.

Usage: .venv/bin/python benchmarks/ml_bench.py [--customers 10000] [--seeds 3] [--no-spark]
1. Pure models (pandas): churn (calibrated LightGBM vs BG/NBD vs recency) and LTV (LightGBM vs BG/NBD +
   Gamma-Gamma) on the honest windows (fit at D - 2H, measured on (D - H, D]) for several seeds.
2. Unless --no-spark: every model through the real train wrapper (Spark frames, MLflow on a temp SQLite store,
   gate) on planted silver tables, with wall times.
Prints tables and writes benchmarks/results/ml.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
START, H = date(2025, 1, 1), 30


def pure_models(customers: int, seeds: int, days: int) -> dict[str, dict[str, float]]:
    """Mean metric per model over `seeds` planted populations."""
    from jobs.common.config import load_config
    from ml.models.churn import model as churn
    from ml.models.churn.adapter import churned
    from ml.models.ltv import model as ltv
    from ml.training.frames import feature_columns
    from ml.validation.metrics import classification, count_errors
    from tests.support.synthetic import Planted, customer_frame, simulate

    settings = load_config(environ={"OMNILAKE_ENV": "local", "OMNILAKE_HOME": tempfile.mkdtemp()}).ml
    churn_params, ltv_params = (dict(settings.model(m).challenger.params) for m in ("churn", "ltv"))
    rows: dict[str, list[dict[str, float]]] = {}
    end = START + timedelta(days=days - 1)
    for seed in range(1, seeds + 1):
        sim = simulate(Planted(customers=customers, days=days), start=START, seed=seed)
        fit = customer_frame(sim, as_of=end - timedelta(days=2 * H), horizon_days=H)
        ev = customer_frame(sim, as_of=end - timedelta(days=H), horizon_days=H)
        features, y = feature_columns(list(fit.columns)), churned(ev)
        lgbm = churn.train(fit[features], churned(fit), churn_params)
        rows.setdefault("churn lgbm (platt)", []).append(classification(lgbm.predict_proba(ev), y, is_probability=True))
        bg = churn.fit_probabilistic(fit, horizon_days=H)
        rows.setdefault("churn bgnbd", []).append(classification(bg.predict_proba(ev), y, is_probability=True))
        rows.setdefault("churn recency", []).append(classification(churn.recency_score(ev), y, is_probability=False))
        for name, model in (
            ("ltv lgbm", ltv.train(fit[features], fit[["label_purchases", "label_revenue"]], ltv_params)),
            ("ltv bgnbd_gg", ltv.fit_probabilistic(fit, horizon_days=H)),
        ):
            out = model.predict_frame(ev)
            rows.setdefault(name, []).append(
                count_errors(out["expected_purchases"], ev["label_purchases"], prefix="purchases")
                | count_errors(out["expected_revenue"], ev["label_revenue"], prefix="revenue")
            )
    keep = ("auc", "ece", "brier", "mae_purchases", "total_purchases_error", "mae_revenue", "total_revenue_error")
    return {
        name: {k: statistics.fmean(r[k] for r in runs) for k in keep if k in runs[0]} for name, runs in rows.items()
    }


def spark_models(customers: int, days: int) -> dict[str, dict]:
    """Each model through train_model on planted silver tables; decision, comparison metrics and seconds."""
    from jobs.common.config import load_config
    from ml.commands import make_adapter
    from ml.training.adapter import ml_env
    from ml.training.train import train_model
    from tests.support import synthetic as syn

    home = tempfile.mkdtemp(prefix="omnilake_mlbench_")
    os.environ.update({"OMNILAKE_HOME": home, "OMNILAKE_ENV": os.environ.get("OMNILAKE_ENV", "local")})
    env = ml_env(load_config())
    sim = syn.simulate(syn.Planted(customers=customers, days=days), start=START, seed=1)
    writes = {
        "silver.order_lines": syn.order_lines(env.spark, sim.transactions),
        "silver.events": syn.web_events(env.spark, sim.events),
        "silver.daily_sales_imported": syn.silver_frame(
            env.spark, syn.store_sales(stores=5, skus=24, days=days, start=START, seed=1), "silver.daily_sales_imported"
        ),
        "silver.products": syn.silver_frame(env.spark, syn.products(24), "silver.products"),
    }
    for table, df in writes.items():
        env.catalog.overwrite(df, table)
    out = {}
    for model in ("churn", "ltv", "demand", "recommend"):
        started = time.monotonic()
        report = train_model(
            make_adapter(model, env),
            env,
            as_of=START + timedelta(days=days - 1),
            horizon_days=env.settings.model(model).horizon_days,
        )
        out[model] = {
            "outcome": report.decision.outcome,
            "reason": report.decision.reason,
            "metrics": report.metrics,
            "seconds": round(time.monotonic() - started, 1),
        }
    return out


def _print_pure(results: dict[str, dict[str, float]]) -> None:
    cols = ["auc", "ece", "brier", "mae_purchases", "total_purchases_error", "mae_revenue", "total_revenue_error"]
    print(f"{'model':<22}" + "".join(f"{c:>22}" for c in cols))
    for name, metrics in results.items():
        print(f"{name:<22}" + "".join(f"{metrics[c]:>22.4f}" if c in metrics else f"{'-':>22}" for c in cols))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--days", type=int, default=240)
    parser.add_argument("--spark-customers", type=int, default=3000)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    pure = pure_models(args.customers, args.seeds, args.days)
    print(
        f"\npure models: {args.customers} customers x {args.days} days, H={H}, mean of {args.seeds} seeds "
        f"({time.monotonic() - started:.0f}s)"
    )
    _print_pure(pure)
    result = {
        "pure": {
            "customers": args.customers,
            "days": args.days,
            "horizon_days": H,
            "seeds": args.seeds,
            "metrics": pure,
        }
    }
    if not args.no_spark:
        spark = spark_models(args.spark_customers, 200)
        print(f"\ntrain wrapper (Spark + MLflow): {args.spark_customers} customers x 200 days, 5 stores x 24 SKUs")
        print(f"{'model':<11}{'outcome':>10}{'seconds':>9}  comparison (held-out window)")
        for model, r in spark.items():
            keys = ("auc", "ece", "mae_purchases", "wape_category", "ndcg", "recall")
            shown = {role: {k: round(v, 4) for k, v in m.items() if k in keys} for role, m in r["metrics"].items()}
            print(f"{model:<11}{r['outcome']:>10}{r['seconds']:>9.1f}  {shown}")
        result["spark"] = {"customers": args.spark_customers, "days": 200, "models": spark}
    out = ROOT / "benchmarks" / "results" / "ml.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
