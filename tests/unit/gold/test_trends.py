from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as Dec

from jobs.common.config.gold import SkuTrendRules
from jobs.gold.trends import sku_trend_days, sku_trends, trend_days_from

D = date.fromisoformat
AS_OF = D("2025-03-06")  # recent window 03-05..03-06, baseline 03-01..03-04
RULES = SkuTrendRules(
    recent_days=2, baseline_days=4, breakout_ratio=3.0, collapse_ratio=0.33, min_z=1.0, min_expected_lines=2.0
)
BASE = ("2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04")
LINES = {  # sku -> order lines (date, units)
    "B": [(d, 1) for d in BASE] + [(d, 1) for d in ("2025-03-05", "2025-03-06") for _ in range(5)],
    "C": [(d, 1) for d in BASE for _ in range(5)],  # nothing since: days of 0
    "S": [(d, 1) for d in (*BASE, "2025-03-05", "2025-03-06") for _ in range(2)],
    "N": [("2025-03-05", 3), ("2025-03-06", 3)],  # new: no baseline
    "L": [("2025-03-02", 1), ("2025-03-05", 12)],  # 0.5 lines expected: too few to call
    "Q": [(d, 1) for d in BASE] + [("2025-03-06", 12)],  # 6 x the units, but in one order line: not significant
    "O": [("2025-02-20", 9)],  # sold only before the days the as-of reads
    "X": [("2025-03-07", 4)],  # after the as-of
}


def _lines(silver):
    rows = [(s, d, q) for s, lines in LINES.items() for d, q in lines]
    return silver(
        "silver.order_lines",
        [
            dict(channel="web", order_id=f"O{i}", line_no=1, order_date=D(d), sku=s, quantity=q, net_amount=Dec(q * 10))
            for i, (s, d, q) in enumerate(rows)
        ],
    )


def _products(silver):
    return silver("silver.products", [{"sku": "B", "category": "A", "brand": "Y"}, {"sku": "C", "category": "A"}])


def test_breakout_collapse_and_the_skus_that_are_not_trends(silver) -> None:
    rows = {r["sku"]: r for r in sku_trends(_lines(silver), _products(silver), as_of=AS_OF, rules=RULES).collect()}
    assert set(rows) == {"B", "C", "S", "N", "L", "Q"}
    got = {
        s: (
            r["recent_units"],
            r["baseline_units"],
            r["expected_units"],
            r["ratio"],
            r["recent_lines"],
            r["z"],
            r["trend"],
        )
        for s, r in rows.items()
    }
    assert got == {
        "B": (10, 4, 2.0, 5.0, 10, 5.6569, "breakout"),  # lines: (10 - 2) / sqrt(2)
        "C": (0, 20, 10.0, 0.0, 0, -3.1623, "collapse"),
        "S": (4, 8, 4.0, 1.0, 4, 0.0, "steady"),
        "N": (6, 0, 0.0, None, 2, None, "steady"),
        "L": (12, 1, 0.5, 24.0, 1, 0.7071, "steady"),
        "Q": (12, 4, 2.0, 6.0, 1, -0.7071, "steady"),
    }
    b = rows["B"]
    assert (b["as_of"], b["category"], b["brand"], b["recent_revenue"], b["baseline_revenue"]) == (
        AS_OF,
        "A",
        "Y",
        Dec("100.00"),
        Dec("40.00"),
    )
    assert (rows["C"]["brand"], rows["S"]["category"]) == ("unknown", "unknown")


def test_each_day_reads_its_own_windows(silver) -> None:
    """The collapse starts on 03-06: on 03-05 the SKU still sold 5 in its recent window, against 7.5 expected."""
    days = sku_trend_days(_lines(silver), _products(silver), start=AS_OF - timedelta(days=1), until=AS_OF, rules=RULES)
    c = {
        r["date"]: (r["recent_units"], r["baseline_units"], r["ratio"], r["trend"])
        for r in days.collect()
        if r["sku"] == "C"
    }
    assert c == {D("2025-03-05"): (5, 15, 0.6667, "steady"), AS_OF: (0, 20, 0.0, "collapse")}
    # the day's rows equal the snapshot of that day
    snap = sku_trends(_lines(silver), _products(silver), as_of=AS_OF, rules=RULES)
    assert sorted(days.where(days.date == AS_OF).drop("date").collect()) == sorted(snap.drop("as_of").collect())


def test_the_generators_planted_breakouts_and_collapses_are_found_with_the_conf_rules(spark, cfg) -> None:
    """A 120-day world plants trend_skus breakouts (10 x units) and collapses (0.05 x) over its last 28 days; on
    the last day each is flagged with its kind by the rules of conf/base.yaml. (Other SKUs may trend too: buyers
    churn, taste groups drift; those are real trends of the data, not errors.) A world too short has none."""
    from jobs.generate.params import GenerateParams
    from jobs.generate.world import build_world
    from tests.support.world_lines import world_lines

    assert build_world(GenerateParams(customers=50, days=111, stores=2, skus=20)).cat.trends == []
    w = build_world(GenerateParams(customers=2000, days=120, stores=4, skus=60, seed=3))
    planted = {str(w.cat.sku[t.sku]): t.kind for t in w.cat.trends}
    assert sorted(planted.values()) == ["breakout", "breakout", "collapse", "collapse"]
    frame = world_lines(spark, w)
    products = spark.createDataFrame([], "sku string, category string, brand string")
    last = w.cal.start + timedelta(days=w.params.days - 1)
    found = sku_trends(frame, products, as_of=last, rules=cfg.gold.sku_trends).where("trend != 'steady'")
    flagged = {r["sku"]: r["trend"] for r in found.collect()}
    assert {s: flagged.get(s) for s in planted} == planted, found.orderBy("z").collect()


def test_trend_alerts_are_judged_only_on_dates_with_a_whole_baseline_and_raised_on_onset(silver) -> None:
    from jobs.common.config.gold import SkuTrendAlert
    from jobs.gold.alerts import sku_trend

    first, until = D("2025-02-20"), D("2025-03-07")
    # the first date with the whole baseline (5 days read before it): from the first sale or the first date read
    assert trend_days_from(first, None, until=until, rules=RULES) == D("2025-02-25")
    assert trend_days_from(first, D("2025-03-01"), until=until, rules=RULES) == D("2025-03-06")
    assert trend_days_from(first, D("2025-03-05"), until=until, rules=RULES) == D("2025-03-08")  # none: after until
    assert trend_days_from(None, None, until=until, rules=RULES) == D("2025-03-08")  # no sales
    days = sku_trend_days(_lines(silver), _products(silver), start=D("2025-03-05"), until=until, rules=RULES)
    rule = SkuTrendAlert(high_breakout_ratio=6.0, high_collapse_ratio=0.15, suppress_days=7, weight=1.0)
    raised = sku_trend(days, rule=rule, trends=RULES)
    found = sorted((r["business_date"], r["rule"], r["entity_id"], r["severity"]) for p in raised for r in p.collect())
    # B breaks out on 03-06 (x5); C collapses from 03-06 on (0 units), raised once
    assert found == [(AS_OF, "sku_breakout", "B", "medium"), (AS_OF, "sku_collapse", "C", "high")]
