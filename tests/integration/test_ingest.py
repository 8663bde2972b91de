"""landing -> bronze -> silver on a tiny generated dataset, checked against the generator's manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from jobs.cli import main
from jobs.common.config import Config, load_config
from jobs.generate.returns import REASON_WEIGHTS, REASONS
from jobs.io.schemas import ddl
from jobs.io.tables import Catalog
from jobs.silver.identity import resolve_full
from jobs.sources.contracts import load_contracts

pytestmark = pytest.mark.integration
# how a source's business key appears in its silver table
KEYS = {
    "web_orders": ("silver.order_lines", {"channel": "web"}, {"order_id": "order_id", "line_no": "line_no"}),
    "app_orders": ("silver.order_lines", {"channel": "app"}, {"order_id": "order_id", "line_no": "line_no"}),
    "marketplace_orders": (
        "silver.order_lines",
        {"channel": "marketplace"},
        {"order_id": "order_id", "line_no": "line_no"},
    ),
    "pos_transactions": ("silver.order_lines", {"channel": "pos"}, {"txn_id": "order_id", "line_no": "line_no"}),
    "web_events": ("silver.events", {"channel": "web"}, {"event_id": "event_id"}),
    "app_events": ("silver.events", {"channel": "app"}, {"event_id": "event_id"}),
    "crm_members": ("silver.members", {}, {"member_id": "member_id"}),
    "products": ("silver.products", {}, {"sku": "sku"}),
    "returns": ("silver.returns", {}, {"return_id": "return_id"}),
    "marketing_spend": (
        "silver.marketing_spend",
        {},
        {"date": "spend_date", "channel": "channel", "campaign_id": "campaign_id"},
    ),
    "inventory": ("silver.inventory", {}, {"snapshot_date": "snapshot_date", "store_id": "store_id", "sku": "sku"}),
    "stores": ("silver.stores", {}, {"store_id": "store_id"}),
}
DUPLICATE_KINDS = ("exact_duplicate", "near_duplicate", "record_update", "file_dropped_twice")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, spark) -> dict:
    """Generate once, ingest in two steps (history, then the rest incl. late files), keep the versions."""
    home = tmp_path_factory.mktemp("ingest_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("OMNILAKE_ENV", "test")
    mp.setenv("OMNILAKE_HOME", str(home))
    cfg: Config = load_config(environ={"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home)})
    assert main(["generate", "--customers", "250", "--days", "45", "--seed", "11"]) == 0
    manifest = json.loads((Path(cfg.paths.landing) / "_manifest.json").read_text())
    first_part = _date_plus(manifest["start_date"], 30)
    assert main(["ingest", "--date", first_part]) == 0
    assert main(["ingest"]) == 0
    catalog = Catalog.from_config(spark, cfg)
    versions = {t: catalog.version(t) for t in catalog.list_tables()}
    yield {"cfg": cfg, "catalog": catalog, "manifest": manifest, "versions": versions, "first_part": first_part}
    mp.undo()


def _date_plus(day: str, n: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


def _rows_with_key(catalog: Catalog, source: str, match: dict) -> DataFrame:
    table, fixed, key_map = KEYS[source]
    df = catalog.read(table)
    for column, value in fixed.items():
        df = df.where(F.col(column) == value)
    for src_col, col in key_map.items():
        df = df.where(F.col(col).cast("string") == str(match[src_col]))
    return df


def test_every_planted_bad_row_is_quarantined_with_its_reason(world: dict) -> None:
    quarantine = world["catalog"].read("silver.quarantine")
    parsed = quarantine.withColumn("rec", F.from_json("record", T.MapType(T.StringType(), T.StringType())))
    planted = [d for d in world["manifest"]["dirt"] if d["expected_reason"]]
    assert planted, "the generator planted no bad rows"
    for dirt in planted:
        hits = parsed.where((F.col("source") == dirt["source"]) & (F.col("source_file") == dirt["file"]))
        for column, value in dirt["match"].items():
            hits = hits.where(F.col("rec")[column] == (None if value is None else str(value)))
        reasons = [r.reason_code for r in hits.select("reason_code").collect()]
        assert reasons == [dirt["expected_reason"]], dirt
    # no clean row is quarantined: the quarantine holds exactly the planted bad rows
    assert quarantine.count() == len(planted)


def test_duplicates_and_updates_resolve_to_one_row(world: dict) -> None:
    contracts = load_contracts(world["cfg"].ingest.contracts_dir)
    checked = 0
    for dirt in world["manifest"]["dirt"]:
        if dirt["kind"] not in DUPLICATE_KINDS or dirt["source"] not in KEYS:
            continue
        if not set(KEYS[dirt["source"]][2]) <= set(dirt["match"]):
            continue
        rows = _rows_with_key(world["catalog"], dirt["source"], dirt["match"]).collect()
        assert len(rows) == 1, dirt
        version = contracts[dirt["source"]].version
        if dirt["kind"] == "record_update" and version == "version":
            assert rows[0]["_version"] == int(dirt["match"]["version"]), dirt
        checked += 1
    assert checked >= 3


def test_late_and_twice_dropped_files(world: dict) -> None:
    catalog = world["catalog"]
    registry = catalog.read("ops.file_registry")
    twice = [d for d in world["manifest"]["dirt"] if d["kind"] == "file_dropped_twice"]
    assert twice
    for dirt in twice:
        name = dirt["file"].rsplit("/", 1)[1]
        statuses = sorted(r.status for r in registry.where(F.col("file").endswith("/" + name)).collect())
        assert statuses == ["duplicate_content", "loaded"], dirt
    late = [d for d in world["manifest"]["dirt"] if d["kind"] == "late_file"]
    assert late
    for dirt in late:
        assert registry.where(F.col("file") == dirt["file"]).first().status == "loaded"
        if dirt["source"] in KEYS and set(KEYS[dirt["source"]][2]) <= set(dirt["match"]):
            assert len(_rows_with_key(catalog, dirt["source"], dirt["match"]).collect()) == 1, dirt


def test_identity_resolution_matches_the_truth(world: dict) -> None:
    catalog, truth = world["catalog"], world["manifest"]["truth"]
    id_map = {(r.id_type, r.id_value): r.customer_id for r in catalog.read("silver.identity_map").collect()}
    kinds = {
        "crm_member_id": "member",
        "web_account_ids": "web",
        "app_user_ids": "app",
        "marketplace_buyer_ids": "marketplace",
    }
    seen: dict[str, str] = {}
    for person in truth["person_keys"]:
        ids = set()
        for field, id_type in kinds.items():
            values = person.get(field) or []
            for value in [values] if isinstance(values, str) else values:
                if (id_type, value) in id_map:
                    ids.add(id_map[(id_type, value)])
        if not ids:
            continue
        assert len(ids) == 1, f"person {person['person_id']} split into {ids}"
        customer = ids.pop()
        assert customer not in seen, f"{person['person_id']} and {seen.get(customer)} merged into {customer}"
        seen[customer] = person["person_id"]
    customers = catalog.read("silver.customers").where(F.col("source") == "landing").count()
    assert customers == truth["persons"] == len(seen)


def test_identity_map_is_what_a_full_recompute_gives(world: dict, spark) -> None:
    """Each ingest resolved only the customers its new edges touched; resolving every edge again moves no node and
    adds none (every node of silver.identity_edges has its row)."""
    catalog = world["catalog"]
    edges = catalog.read("silver.identity_edges")
    changed, _ = resolve_full(
        edges.limit(0),
        edges=edges,
        id_map=catalog.read("silver.identity_map"),
        max_rounds=world["cfg"].ingest.identity_max_rounds,
    )
    assertDataFrameEqual(changed, spark.createDataFrame([], ddl("silver.identity_map")))


def test_a_new_column_is_recorded_once_with_the_batch_it_came_in(world: dict) -> None:
    """web_orders' gift_wrap arrives in the first ingest's batch and stays: one ops.schema_changes row, one commit
    (the second ingest reads the table and finds the column recorded)."""
    rows = world["catalog"].read("ops.schema_changes").collect()
    assert [tuple(r) for r in rows] == [("web_orders", "gift_wrap", "web_orders-000001", "ignored")]
    assert world["versions"]["ops.schema_changes"] == 0


def test_lineage_adds_up_for_every_batch(world: dict) -> None:
    audit = world["catalog"].read("ops.batch_audit")
    bad = audit.where(
        F.col("loaded") + F.col("superseded") + F.col("duplicate") + F.col("quarantined") != F.col("bronze_rows")
    )
    assert bad.count() == 0
    loaded = {
        r.source: r for r in audit.groupBy("source").sum().withColumnRenamed("sum(bronze_rows)", "rows").collect()
    }
    for source in KEYS:
        assert source in loaded, f"no audited batch for {source}"
    bronze = world["catalog"].read("bronze.web_orders").count()
    assert audit.where(F.col("source") == "web_orders").agg(F.sum("bronze_rows")).first()[0] == bronze
    # each batch is dated by its latest delivery folder: the first ingest's batches by the cut-off date, the
    # second's by the last delivery (the landing's end or a late file's folder), never by the wall clock
    dated = {(r.source, str(r.delivery_date)) for r in audit.where(F.col("source") == "web_orders").collect()}
    assert dated == {("web_orders", world["first_part"]), ("web_orders", world["manifest"]["end_date"])}, dated


def _pii_values(truth_pii: dict) -> set[str]:
    values: set[str] = set()
    for kind, items in truth_pii.items():
        for raw in items:
            values |= {raw, raw.strip(), raw.strip().lower()}
            if kind == "phones":
                digits = re.sub(r"\D", "", raw)
                values |= {digits, digits[-10:], "+" + digits}
    return {v for v in values if len(v) >= 5}


def test_no_raw_pii_outside_the_restricted_zone(world: dict, spark) -> None:
    catalog, cfg = world["catalog"], world["cfg"]
    pii = spark.createDataFrame([(v,) for v in _pii_values(world["manifest"]["truth"]["pii"])], "value string")
    assert pii.count() > 100
    exports = Path(cfg.paths.exports)
    scanned = 0
    for name in catalog.list_tables():
        if name.split(".")[0] in cfg.zones.restricted:
            continue
        df = catalog.read(name)
        out = exports / f"{name}.csv"
        assert main(["export", name, "--out", str(out)]) == 0
        exported = spark.read.csv(str(out), header=True)
        for frame in (df, exported):
            values = _string_values(frame)
            leaks = values.join(pii, on="value", how="inner").limit(5).collect()
            assert not leaks, f"raw PII in {name}: {leaks}"
        scanned += 1
    assert scanned >= 10


def _string_values(df: DataFrame) -> DataFrame:
    cols = [f.name for f in df.schema.fields if isinstance(f.dataType, T.StringType)]
    parts = [df.select(F.col(c).alias("value")) for c in cols]
    if "record" in cols:
        rec = F.from_json("record", T.MapType(T.StringType(), T.StringType()))
        parts.append(df.select(F.explode(F.map_values(rec)).alias("value")))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.where(F.col("value").isNotNull()).distinct()


def test_second_ingest_writes_nothing(world: dict) -> None:
    assert main(["ingest"]) == 0
    catalog = world["catalog"]
    assert {t: catalog.version(t) for t in catalog.list_tables()} == world["versions"]


def test_tables_command_lists_populated_silver(world: dict, capsys) -> None:
    assert main(["tables"]) == 0
    out = capsys.readouterr().out
    for table in (
        "silver.order_lines",
        "silver.orders",
        "silver.customers",
        "silver.events",
        "silver.products",
        "silver.inventory",
        "silver.marketing_spend",
        "silver.returns",
        "silver.quarantine",
    ):
        line = next(ln for ln in out.splitlines() if ln.startswith(table + " "))
        assert int(line.split()[1].replace(",", "")) > 0, line


# -- gold on the same generated lake, against the generator's planted truth -------------------------------------
@pytest.fixture(scope="module")
def gold(world: dict) -> Catalog:
    """`omnilake build gold` as of the last complete business date in silver (after the silver tests above)."""
    assert main(["build", "gold"]) == 0
    return world["catalog"]


def test_planted_promotion_peaks_show_in_daily_sales(world: dict, gold: Catalog) -> None:
    """Promoted SKUs sell several times their usual units on the promotion's days (planted uplift: ~10x)."""
    promos = world["manifest"]["truth"]["promotions"]
    assert promos
    sales = gold.read("gold.daily_sales")
    for promo in promos:
        start, end = F.lit(promo["start"]).cast("date"), F.lit(promo["end"]).cast("date")
        units = sales.where(F.col("sku").isin(promo["skus"])).groupBy("business_date").agg(F.sum("units").alias("u"))
        during = units.where(F.col("business_date").between(start, end)).agg(F.avg("u")).first()[0]
        away = F.date_sub(start, 3), F.date_add(end, 3)  # promotions pull demand from the days around them
        usual = units.where(~F.col("business_date").between(*away)).agg(F.avg("u")).first()[0]
        assert during is not None and usual, promo
        assert during / usual >= 4, f"promotion {promo['start']}: {during:.1f} units/day vs {usual:.1f} usually"


def test_planted_slow_movers_land_in_the_slow_quadrant(world: dict, gold: Catalog) -> None:
    slow = world["manifest"]["truth"]["slow_movers"]
    matrix = gold.read("gold.sku_matrix")
    last = matrix.agg(F.max("as_of")).first()[0]
    placed = {r.sku: r.quadrant for r in matrix.where((F.col("as_of") == last) & F.col("sku").isin(slow)).collect()}
    assert set(placed) == set(slow)
    assert not {q for q in placed.values() if q in ("star", "traffic_driver")}, placed  # never high sales
    # most sell nothing at all (slow_mover); one that sold a unit or two at a high margin rate is, by the matrix's
    # definition, a profit driver (demo lake: 18 of 20 slow_mover)
    assert sum(q == "slow_mover" for q in placed.values()) >= 2 / 3 * len(slow), placed


def test_planted_fraud_ranks_at_the_top_of_anomalies(world: dict, gold: Catalog) -> None:
    """Most orders of every planted pattern are flagged, scored on the source accounts, devices and phones (not the
    resolved customer); the largest planted amount ranks first on its day. (At this size a channel may have two
    orders on a day, and a day's median/MAD over two orders cannot single out a large one: 2 of 3 here, 3 of 3 on
    the demo lake.)"""
    anomalies = gold.read("gold.anomalies")
    for fraud in world["manifest"]["truth"]["fraud"]:
        found = anomalies.where(F.col("order_id").isin(fraud["order_ids"])).select("rank", "flagged", "amount")
        rows = found.collect()
        flagged = sum(r.flagged for r in rows)
        assert flagged >= 2 / 3 * len(fraud["order_ids"]), (fraud["kind"], flagged, len(fraud["order_ids"]))
        if fraud["kind"] == "large_amount":
            assert max(rows, key=lambda r: r.amount).rank == 1, rows


def test_returns_analysis_adds_up_and_fits_the_planted_reason_mix(world: dict, gold: Catalog) -> None:
    """The weekly cells add up to silver.returns and to daily_sales' returned units, and the SKU snapshot to the
    returns of its window; the generator draws every return's reason from one mix (REASON_WEIGHTS), whatever the
    category, channel or brand: at this size (a few dozen returns) the lake's reason counts are only checked to be
    consistent with it (chi-square)."""
    from scipy.stats import chisquare

    analysis = gold.read("gold.returns_analysis")
    counts = {r.reason: r.n for r in analysis.groupBy("reason").agg(F.sum("returns").alias("n")).collect()}
    until = gold.read("gold.daily_sales").agg(F.max("business_date")).first()[0]
    returned = world["catalog"].read("silver.returns").where(F.col("return_date") <= F.lit(until))
    total = sum(counts.values())
    assert set(counts) <= set(REASONS) and total == returned.count() > 0, counts
    units = analysis.agg(F.sum("returned_units")).first()[0]
    assert units == gold.read("gold.daily_sales").agg(F.sum("returned_units")).first()[0]
    fit = chisquare([counts.get(r, 0) for r in REASONS], [w * total for w in REASON_WEIGHTS])
    assert fit.pvalue > 0.001, (counts, fit)

    skus = gold.read("gold.returns_by_sku").where(F.col("as_of") == F.lit(until))
    window = F.col("return_date") > F.date_sub(F.lit(until), world["cfg"].gold.returns.window_days)
    assert skus.agg(F.sum("returned_units")).first()[0] == returned.where(window).agg(F.sum("quantity")).first()[0]
