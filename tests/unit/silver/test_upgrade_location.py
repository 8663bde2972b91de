"""A lake from before the location columns gains them once: members from the vault's addresses, customers rebuilt."""

from __future__ import annotations

from datetime import datetime

from pyspark.testing import assertDataFrameEqual

from jobs.io.schemas import ddl
from jobs.io.tables import Catalog
from jobs.silver.upkeep import MAP_VERSION, upgrade_location

OLD_MEMBERS = (
    "member_id string, phone_token string, email_token string, full_name_token string, address_token string, "
    "tier string, consent_email boolean, consent_sms boolean, birth_year int, joined_ts timestamp, _version long, "
    "_batch_id string"
)
OLD_CUSTOMERS = (
    "customer_id string, member_id string, phone_token string, email_token string, tier string, "
    "consent_email boolean, consent_sms boolean, birth_year int, joined_ts timestamp, channels array<string>, "
    "first_seen_ts timestamp, source string"
)
J = datetime(2020, 5, 1)


def test_members_are_located_from_the_vault_and_customers_rebuilt_once(catalog: Catalog) -> None:
    spark = catalog.spark
    members = [
        ("M1", "p1", None, "n1", "a1", "gold", True, False, 1980, J, 5, "b1"),
        ("M2", None, "e2", "n2", "a2", "basic", False, False, None, J, 6, "b1"),  # its address does not parse
        ("M3", None, "e3", None, None, "silver", True, True, 1999, J, 7, "b2"),  # no address
    ]
    catalog.overwrite(spark.createDataFrame(members, OLD_MEMBERS), "silver.members")
    vault = [
        ("a1", "address", "12 Oak St, Apt 3, chicago, il 60601"),
        ("a2", "address", "somewhere"),
        ("n1", "name", "Ann Lee"),
    ]
    catalog.merge(spark.createDataFrame(vault, ddl("restricted.pii")), "restricted.pii", ["token"])
    id_map = [("member", "M1", "C1"), ("member", "M2", "C2"), ("member", "M3", "C3"), ("web", "A1", "C1")]
    catalog.merge(spark.createDataFrame(id_map, ddl("silver.identity_map")), "silver.identity_map", [])
    old = [(f"C{i}", f"M{i}", None, None, "basic", None, None, None, J, ["web"], None, "landing") for i in (1, 2, 3)]
    catalog.overwrite(spark.createDataFrame(old, OLD_CUSTOMERS), "silver.customers")
    catalog.set_properties("silver.customers", {MAP_VERSION: str(catalog.version("silver.identity_map"))})

    upgrade_location(catalog, default_country="US")
    located = [
        (*members[0][:10], "Chicago", "IL", "US", 5, "b1"),
        (*members[1][:10], None, None, None, 6, "b1"),
        (*members[2][:10], None, None, None, 7, "b2"),
    ]
    expected = spark.createDataFrame(located, ddl("silver.members"))
    # the columns added at the end of the evolved table; everything reads them by name
    assertDataFrameEqual(catalog.read("silver.members").select(*expected.columns), expected)
    nowhere = (None, None, None)
    customers = [
        ("C1", "M1", None, None, "gold", True, False, 1980, J, ["web"], None, "landing", "Chicago", "IL", "US"),
        ("C2", "M2", None, None, "basic", False, False, None, J, [], None, "landing", *nowhere),
        ("C3", "M3", None, None, "silver", True, True, 1999, J, [], None, "landing", *nowhere),
    ]
    assertDataFrameEqual(catalog.read("silver.customers"), spark.createDataFrame(customers, ddl("silver.customers")))

    versions = (catalog.version("silver.members"), catalog.version("silver.customers"))
    upgrade_location(catalog, default_country="US")  # done: nothing is written again
    assert (catalog.version("silver.members"), catalog.version("silver.customers")) == versions
