"""One declared spec per landing source and per import kind: the single place that says what a source is.

A spec names its contract file (conf/contracts/<name>.yaml: what a valid raw row is), where it comes from
(`landing` files found by `omnilake ingest`, or `import` files written by `omnilake import`), the silver table it
feeds (with that table's business keys and partition columns), the identity links its rows carry, the channel
whose time zone gives its business dates, and the conform function that turns contract-typed rows into the
target's columns. The order of SPECS is the load order: reference data first (POS needs the stores' time zones),
then everything that carries identities.

Plain dataclasses and strings only: the DAG files read the source list at parse time, so nothing here may import
pyspark (conform functions are named by dotted path and imported by `Conform.function` when a job runs).

Adding a channel (say a new marketplace feed `shop_orders`):
1. conf/contracts/shop_orders.yaml: its columns, types, rules, raw key, PII (conf/contracts/README.md);
2. a conform function in jobs/silver/conform.py (`shop_orders(df, *, tz) -> DataFrame` with the target's columns)
   and its unit test in tests/unit/silver/test_conform.py;
3. one `SourceSpec` below, in load order (its identity links, if its rows name a customer account).
tests/unit/sources/test_specs.py then checks that the contract exists, that its keys are contract columns and that
the conform function gives the target table's columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from types import MappingProxyType
from typing import Any, Literal

LANDING, IMPORT = "landing", "import"


@dataclass(frozen=True)
class SilverTable:
    """A silver table fed by sources: its business keys (one row per key, newest `_version` wins) and partitions."""

    name: str
    keys: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    customer_ids: bool = False  # rows carry a source account_id that gets its customer_id from silver.identity_map


@dataclass(frozen=True)
class Identity:
    """Identifier edges a source adds to the identity graph: its account node and the identifiers it links to."""

    id_column: str  # the account id column
    links: Mapping[str, str] = field(default_factory=dict)  # identifier column -> id_type it links to
    id_type: str | None = None  # None: each row's own channel, as `imported:<channel>` (imported orders)


@dataclass(frozen=True)
class Lookup:
    """A silver table a conform function reads (an empty frame of its registered schema before its first load)."""

    table: str


@dataclass(frozen=True)
class Conform:
    """The conform function (`module:function`) and the keyword arguments it gets besides the rows."""

    path: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)  # constant arguments
    timezone: str | None = None  # `tz=` the zone of this channel in conf business.channel_timezones (UTC if none)
    lookups: Mapping[str, Lookup] = field(default_factory=dict)  # argument -> silver table passed as a DataFrame

    @property
    def function(self) -> Callable[..., Any]:
        module, _, name = self.path.partition(":")
        return getattr(import_module(module), name)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    origin: Literal["landing", "import"]
    target: SilverTable
    conform: Conform
    channel: str | None = None  # the channel of every row (None: per row, or not a sales channel)
    identity: Identity | None = None
    map_keys: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # imports: (required, optional) --map keys

    @property
    def contract_file(self) -> str:
        return f"{self.name}.yaml"

    @property
    def import_kind(self) -> str | None:
        """`omnilake import <kind>` for import specs (imported_orders -> orders)."""
        return self.name.removeprefix("imported_") if self.origin == IMPORT else None


ORDER_LINES = SilverTable(
    "silver.order_lines", ("channel", "order_id", "line_no"), partition_by=("order_date",), customer_ids=True
)
EVENTS = SilverTable("silver.events", ("channel", "event_id"), partition_by=("event_date",), customer_ids=True)
MEMBERS = SilverTable("silver.members", ("member_id",))
STORES = SilverTable("silver.stores", ("store_id",))
PRODUCTS = SilverTable("silver.products", ("sku",))
INVENTORY = SilverTable("silver.inventory", ("snapshot_date", "store_id", "sku"), partition_by=("snapshot_date",))
MARKETING_SPEND = SilverTable("silver.marketing_spend", ("spend_date", "channel", "campaign_id"))
RETURNS = SilverTable("silver.returns", ("return_id",))
INTERACTIONS = SilverTable("silver.interactions_imported", ("customer_id", "item_id", "interaction_ts"))
DAILY_SALES = SilverTable("silver.daily_sales_imported", ("store_id", "sku", "sales_date"))

CONFORM = "jobs.silver.conform:"
PHONE_EMAIL = MappingProxyType({"phone_token": "phone", "email_token": "email"})
STORE_ZONES = Lookup("silver.stores")

SPECS: tuple[SourceSpec, ...] = (
    SourceSpec("stores", LANDING, STORES, Conform(CONFORM + "stores")),
    SourceSpec("products", LANDING, PRODUCTS, Conform(CONFORM + "products")),
    SourceSpec(
        "crm_members",
        LANDING,
        MEMBERS,
        Conform(CONFORM + "members"),
        identity=Identity("member_id", PHONE_EMAIL, "member"),
    ),
    SourceSpec(
        "web_orders",
        LANDING,
        ORDER_LINES,
        Conform(CONFORM + "web_orders", timezone="web"),
        channel="web",
        identity=Identity("account_id", PHONE_EMAIL, "web"),
    ),
    SourceSpec(
        "app_orders",
        LANDING,
        ORDER_LINES,
        Conform(CONFORM + "app_orders", timezone="app"),
        channel="app",
        identity=Identity("user_id", {"phone_token": "phone", "member_id": "member"}, "app"),
    ),
    SourceSpec(
        "marketplace_orders",
        LANDING,
        ORDER_LINES,
        Conform(CONFORM + "marketplace_orders", timezone="marketplace"),
        channel="marketplace",
        identity=Identity("buyer_id", {"buyer_phone_token": "phone"}, "marketplace"),
    ),
    SourceSpec(  # POS customers are identified by their member id; walk-ins have none
        "pos_transactions",
        LANDING,
        ORDER_LINES,
        Conform(CONFORM + "pos_transactions", timezone="pos", lookups={"stores": STORE_ZONES}),
        channel="pos",
        identity=Identity("member_id", {}, "member"),
    ),
    SourceSpec(
        "web_events", LANDING, EVENTS, Conform(CONFORM + "events", {"channel": "web"}, timezone="web"), channel="web"
    ),
    SourceSpec(
        "app_events", LANDING, EVENTS, Conform(CONFORM + "events", {"channel": "app"}, timezone="app"), channel="app"
    ),
    SourceSpec("inventory", LANDING, INVENTORY, Conform(CONFORM + "inventory")),
    SourceSpec("marketing_spend", LANDING, MARKETING_SPEND, Conform(CONFORM + "marketing_spend")),
    # a return's channel is per row; its business date is taken in the web channel's zone
    SourceSpec("returns", LANDING, RETURNS, Conform(CONFORM + "returns", timezone="web")),
    SourceSpec(
        "imported_orders",
        IMPORT,
        ORDER_LINES,
        Conform(CONFORM + "imported_orders", timezone="imported"),
        identity=Identity("customer_id", PHONE_EMAIL),
        map_keys=(
            ("customer_id", "order_ts", "amount"),
            ("quantity", "order_id", "sku", "store_id", "phone", "email"),
        ),
    ),
    SourceSpec(
        "imported_interactions",
        IMPORT,
        INTERACTIONS,
        Conform(CONFORM + "imported_interactions"),
        map_keys=(("customer_id", "item_id", "ts"), ("weight",)),
    ),
    SourceSpec(
        "imported_sales",
        IMPORT,
        DAILY_SALES,
        Conform(CONFORM + "imported_sales"),
        map_keys=(("store_id", "sku", "date", "units"), ("price", "promo")),
    ),
)
BY_NAME: Mapping[str, SourceSpec] = MappingProxyType({s.name: s for s in SPECS})
LANDING_SOURCES: tuple[str, ...] = tuple(s.name for s in SPECS if s.origin == LANDING)
IMPORT_KINDS: Mapping[str, SourceSpec] = MappingProxyType({s.import_kind: s for s in SPECS if s.import_kind})


def account_id_types() -> dict[str, str]:
    """channel -> the identity_map id_type of its rows' account_id, for the channels whose rows get customer ids
    (POS accounts are member ids). Channels not listed are imported ones: `imported:<channel>`."""
    return {
        s.channel: s.identity.id_type
        for s in SPECS
        if s.target.customer_ids and s.channel and s.identity and s.identity.id_type
    }
