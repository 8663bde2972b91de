"""Small inline frames for every dashboard section (what jobs/orchestration/dashboard/reads.py would read), and the
browser check the tests share."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from jobs.orchestration.dashboard.reads import Inputs

AS_OF = date(2025, 3, 14)


def _days(n: int) -> list[date]:
    return [AS_OF - timedelta(days=i) for i in range(n)]


def sample_inputs() -> Inputs:
    days = _days(14)
    sales = pd.DataFrame(
        [
            {"business_date": d, "channel": c, "store_id": s, "sku": k, "units": 2 + i % 3, "revenue": 100.0 + 10 * i}
            for i, d in enumerate(days)
            for c, s, k in (("web", None, "A"), ("app", None, "B"), ("pos", "S1", "A"), ("pos", "S1", "B"))
        ]
    )
    orders = pd.DataFrame(
        [{"business_date": d, "channel": c, "orders": 3} for d in days for c in ("web", "app", "pos")]
    )
    funnel = pd.DataFrame(
        [
            {
                "business_date": d,
                "channel": c,
                "view_sessions": 40,
                "cart_sessions": 12,
                "order_sessions": 4,
                "paid_sessions": 3,
            }
            for d in days
            for c in ("web", "app")
        ]
    )
    retention = pd.DataFrame(
        {
            "cohort_month": [date(2025, 1, 1)] * 3 + [date(2025, 2, 1)] * 2 + [date(2025, 3, 1)],
            "month_n": [0, 1, 2, 0, 1, 0],
            "customers": [10, 10, 10, 8, 8, 5],
            "repurchase_eligible": [10, 10, 10, 8, 8, 0],
            "repurchased": [4, 4, 4, 2, 2, 0],
            "retention_rate": [1.0, 0.4, 0.2, 1.0, 0.25, 1.0],
        }
    )
    forecast = pd.DataFrame(
        [
            {
                "store_id": "S1",
                "sku": k,
                "date": AS_OF - timedelta(days=3) + timedelta(days=j),
                "mean": m,
                "p10": 0.0,
                "p90": 2 * m,
            }
            for k, m in (("A", 3.0), ("B", 1.0))
            for j in range(7)
        ]
    )
    frames = {
        "sales": sales,
        "orders": orders,
        "funnel": funnel,
        "roi": pd.DataFrame(
            {
                "business_date": days[:2],
                "channel": ["web", "app"],
                "spend": [100.0, 50.0],
                "attributed_revenue": [300.0, 25.0],
                "new_customers": [4, 0],
            }
        ),
        "retention": retention,
        "retention_before": retention.assign(repurchased=[2, 2, 2, 1, 1, 0]),
        "rfm": pd.DataFrame(
            {"tier": ["top", "loyal", "dormant"], "customers": [3, 10, 20], "revenue": [900.0, 800.0, 100.0]}
        ),
        "sku_matrix": pd.DataFrame(
            {
                "sku": ["A", "B", "C", "D"],
                "category": ["x", "x", "y", "y"],
                "revenue": [500.0, 400.0, 50.0, 0.0],
                "margin": [200.0, 40.0, 25.0, 0.0],
                "margin_rate": [0.4, 0.1, 0.5, 0.3],
                "sales_percentile": [1.0, 0.75, 0.5, 0.25],
                "quadrant": ["star", "traffic_driver", "profit_driver", "slow_mover"],
            }
        ),
        "sell_through": pd.DataFrame(
            {
                "store_id": ["S1", "S1", "S2"],
                "category": ["x", "y", "x"],
                "skus_in_stock": [40, 10, 5],
                "skus_sold": [1, 5, 5],
                "sell_through": [0.025, 0.5, 1.0],
                "flagged": [True, False, False],
            }
        ),
        "inventory": pd.DataFrame(
            {
                "store_id": ["S1", "S2"],
                "sku": ["A", "B"],
                "on_hand": [1, 0],
                "on_order": [0, 0],
                "reorder_point": [5.0, 2.0],
                "days_of_cover": [0.5, 0.0],
                "stockout_risk": ["medium", "high"],
            }
        ),
        "alerts": pd.DataFrame(
            {
                "business_date": [AS_OF] * 2,
                "rule": ["sales_drop", "stock_below_reorder"],
                "severity": ["medium", "high"],
                "entity_type": ["channel", "store_sku"],
                "entity_id": ["web", "S2/B"],
                "metric": [50.0, 0.0],
                "baseline": [100.0, 2.0],
                "threshold": [0.5, 2.0],
                "detail": ["revenue halved", "on hand 0"],
            }
        ),
        "anomalies": pd.DataFrame(
            {
                "business_date": [AS_OF, AS_OF],
                "channel": ["app", "web"],
                "order_id": ["o1", "o2"],
                "amount": [999.0, 5.0],
                "score": [9.0, 4.0],
                "flagged": [True, True],
                "reasons": [["z_amount"], []],
            }
        ),
        "forecast": forecast,
    }
    models = [
        {
            "model": "omnilake_churn_h30",
            "version": "3",
            "role": "challenger",
            "roles": {"challenger": {"auc": 0.81}, "recency": {"auc": 0.7}},
        },
        {"model": "omnilake_ltv_h30", "version": None, "role": None, "roles": {}},
    ]
    return Inputs(as_of=AS_OF, frames=frames, snapshots={"forecast": AS_OF - timedelta(days=4)}, models=models)


def assert_dashboard_draws(path: Path, *, sections: int | None = None) -> float:
    """Open `path` in headless chromium: every section drew a chart, no console error, no request outside the file.
    Returns the time to draw every chart (seconds)."""
    from jobs.orchestration.dashboard.browser import check_page

    report = check_page(path)
    assert report.problems() == [], report.problems()
    assert report.requests and all(u.startswith(("file:", "data:", "about:")) for u in report.requests), report.requests
    if sections is not None:
        assert len(report.charts) == sections, report.charts
    return report.seconds
