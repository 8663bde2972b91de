"""Bring-your-own data through `omnilake import`, on real Delta tables under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.io.tables import Catalog

pytestmark = pytest.mark.integration

ORDERS = """cust,when,total,qty,oid,item,shop,mobile
u-001,2025-02-01 10:00:00,30.00,2,o-1,SKU-A,st-9,(212) 555-0100
u-001,2025-02-01 10:00:00,5.50,1,o-1,SKU-B,st-9,(212) 555-0100
u-002,2025-02-03T08:30:00Z,12.00,1,o-2,SKU-A,st-9,
u-003,2025-02-04,7.25,1,o-3,SKU-NEW,st-1,+1 212 555 0100
"""
ORDERS_MAP = "customer_id=cust,order_ts=when,amount=total,quantity=qty,order_id=oid,sku=item,store_id=shop,phone=mobile"


def _versions(catalog: Catalog) -> dict[str, int]:
    return {name: catalog.version(name) for name in catalog.list_tables()}


def test_good_orders_keep_their_ids_and_extend_the_catalog(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    assert main(["import", "orders", str(path), "--channel", "shopify", "--map", ORDERS_MAP]) == 0
    lines = catalog.read("silver.order_lines").where(F.col("channel") == "shopify")
    got = sorted(
        (r.order_id, r.line_no, r.customer_id, r.account_id, r.sku, str(r.net_amount)) for r in lines.collect()
    )
    # u-001 and u-003 share a phone: the file maps `phone`, so they are one person under the smaller id
    assert got == [
        ("o-1", 1, "u-001", "u-001", "SKU-A", "30.00"),
        ("o-1", 2, "u-001", "u-001", "SKU-B", "5.50"),
        ("o-2", 1, "u-002", "u-002", "SKU-A", "12.00"),
        ("o-3", 1, "u-001", "u-003", "SKU-NEW", "7.25"),
    ]
    products = {r.sku: r.is_known for r in catalog.read("silver.products").collect()}
    assert products == {"SKU-A": False, "SKU-B": False, "SKU-NEW": False}
    orders = catalog.read("silver.orders").where(F.col("order_id") == "o-1").first()
    assert (orders.lines, orders.units, str(orders.net_amount)) == (2, 3, "35.50")
    before = _versions(catalog)
    assert main(["import", "orders", str(path), "--channel", "shopify", "--map", ORDERS_MAP]) == 0
    assert _versions(catalog) == before  # same content again: nothing written


def test_bad_rows_are_quarantined_good_rows_load(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "cust,when,total\nu-1,2025-01-01,10\n,2025-01-01,5\nu-2,yesterday,5\nu-3,2025-01-02,-4\nu-4,2025-01-02,abc\n"
    )
    assert (
        main(
            ["import", "orders", str(path), "--channel", "pos2", "--map", "customer_id=cust,order_ts=when,amount=total"]
        )
        == 0
    )
    reasons = sorted((r.reason_code, r.column) for r in catalog.read("silver.quarantine").collect())
    assert reasons == [
        ("BAD_TYPE", "amount"),
        ("BAD_TYPE", "order_ts"),
        ("MISSING_KEY", "customer_id"),
        ("OUT_OF_RANGE", "amount"),
    ]
    assert [r.customer_id for r in catalog.read("silver.order_lines").collect()] == ["u-1"]
    audit = catalog.read("ops.batch_audit").first()
    assert (audit.bronze_rows, audit.loaded, audit.quarantined) == (5, 1, 4)


@pytest.mark.parametrize(
    ("content", "mapping", "message"),
    [
        (
            "cust,when\nu-1,2025-01-01\n",
            "customer_id=cust,order_ts=when,amount=total",
            "column 'total' (mapped to amount) not found",
        ),
        ("", "customer_id=cust,order_ts=when,amount=total", "empty file"),
        ("cust,when,total\n", "customer_id=cust,order_ts=when", "missing required key(s) amount"),
        # issue 11, defect 6: a bad header is refused naming the column, not a traceback
        ("cust,when,total,cust\nu-1,2025-01-01,1,x\n", "customer_id=cust,order_ts=when,amount=total",
         "header column 4 'cust' is repeated"),
        ("cust,when, total\nu-1,2025-01-01,1\n", "customer_id=cust,order_ts=when,amount=total",
         "header column 3 ' total' has white space around its name"),
        ("cust,,total\nu-1,2025-01-01,1\n", "customer_id=cust,amount=total,order_ts=total",
         "header column 2 has no name"),
    ],
)  # fmt: skip
def test_broken_files_are_refused_with_one_line(
    tmp_path: Path, catalog: Catalog, capsys, content: str, mapping: str, message: str
) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(content)
    assert main(["import", "orders", str(path), "--channel", "x", "--map", mapping]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert catalog.list_tables() == []


def test_a_broken_line_is_quarantined_with_its_line_number_and_never_swallows_the_next(
    tmp_path: Path, catalog: Catalog
) -> None:
    """Issue 11, defect 6: an unbalanced quote on line 3 used to swallow line 4 into one field (2 rows counted)."""
    path = tmp_path / "orders.csv"
    path.write_text('cust,when,total\nu-1,2025-01-01,10\nu-2,"2025-01-02,11\nu-3,2025-01-03,12\n')
    argv = ["import", "orders", str(path), "--channel", "pos2", "--map", "customer_id=cust,order_ts=when,amount=total"]
    assert main(argv) == 0
    assert sorted(r.customer_id for r in catalog.read("silver.order_lines").collect()) == ["u-1", "u-3"]
    bad = [(r.reason_code, r.line_no, r.detail) for r in catalog.read("silver.quarantine").collect()]
    assert bad == [("MALFORMED", 3, "unbalanced quote: a quoted field must end on its line")]
    audit = catalog.read("ops.batch_audit").first()
    assert (audit.bronze_rows, audit.loaded, audit.quarantined) == (3, 2, 1)


def test_a_latin1_file_is_refused_unless_its_encoding_is_given(tmp_path: Path, catalog: Catalog, capsys) -> None:
    """Issue 11, defect 6: Latin-1 bytes used to become U+FFFD silently."""
    path = tmp_path / "sales.csv"
    path.write_bytes("s,p,d,u\nS1,CAFÉ-1,2025-01-01,4\nS1,GRÜN-2,2025-01-01,1\n".encode("latin-1"))
    argv = ["import", "sales", str(path), "--map", "store_id=s,sku=p,date=d,units=u"]
    assert main(argv) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{path}: line 2 (byte offset 14) is not valid utf-8" in err and "--encoding" in err
    assert catalog.list_tables() == []
    assert main([*argv, "--encoding", "latin-1"]) == 0
    got = sorted(r.sku for r in catalog.read("silver.daily_sales_imported").collect())
    assert got == ["CAFÉ-1", "GRÜN-2"]


def test_interactions_and_sales(tmp_path: Path, catalog: Catalog) -> None:
    inter = tmp_path / "clicks.csv"
    inter.write_text("user,item,at,w\nA,i1,2025-01-01 10:00:00,3\nA,i2,2025-01-02 10:00:00,\n")
    assert main(["import", "interactions", str(inter), "--map", "customer_id=user,item_id=item,ts=at,weight=w"]) == 0
    got = sorted((r.customer_id, r.item_id, r.weight) for r in catalog.read("silver.interactions_imported").collect())
    assert got == [("A", "i1", 3.0), ("A", "i2", 1.0)]
    sales = tmp_path / "sales.csv"
    sales.write_text("s,p,d,u,pr\nS1,P1,2025-01-01,4,2.50\nS1,P1,2025-01-02,0,2.50\nS2,P9,01/03/2025,1,9\n")
    assert main(["import", "sales", str(sales), "--map", "store_id=s,sku=p,date=d,units=u,price=pr"]) == 0
    rows = sorted(
        (r.store_id, r.sku, str(r.sales_date), r.units) for r in catalog.read("silver.daily_sales_imported").collect()
    )
    assert rows == [("S1", "P1", "2025-01-01", 4.0), ("S1", "P1", "2025-01-02", 0.0), ("S2", "P9", "2025-01-03", 1.0)]
    assert {r.store_id: r.is_known for r in catalog.read("silver.stores").collect()} == {"S1": False, "S2": False}


@pytest.mark.parametrize("kill_after", [1, 2, "silver.identity_map"])
def test_a_killed_import_then_the_same_import_again_loads_the_file_once(
    kill_after: int | str, tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: killed after the bronze append (1), after the registry (2: the file is registered, silver is not
    written) or mid-silver, the same import again loads the file's rows exactly once."""
    from tests.integration.test_kill_and_rerun import Killed, _kill_at

    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    argv = ["import", "orders", str(path), "--channel", "shopify", "--map", ORDERS_MAP]
    with monkeypatch.context() as m:
        _kill_at(kill_after, m)
        with pytest.raises(Killed):
            main(argv)
    assert main(argv) == 0
    lines = catalog.read("silver.order_lines")
    assert sorted((r.order_id, r.line_no, r.customer_id) for r in lines.collect()) == [
        ("o-1", 1, "u-001"),
        ("o-1", 2, "u-001"),
        ("o-2", 1, "u-002"),
        ("o-3", 1, "u-001"),
    ]
    assert catalog.read("bronze.imported_orders").count() == 4
    assert [(r.status, r.batch_no) for r in catalog.read("ops.file_registry").collect()] == [("loaded", 1)]
    audit = catalog.read("ops.batch_audit").collect()
    assert [(a.bronze_rows, a.loaded) for a in audit] == [(4, 4)]
