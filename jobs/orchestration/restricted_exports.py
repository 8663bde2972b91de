"""`omnilake export TABLE --allow-restricted`: exports of raw PII, each audited in ops.restricted_exports (delta-rs,
no JVM).

Two kinds. A table of a restricted zone (conf zones.restricted: bronze, restricted) is written as it is, as before;
--reason is optional there, so the command line of old still works. A contact table (CONTACT_TABLES: the audiences
a CRM acts on) is written with its customers' contact details, detokenized from the vault (restricted.pii) through
their silver.customers tokens: `email` when consent_email, `phone` when consent_sms (null otherwise); rows of
customers with neither are left out, the CRM may not contact them. Its --reason is required. Without
--allow-restricted a contact table exports as any gold table does: customer ids only, nothing audited.

The file is written first, then its audit row appended; when the append fails the file is deleted, so no restricted
export exists without its row.
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs.common.errors import UserError
from jobs.common.log import event
from jobs.io.lake import append_arrow, dataset
from jobs.io.listing import export_table, is_restricted
from jobs.io.schemas import arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa

    from jobs.common.config import Config

AUDIT = "ops.restricted_exports"
CONTACT_TABLES = frozenset({"gold.marketing_audiences"})
CUSTOMERS, VAULT = "silver.customers", "restricted.pii"
# each contact column: its token in silver.customers and the consent it needs
CONTACTS = (("email", "email_token", "consent_email"), ("phone", "phone_token", "consent_sms"))


def export(
    cfg: Config,
    name: str,
    out: Path,
    *,
    allow_restricted: bool = False,
    as_of: date | None = None,
    reason: str | None = None,
) -> int:
    """Write `name` (its `as_of` rows when given) to `out` as `omnilake export` does; a restricted export (module
    docstring) with its audit row. Returns the rows written."""
    contacts = allow_restricted and name in CONTACT_TABLES
    raw = allow_restricted and is_restricted(cfg, name)
    if not (contacts or raw):
        return export_table(cfg, name, out, allow_restricted=allow_restricted, as_of=as_of)
    why = (reason or "").strip() or None
    if contacts and why is None:
        raise UserError(f"--reason is required to export {name} with contact details; it is recorded in {AUDIT}")
    rows = export_table(
        cfg, name, out, allow_restricted=True, as_of=as_of, transform=ContactDetails(cfg) if contacts else None
    )
    try:
        record(cfg, name=name, as_of=as_of, rows=rows, out=out, reason=why, at=datetime.now(UTC))
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    event("export.restricted", table=name, rows=rows, out=str(out), contacts=contacts)
    return rows


def exported_by() -> str:
    """The user running the command, from the environment (LOGNAME, USER, ...; else the account's name)."""
    try:
        return getpass.getuser()
    except OSError:  # no such variable and no passwd entry (a bare container)
        return "unknown"


def record(
    cfg: Config, *, name: str, as_of: date | None, rows: int, out: Path, reason: str | None, at: datetime
) -> None:
    """Append the audit row of one restricted export to ops.restricted_exports (created by the first)."""
    import pyarrow as pa

    row = {
        "exported_at": at,
        "table": name,
        "as_of": as_of,
        "rows": rows,
        "out": str(out.resolve()),
        "exported_by": exported_by(),
        "reason": reason,
    }
    append_arrow(cfg, AUDIT, pa.Table.from_pylist([row], schema=arrow_schema(AUDIT)))


class ContactDetails:
    """A record-batch transform for export_table: the batch's rows of consenting customers, with `email` and
    `phone` appended (module docstring). Each batch looks up only its own customers and their tokens."""

    def __init__(self, cfg: Config) -> None:
        self.customers = dataset(cfg, CUSTOMERS)
        self.vault = dataset(cfg, VAULT)

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        import pyarrow as pa
        import pyarrow.compute as pc

        if batch.num_rows == 0:
            return _with(batch, {column: pa.nulls(0, pa.string()) for column, _, _ in CONTACTS})
        ids = pc.unique(batch.column("customer_id")).drop_null()
        consenting = pc.field("consent_email") | pc.field("consent_sms")
        people = self.customers.to_table(
            columns=["customer_id", *(c for _, token, consent in CONTACTS for c in (token, consent))],
            filter=pc.field("customer_id").isin(ids) & consenting,
        )
        tokens = {  # each contact's token where its consent is given (arrays aligned with `people`)
            column: pc.if_else(
                pc.fill_null(people[consent], False), people[token], pa.scalar(None, pa.string())
            ).combine_chunks()
            for column, token, consent in CONTACTS
        }
        wanted = pc.unique(pa.concat_arrays(list(tokens.values()))).drop_null()
        vault = self.vault.to_table(
            columns=["token", "value"],
            filter=pc.field("token").isin(wanted) & pc.field("pii_type").isin([c for c, _, _ in CONTACTS]),
        )
        keys, values = vault["token"].combine_chunks(), vault["value"].combine_chunks()
        person = pc.index_in(batch.column("customer_id"), value_set=people["customer_id"].combine_chunks())
        found = {
            column: pc.take(pc.take(values, pc.index_in(token, value_set=keys)), person)
            for column, token in tokens.items()
        }
        out = _with(batch, found)
        return out.filter(pc.or_(pc.is_valid(out.column("email")), pc.is_valid(out.column("phone"))))


def _with(batch: pa.RecordBatch, columns: dict[str, Any]) -> pa.RecordBatch:
    for name, values in columns.items():
        batch = batch.append_column(name, values)
    return batch
