"""The declared sources agree with their contracts and their silver tables: every spec has its contract file, its
keys and identity columns exist, and its conform function gives the target table's columns (docs/tables.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.io.schemas import ddl
from jobs.silver.contracts import VIOLATION, apply_contract
from jobs.silver.location import with_location
from jobs.silver.pii import tokenize
from jobs.sources.contracts import Contract, ContractError, load_contract, load_contracts
from jobs.sources.specs import BY_NAME, IMPORT_KINDS, LANDING_SOURCES, SPECS, SourceSpec, account_id_types

CONTRACTS = Path(__file__).resolve().parents[3] / "conf" / "contracts"
META_TYPES = {"_source_file": "string", "_batch_id": "string", "_batch_no": "int", "_row_id": "long"}
# every silver table's columns as docs/tables.md lists them (order lines and events get customer_id after conform)
TABLE_COLUMNS = {
    "silver.members": "member_id phone_token email_token full_name_token address_token tier consent_email "
    "consent_sms birth_year joined_ts city state country",
    "silver.stores": "store_id store_name city region timezone opened_date is_known",
    "silver.products": "sku product_name category brand list_price unit_cost launched_date is_known updated_ts",
    "silver.order_lines": "channel order_id line_no account_id store_id order_ts order_date status sku quantity "
    "unit_price discount net_amount campaign_code device_id phone_token email_token",
    "silver.events": "channel event_id event_ts event_date session_id account_id event_type sku campaign_code "
    "device_id platform",
    "silver.inventory": "snapshot_date store_id sku on_hand on_order",
    "silver.marketing_spend": "spend_date channel campaign_id spend impressions clicks",
    "silver.returns": "return_id channel order_id line_no sku quantity refund_amount reason return_ts return_date",
    "silver.interactions_imported": "customer_id item_id interaction_ts weight source_file",
    "silver.daily_sales_imported": "store_id sku sales_date units price promo",
}


def test_every_contract_file_belongs_to_exactly_one_spec() -> None:
    assert sorted(p.name for p in CONTRACTS.glob("*.yaml")) == sorted(s.contract_file for s in SPECS)
    assert list(load_contracts(CONTRACTS)) == [s.name for s in SPECS]
    assert len(BY_NAME) == len(SPECS)


def test_source_lists_follow_the_specs() -> None:
    assert LANDING_SOURCES[:3] == ("stores", "products", "crm_members")  # reference data first
    assert set(LANDING_SOURCES) | {f"imported_{k}" for k in IMPORT_KINDS} == set(BY_NAME)
    assert sorted(IMPORT_KINDS) == ["interactions", "orders", "sales"]
    assert account_id_types() == {"web": "web", "app": "app", "marketplace": "marketplace", "pos": "member"}


def test_a_contract_must_name_the_source_of_its_spec(tmp_path: Path) -> None:
    (tmp_path / "stores.yaml").write_text((CONTRACTS / "products.yaml").read_text())
    with pytest.raises(ContractError, match="contract names source 'products', its spec is 'stores'"):
        load_contracts(tmp_path, [BY_NAME["stores"]])


def _valid_rows(spark, contract: Contract):
    """An empty frame shaped like the rows silver hands to a conform function (typed, PII tokenized)."""
    raw = ", ".join([*(f"`{c}` string" for c in contract.column_names), *(f"{c} {t}" for c, t in META_TYPES.items())])
    raw += ", _ingested_at timestamp"
    good = apply_contract(spark.createDataFrame([], raw), contract=contract).drop(VIOLATION, "_raw_record")
    if "birth_date" in contract.pii:
        good = good.withColumn("_birth_year", F.year("birth_date"))
    if "address" in contract.pii:
        good = with_location(good, column="address", default_country="US", prefix="_")
    return tokenize(good, pii=contract.pii, key=b"k", country_code="1", national_digits=10)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_keys_and_identity_columns_exist(spark, spec: SourceSpec) -> None:
    contract = load_contract(CONTRACTS / spec.contract_file)
    assert set(contract.keys) <= set(contract.column_names)
    if spec.identity:
        columns = set(_valid_rows(spark, contract).columns)
        assert {spec.identity.id_column, *spec.identity.links} <= columns


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_conform_gives_the_target_table_columns(spark, spec: SourceSpec) -> None:
    contract = load_contract(CONTRACTS / spec.contract_file)
    kwargs = dict(spec.conform.kwargs)
    if spec.conform.timezone:
        kwargs["tz"] = "UTC"
    kwargs |= {name: spark.createDataFrame([], ddl(lookup.table)) for name, lookup in spec.conform.lookups.items()}
    out = spec.conform.function(_valid_rows(spark, contract), **kwargs)
    written = [c for c in out.columns if c not in ("_batch_no", "_row_id")]  # dropped before the upsert
    assert written == [*TABLE_COLUMNS[spec.target.name].split(), "_version", "_batch_id"]
    assert set(spec.target.keys) <= set(written) and set(spec.target.partition_by) <= set(written)
    assert {"_batch_no", "_row_id"} <= set(out.columns)  # lineage the dedup step orders by
    # the registered types (what gold and features read); customer_id is added after identity resolution
    types = dict(out.dtypes)
    declared = [(c, t) for c, t in spark.createDataFrame([], ddl(spec.target.name)).dtypes if c != "customer_id"]
    assert declared == [(c, types.get(c)) for c, _ in declared]
