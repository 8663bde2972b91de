"""The right to be forgotten: who a subject is, and which rows of a table are theirs. Pure: Python values in,
Spark join conditions out (jobs/orchestration/privacy.py reads and deletes).

A subject is named by one identifier (`--by`): omnilake's customer_id, a PII token, or a raw email, phone or CRM
member id, normalised and tokenized exactly as silver does (`normalize_value` / `token_of` are the Python twins of
jobs/silver/pii.py; tests/unit/silver/test_erasure.py checks that they agree). Their footprint is everything that
identifies them in the lake: the customer ids the identifier resolves to, every identity node (account ids, member
ids, phone and email tokens) mapped to those ids, every PII token and normalised raw value of theirs, and their
orders (returns name an order, not a customer).

Which rows are theirs is decided by column name, so a table added later is covered when it uses the lake's names:
`customer_id`, `token` or `*_token`, `member_id`, identity nodes (`id_type`/`id_value`, `src_*`/`dst_*`), orders
(`channel` + `order_id`), `account_id` (with `channel`). `suspect_columns` lists the columns that look personal
but match no rule: the integration test fails on any, so a new kind of identifier gets a rule first.

Rows are matched by a join with the subject's values (`needles`, alias s), not by a predicate with literals: Delta
records every DELETE / MERGE condition in the commit log, which must not name the person.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

BY_KINDS = ("customer-id", "token", "email", "phone", "member-id")
TOKEN_TYPES = ("phone", "email")  # identity node types whose values are PII tokens
MEMBER = "member"
IMPORTED_PREFIX = "imported:"
# column names that hold something personal; a column matching this and no rule of row_condition is a gap
SUSPECT = re.compile(r"customer|member|account|token|email|phone|user|buyer|person|name|address")
# suspect names that are not about a person (product and store names, counts, tiers, consent flags, ...)
NOT_PERSONAL = frozenset(
    {"product_name", "store_name", "registered_model", "model_name", "new_customers", "customers",
     "active_customers", "tier_customers", "email_accounts", "phone_accounts", "account_orders", "phone_orders",
     "z_account_orders", "z_phone_orders", "z_phone_accounts", "z_email_accounts", "consent_email", "consent_sms",
     "member_tier", "buyers"}
)  # fmt: skip


class SubjectError(ValueError):
    """A request that names no valid subject (unknown --by, empty value)."""


def normalize_value(kind: str, value: str, *, country_code: str, national_digits: int) -> str | None:
    """jobs/silver/pii.normalize in Python: phone -> digits with the country code, email -> trimmed lower case,
    other text -> trimmed with inner white space folded (Spark's trim strips spaces only). None: empty."""
    if kind == "phone":
        digits = re.sub(r"[^0-9]", "", value)
        if len(digits) == national_digits:
            return country_code + digits
        return digits or None
    if kind == "email":
        trimmed = value.strip(" ")
        return trimmed.lower() if trimmed else None
    trimmed = value.strip(" ")
    return re.sub(r"\s+", " ", trimmed) if trimmed else None


def token_of(value: str, *, key: bytes, kind: str) -> str:
    """jobs/silver/pii.hmac_token in Python: HMAC-SHA256(key, '<kind>:<value>') as hex."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def subject_value(by: str, value: str, *, key: bytes, country_code: str, national_digits: int) -> str:
    """The subject's identifier as silver holds it: the token of an email or phone, else the value trimmed."""
    if by not in BY_KINDS:
        raise SubjectError(f"--by must be one of {', '.join(BY_KINDS)}, got {by!r}")
    if by in TOKEN_TYPES:
        norm = normalize_value(by, value, country_code=country_code, national_digits=national_digits)
        if norm is None:
            raise SubjectError(f"the {by} {value!r} is empty once normalised")
        return token_of(norm, key=key, kind=by)
    trimmed = value.strip()
    if not trimmed:
        raise SubjectError(f"an empty {by}")
    return trimmed


def subject_hash(by: str, value: str, *, key: bytes) -> str:
    """What the audit keeps of a subject: HMAC-SHA256 with the PII key of '<by>:<value as silver holds it>', so
    the same person asked for twice has one hash and the audit holds no PII."""
    return hmac.new(key, f"subject:{by}:{value}".encode(), hashlib.sha256).hexdigest()


def retired_id_hash(customer_id: str) -> str:
    """sha256 of a forgotten customer_id: identity resolution never hands that id out again (jobs/silver/identity)."""
    return hashlib.sha256(customer_id.encode()).hexdigest()


@dataclass(frozen=True)
class Footprint:
    """Everything that identifies one subject in the lake (a handful of values per person)."""

    customer_ids: frozenset[str] = frozenset()
    nodes: frozenset[tuple[str, str]] = frozenset()  # identity (id_type, id_value) mapped to customer_ids
    tokens: frozenset[str] = frozenset()  # every PII token: phone, email, name, address, birth date
    raw: Mapping[str, frozenset[str]] = field(default_factory=dict)  # pii kind -> normalised raw values
    orders: frozenset[tuple[str, str]] = frozenset()  # (channel, order_id)

    def ids_of(self, *types: str, prefix: str | None = None) -> frozenset[str]:
        """Node values of the given id types (or of every type starting with `prefix`)."""
        return frozenset(v for t, v in self.nodes if t in types or (prefix is not None and t.startswith(prefix)))

    @property
    def all_tokens(self) -> frozenset[str]:
        return self.tokens | self.ids_of(*TOKEN_TYPES)

    @property
    def accounts(self) -> frozenset[tuple[str, str]]:
        """(id_type, account id) of every source account (members included: POS accounts are member ids)."""
        return frozenset((t, v) for t, v in self.nodes if t not in TOKEN_TYPES)

    def identifiers(self) -> frozenset[str]:
        """Every string that names the subject: to find them in files (exports, model artifacts, logs)."""
        raw = {v for values in self.raw.values() for v in values}
        return frozenset(self.customer_ids | self.all_tokens | {v for _, v in self.accounts} | raw)

    def extended(self, *, tokens: Iterable[str] = (), raw: Mapping[str, Iterable[str]] | None = None) -> Footprint:
        more = {k: frozenset(v) for k, v in (raw or {}).items()}
        return Footprint.union([self, Footprint(tokens=frozenset(tokens), raw=more)])

    @property
    def empty(self) -> bool:
        return not (self.customer_ids or self.nodes or self.tokens)

    @classmethod
    def union(cls, footprints: Iterable[Footprint]) -> Footprint:
        """One footprint of several subjects (erased together)."""
        listed = list(footprints)
        raw: dict[str, set[str]] = {}
        for fp in listed:
            for kind, values in fp.raw.items():
                raw.setdefault(kind, set()).update(values)
        return cls(
            customer_ids=frozenset().union(*(fp.customer_ids for fp in listed)),
            nodes=frozenset().union(*(fp.nodes for fp in listed)),
            tokens=frozenset().union(*(fp.tokens for fp in listed)),
            raw={k: frozenset(v) for k, v in raw.items()},
            orders=frozenset().union(*(fp.orders for fp in listed)),
        )


NEEDLES = "kind string, v string"  # the subject's values, one per row: the source of the erasing MERGE
SEP = "\u0000"  # joins the parts of a composite needle (identity node, order, bronze row)


def needles(fp: Footprint, *, bronze_rows: Iterable[tuple[str, str, int]] = ()) -> list[tuple[str, str]]:
    """(kind, value) rows naming the subject. Rows are matched against these in a join, never against literals:
    a Delta commit records its DELETE / MERGE condition in the log (and DESCRIBE HISTORY), so the values must not
    be in it."""
    out = {("customer", v) for v in fp.customer_ids | fp.ids_of(prefix=IMPORTED_PREFIX)}
    out |= {("token", v) for v in fp.all_tokens}
    out |= {("member", v) for v in fp.ids_of(MEMBER)}
    out |= {("node", f"{t}{SEP}{v}") for t, v in fp.nodes}
    out |= {("order", f"{c}{SEP}{o}") for c, o in fp.orders}
    out |= {("account", v) for _, v in fp.accounts}
    out |= {(kind, v) for kind in TOKEN_TYPES for v in fp.raw.get(kind, ())}
    out |= {("row", f"{s}{SEP}{b}{SEP}{r}") for s, b, r in bronze_rows}
    return sorted(out)


def _t(column: str) -> Column:
    return F.col(f"t.`{column}`")


def _is(kind: str) -> Column:
    return F.col("s.kind") == F.lit(kind)


def _any(parts: Sequence[Column | None]) -> Column | None:
    kept = [p for p in parts if p is not None]
    return reduce(lambda a, b: a | b, kept) if kept else None


def _joined(*columns: Column) -> Column:
    return F.concat_ws(SEP, *columns)


def is_token_column(name: str) -> bool:
    return name == "token" or name.endswith("_token")


def row_condition(columns: Sequence[str]) -> Column | None:
    """The match of a table's rows (alias t: silver, gold, features, ops, restricted) to the subject's needles
    (alias s), by column name; None when no column can hold the subject (an aggregate: nothing to delete)."""
    cols = set(columns)
    parts: list[Column | None] = []
    if "customer_id" in cols:
        parts.append(_is("customer") & (_t("customer_id") == F.col("s.v")))
    parts += [_is("token") & (_t(c) == F.col("s.v")) for c in sorted(cols) if is_token_column(c)]
    if "member_id" in cols:
        parts.append(_is("member") & (_t("member_id") == F.col("s.v")))
    for kind, value in (("id_type", "id_value"), ("src_type", "src_value"), ("dst_type", "dst_value")):
        if {kind, value} <= cols:
            parts.append(_is("node") & (_joined(_t(kind), _t(value)) == F.col("s.v")))
    if {"channel", "order_id"} <= cols:
        parts.append(_is("order") & (_joined(_t("channel"), _t("order_id")) == F.col("s.v")))
    if "account_id" in cols and "customer_id" not in cols:
        parts.append(_is("account") & (_t("account_id") == F.col("s.v")))
    return _any(parts)


def covered_columns(columns: Sequence[str]) -> set[str]:
    """The columns row_condition reads."""
    cols = set(columns)
    out = {c for c in cols if c in ("customer_id", "member_id", "account_id") or is_token_column(c)}
    for a, b in (
        ("id_type", "id_value"),
        ("src_type", "src_value"),
        ("dst_type", "dst_value"),
        ("channel", "order_id"),
    ):
        if {a, b} <= cols:
            out |= {a, b}
    return out


def suspect_columns(columns: Sequence[str]) -> list[str]:
    """Columns whose name looks personal but that no rule of row_condition reads (a gap to close with a rule)."""
    covered = covered_columns(columns)
    return sorted(
        c for c in columns if SUSPECT.search(c.lower()) and c not in covered and c not in NOT_PERSONAL and c[0] != "_"
    )


def bronze_condition(
    columns: Sequence[str],
    *,
    id_columns: Mapping[str, str],
    pii: Mapping[str, str],
    country_code: str,
    national_digits: int,
) -> Column | None:
    """The match of bronze rows (raw strings, alias t) to the subject's needles (alias s): an account column
    (`id_columns`: column -> identity id type, IMPORTED_PREFIX for an imported customer id) holding one of their
    ids; a phone or email column (`pii`: column -> kind) whose normalised value is theirs; their orders (channel +
    order_id, e.g. returns); a line that did not parse (`_corrupt_record`) with one of their account ids or their
    email in it. Names and addresses alone never match: two people can share them."""
    from jobs.silver.pii import normalize

    cols = set(columns)
    parts: list[Column | None] = []
    for column, id_type in sorted(id_columns.items()):
        if column in cols and id_type == IMPORTED_PREFIX:
            parts.append(_is("customer") & (_t(column) == F.col("s.v")))
        elif column in cols:
            parts.append(_is("node") & (_joined(F.lit(id_type), _t(column)) == F.col("s.v")))
    for column, kind in sorted(pii.items()):
        if column in cols and kind in TOKEN_TYPES:
            norm = normalize(_t(column), kind, country_code=country_code, national_digits=national_digits)
            parts.append(_is(kind) & (norm == F.col("s.v")))
    if {"channel", "order_id"} <= cols:
        parts.append(_is("order") & (_joined(_t("channel"), _t("order_id")) == F.col("s.v")))
    if "_corrupt_record" in cols:
        line = F.lower(_t("_corrupt_record"))
        parts.append((_is("account") | _is("email")) & (F.instr(line, F.lower(F.col("s.v"))) > 0))
    return _any(parts)


def quarantine_condition() -> Column:
    """silver.quarantine rows (alias t) of the subject: those of their bronze rows (needles of kind row), and any
    whose masked record or detail names one of their ids or tokens."""
    text = F.concat_ws(" ", _t("record"), _t("detail"))
    by_row = _is("row") & (_joined(_t("source"), _t("batch_id"), _t("row_id").cast("string")) == F.col("s.v"))
    named = F.col("s.kind").isin("token", "account", "customer") & (F.instr(text, F.col("s.v")) > 0)
    return by_row | named


def rows_of(table: DataFrame, subject: DataFrame, condition: Column) -> DataFrame:
    """The rows of `table` that match the `subject` needles (NEEDLES) on `condition` (aliases t and s)."""
    return table.alias("t").join(F.broadcast(subject.alias("s")), on=condition, how="left_semi")


def bronze_id_columns(source: str, columns: Sequence[str]) -> dict[str, str]:
    """The raw account columns of a bronze source -> the identity id type their values are (IMPORTED_PREFIX: an
    imported customer id, kept as the customer_id), from the source specs: the spec's account column and its
    non-token links; an events source takes its channel's account column; imported customer ids by name."""
    from jobs.sources.specs import BY_NAME, SPECS

    spec = BY_NAME.get(source)
    out: dict[str, str] = {}
    if spec is not None and spec.identity is not None:
        out[spec.identity.id_column] = spec.identity.id_type or IMPORTED_PREFIX
        out.update({c: t for c, t in spec.identity.links.items() if not is_token_column(c)})
    elif spec is not None and spec.channel is not None:
        for other in SPECS:
            if other.channel == spec.channel and other.identity is not None and other.identity.id_type:
                out.setdefault(other.identity.id_column, other.identity.id_type)
    if "customer_id" in columns:
        out["customer_id"] = IMPORTED_PREFIX
    return {c: t for c, t in out.items() if c in columns}
