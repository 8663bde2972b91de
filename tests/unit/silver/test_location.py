"""The coarse location of a CRM address: city, state and country only, nulls when it does not parse."""

from __future__ import annotations

from pyspark.testing import assertDataFrameEqual

from jobs.silver.location import with_location

OUT = "address string, city string, state string, country string"
NOWHERE = (None, None, None)


def test_city_state_and_country_are_parsed_and_the_street_and_zip_dropped(spark) -> None:
    cases = [
        ("12 Oak St, Chicago, IL 60601", ("Chicago", "IL", "US")),
        ("12 Oak St, Apt 4, Salt Lake City, UT 84101", ("Salt Lake City", "UT", "US")),  # with an apartment
        ("9 Elm Ave, Apt 7, new   york, ny 10001", ("New York", "NY", "US")),  # lower case, folded spaces
        ("  77 Pine Rd ,  Boston ,  MA   02110  ", ("Boston", "MA", "US")),  # spaces around every part
        ("5 Rue Sainte, Marseille, PR 13001, fr", ("Marseille", "PR", "FR")),  # a country named: it wins
        ("1 Main St, Austin, TX 78701-1234", ("Austin", "TX", "US")),  # ZIP+4
        ("Denver, CO", ("Denver", "CO", "US")),  # no street, no ZIP
        ("1 Main St, Springfield", NOWHERE),  # no state
        ("1 Main St, 60601, IL 60601", NOWHERE),  # the part before the state is no city (a digit in it)
        ("1 Main St Chicago IL 60601", NOWHERE),  # no commas
        ("1 Main St, Chicago, Illinois 60601", NOWHERE),  # the state is not a 2-letter code
        ("", NOWHERE),
        (None, NOWHERE),
    ]
    rows = spark.createDataFrame([(a,) for a, _ in cases], "address string")
    expected = spark.createDataFrame([(a, *where) for a, where in cases], OUT)
    assertDataFrameEqual(with_location(rows, column="address", default_country="US"), expected)


def test_the_prefix_names_the_columns(spark) -> None:
    rows = spark.createDataFrame([("3 Bay St, Miami, FL 33101",)], "address string")
    got = with_location(rows, column="address", default_country="CA", prefix="_")
    assert got.columns == ["address", "_city", "_state", "_country"]
    assert got.first().asDict() == {
        "address": "3 Bay St, Miami, FL 33101",
        "_city": "Miami",
        "_state": "FL",
        "_country": "CA",
    }
