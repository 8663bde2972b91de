"""Issue 11, hostile input for `omnilake import`: one CSV per import kind, drawn by hypothesis, mixing good rows with
wrong types, far dates, duplicate keys, a huge field and a truncated last line. The import exits 0 with every line
in bronze, the bad ones quarantined with a reason and the good ones not, and the batch audit balanced; or it exits 3
with one line naming the file and no table changed. One import per kind (3 runs)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.io.tables import Catalog

pytestmark = pytest.mark.integration

# kind: (header, --map, a good row, {column: (wrong values)}, date column, extra argv)
KINDS = {
    "orders": (
        ["cust", "when", "total", "qty"],
        "customer_id=cust,order_ts=when,amount=total,quantity=qty",
        ["u-{i}", "2025-02-01 10:00:00", "12.50", "2"],
        {"when": ("yesterday", "2025-13-45"), "total": ("abc", "-4"), "qty": ("1.5.3", "0")},
        "when",
        ["--channel", "hostile"],
    ),
    "interactions": (
        ["user", "item", "at", "w"],
        "customer_id=user,item_id=item,ts=at,weight=w",
        ["u-{i}", "SKU-{i}", "2025-02-01T08:00:00Z", "1.0"],
        {"at": ("soon", "31/31/2025"), "w": ("heavy", "-1")},
        "at",
        [],
    ),
    "sales": (
        ["s", "p", "d", "u", "pr"],
        "store_id=s,sku=p,date=d,units=u,price=pr",
        ["S001", "SKU-{i}", "2025-02-01", "3", "9.99"],
        {"d": ("someday", "2025-02-30"), "u": ("many", "-2"), "pr": ("free", "-1")},
        "d",
        [],
    ),
}
FAR = ("9999-12-31", "1900-01-01")


@st.composite
def hostile_file(draw, kind: str) -> tuple[str, set[int], set[int], int]:
    """(CSV text, positions that must be quarantined, positions that may be, records it holds)."""
    header, _, good, wrong, date_col, _ = KINDS[kind]
    n = draw(st.integers(6, 10))
    rows = [[v.format(i=i) for v in good] for i in range(n)]
    bad: set[int] = set()
    maybe: set[int] = set()
    mutated = draw(st.lists(st.integers(0, n - 2), min_size=3, max_size=5, unique=True))
    for j in mutated:
        how = draw(st.sampled_from(["wrong_type", "far_date", "duplicate", "huge"]))
        if how == "wrong_type":
            col = draw(st.sampled_from(sorted(wrong)))
            rows[j][header.index(col)] = draw(st.sampled_from(wrong[col]))
            bad.add(j)
        elif how == "far_date":
            rows[j][header.index(date_col)] = draw(st.sampled_from(FAR))
            bad.add(j)
        elif how == "duplicate":  # the same key as the row before: superseded or duplicate, never lost
            rows[j] = list(rows[j - 1]) if j else rows[j]
            maybe.add(j)
        else:  # a 1 MB value in the first (key) column: loaded or quarantined
            rows[j][0] = "k" * 2**20
            maybe.add(j)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    text = out.getvalue()
    last = text.rstrip("\n").rsplit("\n", 1)
    text = last[0] + "\n" + last[1][: last[1].index(",") + 1]  # the last line cut after its first comma
    bad.add(n - 1)
    return text, bad, maybe - bad, n


def _versions(catalog: Catalog) -> dict[str, int]:
    return {name: catalog.version(name) for name in catalog.list_tables()}


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_hostile_import_file(kind: str, data, tmp_path: Path, catalog: Catalog, capsys) -> None:
    text, bad, maybe, n = data.draw(hostile_file(kind))
    path = tmp_path / f"hostile_{kind}.csv"
    path.write_text(text)
    _, mapping, _, _, _, extra = KINDS[kind]
    before = _versions(catalog)
    capsys.readouterr()
    code = main(["import", kind, str(path), "--map", mapping, *extra])
    err = capsys.readouterr().err
    if code == 3:
        assert len(err.strip().splitlines()) == 1 and str(path) in err, err
        assert _versions(catalog) == before
        return
    assert code == 0, err
    bronze = catalog.read(f"bronze.imported_{kind}").where(F.col("_source_file") == str(path))
    ids = sorted(r["_row_id"] for r in bronze.select("_row_id").collect())
    assert len(ids) == n, f"{len(ids)} bronze rows, the file holds {n} records"
    quarantine = catalog.read("silver.quarantine").where(F.col("source_file") == str(path)).collect()
    assert all(q["reason_code"] for q in quarantine)
    got = {ids.index(q["row_id"]) for q in quarantine}
    assert bad <= got, f"rows {sorted(bad - got)} not quarantined"
    assert got <= bad | maybe, f"good rows {sorted(got - bad - maybe)} quarantined"
    audit = catalog.read("ops.batch_audit")
    total = F.col("loaded") + F.col("superseded") + F.col("duplicate") + F.col("quarantined")
    assert audit.where(total != F.col("bronze_rows")).collect() == []
    print(f"import {kind}: 1 file, {n} records, {len(bad)} must be quarantined, {len(maybe)} may be")
