"""`omnilake export --allow-restricted`: gold.marketing_audiences with the consented contacts of the vault, every
restricted export audited in ops.restricted_exports, and the export of old unchanged (delta-rs, no JVM)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake

from jobs.cli import main
from jobs.io.lake import exists, lake_path, read_arrow
from jobs.io.schemas import arrow_schema
from jobs.orchestration import restricted_exports

AS_OF = date(2025, 3, 10)
AUDIENCE_COLUMNS = [f.name for f in arrow_schema("gold.marketing_audiences")]


def _write(cfg, name: str, rows: list[dict]) -> None:
    path = lake_path(cfg, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), pa.Table.from_pylist(rows, schema=arrow_schema(name)))


@pytest.fixture
def lake(cfg, monkeypatch: pytest.MonkeyPatch):
    """Five customers in the audiences of 03-10 (C1 twice, C5 on 03-09 only), their consents and vault entries."""
    monkeypatch.setenv("LOGNAME", "crm-bot")  # getpass reads LOGNAME first
    audience = [
        ("C1", "cart_abandonment", "P1"),
        ("C1", "dormant_winback", "gold"),
        ("C2", "dormant_winback", "none"),
        ("C3", "browse_without_buy", "A"),
        ("C4", "cart_abandonment", "P2"),
    ]
    rows = [
        dict(as_of=AS_OF, customer_id=c, audience=a, detail=d, score=1.0, reason="r", action="act", contact_hour=9)
        for c, a, d in audience
    ]
    rows.append(dict(as_of=date(2025, 3, 9), customer_id="C5", audience="cart_abandonment", detail="P1"))
    _write(cfg, "gold.marketing_audiences", rows)
    people = [  # customer, phone token, email token, consent_email, consent_sms
        ("C1", "tp1", "te1", True, False),  # email only
        ("C2", "tp2", "te2", False, True),  # phone only
        ("C3", "tp3", "te3", False, False),  # no consent: not exported
        ("C4", "tp4", None, True, None),  # consents to email but has none: not exported
        ("C5", "tp5", "te5", True, True),
    ]
    _write(
        cfg,
        "silver.customers",
        [
            dict(customer_id=c, phone_token=p, email_token=e, consent_email=ce, consent_sms=cs)
            for c, p, e, ce, cs in people
        ],
    )
    vault = [("tp1", "phone", "+15550001"), ("te1", "email", "c1@example.com"), ("tp2", "phone", "+15550002")]
    vault += [("te2", "email", "c2@example.com"), ("tp3", "phone", "+15550003"), ("te3", "email", "c3@example.com")]
    vault += [("tp5", "phone", "+15550005"), ("te5", "email", "c5@example.com")]
    _write(cfg, "restricted.pii", [dict(token=t, pii_type=k, value=v) for t, k, v in vault])
    return cfg


def _csv(path: Path) -> pa.Table:
    """A CSV export read back with the contacts as text (empty: null), as a CRM would load it."""
    text = {c: pa.string() for c in ("customer_id", "email", "phone")}
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=text, strings_can_be_null=True))


def _audits(cfg) -> list[dict]:
    table = read_arrow(cfg, restricted_exports.AUDIT)
    return [] if table is None else sorted(table.to_pylist(), key=lambda a: a["exported_at"])  # oldest first


def test_the_restricted_export_joins_consented_contacts_and_is_audited(lake, tmp_path: Path) -> None:
    out = tmp_path / "crm" / "audiences.csv"
    argv = ["export", "gold.marketing_audiences", "--out", str(out), "--as-of", str(AS_OF), "--allow-restricted"]
    started = datetime.now().astimezone()
    assert main([*argv, "--reason", "spring win-back (ticket CRM-12)"]) == 0
    written = _csv(out)
    assert written.column_names == [*AUDIENCE_COLUMNS, "email", "phone"]
    got = sorted(
        (r["customer_id"], r["audience"], r["email"], r["phone"])
        for r in written.select(["customer_id", "audience", "email", "phone"]).to_pylist()
    )
    assert got == [
        ("C1", "cart_abandonment", "c1@example.com", None),  # no SMS consent: no phone
        ("C1", "dormant_winback", "c1@example.com", None),
        ("C2", "dormant_winback", None, "+15550002"),
    ]
    [audit] = _audits(lake)
    assert started <= audit.pop("exported_at") <= datetime.now().astimezone()
    assert audit == {
        "table": "gold.marketing_audiences",
        "as_of": AS_OF,
        "rows": 3,
        "out": str(out.resolve()),
        "exported_by": "crm-bot",
        "reason": "spring win-back (ticket CRM-12)",
    }
    # Parquet and every as-of too; each export its own audit row
    whole = tmp_path / "audiences.parquet"
    assert main(["export", "gold.marketing_audiences", "--out", str(whole), "--allow-restricted", "--reason", "x"]) == 0
    assert sorted(pq.read_table(whole).column("customer_id").to_pylist()) == ["C1", "C1", "C2", "C5"]
    assert [(a["as_of"], a["rows"]) for a in _audits(lake)] == [(AS_OF, 3), (None, 4)]


def test_without_allow_restricted_the_audiences_stay_tokens_only_and_nothing_is_audited(lake, tmp_path: Path) -> None:
    out = tmp_path / "audiences.csv"
    assert main(["export", "gold.marketing_audiences", "--out", str(out), "--as-of", str(AS_OF)]) == 0
    written = pacsv.read_csv(out)
    assert written.column_names == AUDIENCE_COLUMNS and written.num_rows == 5
    assert not exists(lake, restricted_exports.AUDIT)


def test_a_contact_export_needs_a_reason_and_writes_nothing_without_one(lake, tmp_path: Path, capsys) -> None:
    out = tmp_path / "audiences.csv"
    for reason in ([], ["--reason", "  "]):
        assert main(["export", "gold.marketing_audiences", "--out", str(out), "--allow-restricted", *reason]) == 3
        assert "--reason is required" in capsys.readouterr().err
    assert not out.exists() and not exists(lake, restricted_exports.AUDIT)


def test_a_restricted_zone_export_works_as_before_and_is_audited(lake, tmp_path: Path) -> None:
    out = tmp_path / "pii.csv"
    assert main(["export", "restricted.pii", "--out", str(out)]) == 3  # refused without the flag, as before
    assert main(["export", "restricted.pii", "--out", str(out), "--allow-restricted"]) == 0  # no reason: as before
    assert pacsv.read_csv(out).num_rows == 8
    assert [(a["table"], a["rows"], a["reason"]) for a in _audits(lake)] == [("restricted.pii", 8, None)]


def test_an_export_whose_audit_fails_leaves_no_file(lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise OSError("log unwritable")

    monkeypatch.setattr(restricted_exports, "append_arrow", broken)
    out = tmp_path / "audiences.csv"
    with pytest.raises(OSError, match="log unwritable"):
        restricted_exports.export(lake, "gold.marketing_audiences", out, allow_restricted=True, reason="test")
    assert list(tmp_path.glob("audiences*")) == [] and list(tmp_path.glob(".audiences*")) == []
