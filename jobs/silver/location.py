"""The coarse location of a postal address: city, state and country, never the street or the ZIP code.

Addresses look like `street[, Apt n], City, ST ZIP[, CC]`: the city is the last comma part before the 2-letter state
(no digit in it, so a street can never be taken for a city), the ZIP is optional and dropped, a trailing 2-letter
country code wins over the default. Anything else gives nulls: the row itself is fine. Spark built-ins only.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# groups: 1 city, 2 state, 3 country (optional); the ZIP (5 digits, optionally +4) is matched, never captured
ADDRESS = r"(?:^|,)\s*([^,\d]*[^,\d\s])\s*,\s*([A-Za-z]{2})(?:\s+\d{5}(?:-\d{4})?)?\s*(?:,\s*([A-Za-z]{2}))?\s*$"
LOCATION_COLUMNS = ("city", "state", "country")


def coarse_location(address: Column, *, default_country: str) -> dict[str, Column]:
    """city (capitalised words, inner white space folded), state and country (upper case; `default_country` when
    the address names none) of `address`; all null when it does not parse."""
    ok = address.rlike(ADDRESS)
    city = F.initcap(F.regexp_replace(F.regexp_extract(address, ADDRESS, 1), r"\s+", " "))
    country = F.upper(F.regexp_extract(address, ADDRESS, 3))
    return {
        "city": F.when(ok, city),
        "state": F.when(ok, F.upper(F.regexp_extract(address, ADDRESS, 2))),
        "country": F.when(ok, F.when(country != "", country).otherwise(F.lit(default_country))),
    }


def with_location(df: DataFrame, *, column: str, default_country: str, prefix: str = "") -> DataFrame:
    """`df` with the coarse location of its `column` as `<prefix>city`, `<prefix>state`, `<prefix>country`."""
    parts = coarse_location(F.col(column), default_country=default_country)
    return df.withColumns({f"{prefix}{name}": col for name, col in parts.items()})
