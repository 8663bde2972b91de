"""Landing-zone contract per source (docs/landing.md): format, columns, key, version, PII columns."""

from __future__ import annotations

from dataclasses import dataclass

HELPERS = ("_day", "_ts", "_seq", "_free", "_dirt", "_file")  # generator-only frame columns, never written
PII_KIND = {
    "full_name": "names",
    "phone": "phones",
    "buyer_phone": "phones",
    "email": "emails",
    "address": "addresses",
    "ship_address": "addresses",
}


@dataclass(frozen=True)
class Spec:
    """One landing source."""

    name: str
    fmt: str  # csv | jsonl | parquet
    columns: tuple[str, ...]
    key: tuple[str, ...]
    version: str | None = None
    pii: tuple[str, ...] = ()
    types: tuple[tuple[str, str], ...] = ()  # parquet physical kinds: int | ts | dec | date (default str)

    def kind(self, column: str) -> str:
        """Parquet value kind of a column."""
        return dict(self.types).get(column, "str")

    def path(self, day_iso: str, name_date: str | None = None, suffix: str = "") -> str:
        """Relative landing path of a file delivered on day_iso."""
        return f"{self.name}/{day_iso}/{self.name}_{name_date or day_iso}{suffix}.{self.fmt}"


_ORDER_TS = (
    ("line_no", "int"),
    ("quantity", "int"),
    ("unit_price", "dec"),
    ("commission", "dec"),
    ("order_time", "ts"),
    ("updated_at", "ts"),
)
SPECS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec(
            "stores",
            "csv",
            ("store_id", "store_name", "city", "region", "timezone", "opened_at", "updated_at"),
            ("store_id",),
            "updated_at",
        ),
        Spec(
            "products",
            "csv",
            ("sku", "product_name", "category", "brand", "list_price", "unit_cost", "launched_at", "updated_at"),
            ("sku",),
            "updated_at",
        ),
        Spec(
            "crm_members",
            "csv",
            (
                "member_id",
                "full_name",
                "phone",
                "email",
                "address",
                "birth_date",
                "tier",
                "consent_email",
                "consent_sms",
                "joined_at",
                "updated_at",
            ),
            ("member_id",),
            "updated_at",
            ("full_name", "phone", "email", "address", "birth_date"),
        ),
        Spec(
            "web_orders",
            "csv",
            (
                "order_id",
                "line_no",
                "account_id",
                "email",
                "phone",
                "full_name",
                "ship_address",
                "order_ts",
                "status",
                "sku",
                "quantity",
                "unit_price",
                "discount",
                "campaign_code",
                "updated_at",
            ),
            ("order_id", "line_no"),
            "updated_at",
            ("email", "phone", "full_name", "ship_address"),
        ),
        Spec(
            "app_orders",
            "jsonl",
            (
                "order_id",
                "line_no",
                "user_id",
                "phone",
                "member_id",
                "order_ts",
                "status",
                "sku",
                "qty",
                "price",
                "discount",
                "campaign_code",
                "version",
                "platform",
            ),
            ("order_id", "line_no"),
            "version",
            ("phone",),
        ),
        Spec(
            "marketplace_orders",
            "parquet",
            (
                "order_id",
                "line_no",
                "buyer_id",
                "buyer_phone",
                "order_time",
                "status",
                "sku",
                "quantity",
                "unit_price",
                "commission",
                "updated_at",
            ),
            ("order_id", "line_no"),
            "updated_at",
            ("buyer_phone",),
            _ORDER_TS,
        ),
        Spec(
            "pos_transactions",
            "csv",
            (
                "txn_id",
                "line_no",
                "store_id",
                "member_id",
                "txn_ts",
                "sku",
                "quantity",
                "unit_price",
                "discount",
                "payment_type",
            ),
            ("txn_id", "line_no"),
        ),
        Spec(
            "web_events",
            "jsonl",
            ("event_id", "event_ts", "session_id", "account_id", "event_type", "sku", "campaign_code", "device_id"),
            ("event_id",),
        ),
        Spec(
            "app_events",
            "jsonl",
            (
                "event_id",
                "event_ts",
                "session_id",
                "user_id",
                "event_type",
                "sku",
                "campaign_code",
                "device_id",
                "platform",
            ),
            ("event_id",),
        ),
        Spec(
            "inventory",
            "parquet",
            ("snapshot_date", "store_id", "sku", "on_hand", "on_order"),
            ("snapshot_date", "store_id", "sku"),
            None,
            (),
            (("snapshot_date", "date"), ("on_hand", "int"), ("on_order", "int")),
        ),
        Spec(
            "marketing_spend",
            "csv",
            ("date", "channel", "campaign_id", "spend", "impressions", "clicks", "updated_at"),
            ("date", "channel", "campaign_id"),
            "updated_at",
        ),
        Spec(
            "returns",
            "csv",
            (
                "return_id",
                "order_id",
                "line_no",
                "channel",
                "sku",
                "quantity",
                "refund_amount",
                "reason",
                "return_ts",
                "updated_at",
            ),
            ("return_id",),
            "updated_at",
        ),
    )
}
