"""Applying data contracts (loaded by jobs/sources/contracts.py) to raw bronze rows: typing and validation, without
any knowledge of how the data was made. A row either gets typed columns, or one violation (the first by priority).

Every date and timestamp column is also bounded (issue 11, defect 3): a value after the accepted range's ceiling
(today + conf ingest.max_future_days) or before its floor (conf ingest.min_date, or the column's own `min_date`) is
DATE_OUT_OF_RANGE, so one far-future order can neither become the default as-of nor move any watermark."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.bronze.csvlines import META_COLUMNS
from jobs.bronze.jsonlines import malformed_reason
from jobs.common.clock import DateRange
from jobs.sources.contracts import ColumnRule, Contract

REASONS = ("MALFORMED", "MISSING_KEY", "BAD_TYPE", "NULL_REQUIRED", "BAD_ENUM", "OUT_OF_RANGE", "DATE_OUT_OF_RANGE")
TS_FORMATS = {"iso": "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS][.SSS]XXX", "local": "yyyy-MM-dd HH:mm:ss"}
# user files (imports): the first pattern that parses wins; times without an offset are read as UTC
AUTO_TS = (
    "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS][.SSS]XXX",
    "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS][.SSS]",
    "yyyy-MM-dd HH:mm:ss[.SSSSSS][.SSS]",
    "yyyy-MM-dd HH:mm",
    "yyyy/MM/dd HH:mm:ss",
    "yyyy-MM-dd",
    "yyyy/MM/dd",
)
AUTO_DATE = ("yyyy-MM-dd", "yyyy/MM/dd", "MM/dd/yyyy", "dd.MM.yyyy", "yyyyMMdd")
VIOLATION = "_violation"
# epoch milliseconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, Spark's timestamp range: a value outside
# is no timestamp (BAD_TYPE); timestamp_millis of one far outside overflows and fails the whole job (ANSI)
EPOCH_MS_RANGE = (-62135596800000, 253402300799999)


def _raw(df: DataFrame, name: str) -> Column:
    """The raw value as delivered; blank strings count as missing. Absent columns are null."""
    if name not in df.columns:
        return F.lit(None)
    if isinstance(df.schema[name].dataType, T.StringType):
        return F.when(F.trim(F.col(name)) != "", F.trim(F.col(name)))
    return F.col(name)


def _typed(df: DataFrame, rule: ColumnRule) -> Column:
    raw = _raw(df, rule.name)
    native = rule.name in df.columns and not isinstance(df.schema[rule.name].dataType, T.StringType)
    if rule.type == "string":
        return raw.cast("string")
    if rule.type == "timestamp":
        if native:
            return raw.cast("timestamp")
        if rule.format == "epoch_ms":
            millis = raw.try_cast("long")
            return F.timestamp_millis(F.when(millis.between(*EPOCH_MS_RANGE), millis))
        if rule.format == "auto":
            return F.coalesce(*[F.try_to_timestamp(raw, F.lit(p)) for p in AUTO_TS])
        return F.try_to_timestamp(raw, F.lit(TS_FORMATS[rule.format or "iso"]))
    if rule.type == "date":
        if native:
            return raw.cast("date")
        patterns = AUTO_DATE if rule.format == "auto" else ("yyyy-MM-dd",)
        return F.to_date(F.coalesce(*[F.try_to_timestamp(raw, F.lit(p)) for p in patterns]))
    if rule.type == "bool":
        return raw.try_cast("boolean")
    return raw.try_cast(rule.type)


def _violations(df: DataFrame, contract: Contract, dates: DateRange | None) -> Column:
    """The first violation of a row as struct(code, column, detail), or null when the row is valid."""
    checks: dict[str, list[Column]] = {r: [] for r in REASONS}
    for rule in contract.columns:
        raw, typed = _raw(df, rule.name), F.col(f"__t_{rule.name}")
        shown = F.lit("<pii>") if rule.name in contract.pii else raw.cast("string")

        def hit(code: str, cond: Column, detail: Column, rule: ColumnRule = rule) -> None:
            checks[code].append(
                F.when(
                    cond, F.struct(F.lit(code).alias("code"), F.lit(rule.name).alias("column"), detail.alias("detail"))
                )
            )

        if rule.name in contract.keys:
            hit("MISSING_KEY", raw.isNull(), F.lit(f"key column {rule.name} is empty"))
        hit(
            "BAD_TYPE",
            raw.isNotNull() & typed.isNull(),
            F.concat(F.lit(f"{rule.name}="), shown, F.lit(f" is not a valid {rule.type}")),
        )
        if rule.required:
            hit("NULL_REQUIRED", raw.isNull(), F.lit(f"required column {rule.name} is empty"))
        if rule.enum:
            hit(
                "BAD_ENUM",
                typed.isNotNull() & ~typed.isin(*rule.enum),
                F.concat(F.lit(f"{rule.name}="), shown, F.lit(f" not in {list(rule.enum)}")),
            )
        for bound, op in ((rule.min, "<"), (rule.max, ">")):
            if bound is not None:
                cond = typed < F.lit(bound) if op == "<" else typed > F.lit(bound)
                hit(
                    "OUT_OF_RANGE",
                    typed.isNotNull() & cond,
                    F.concat(F.lit(f"{rule.name}="), shown, F.lit(f" {op} {bound}")),
                )
        if dates is not None and rule.type in ("date", "timestamp"):
            floor = rule.min_date or dates.floor
            day = F.to_date(typed)  # a timestamp's UTC date (the session time zone)
            accepted = f"(accepted: {floor} .. {dates.ceiling})"
            for cond, text in ((day < F.lit(floor), "too old"), (day > F.lit(dates.ceiling), "in the future")):
                hit(
                    "DATE_OUT_OF_RANGE",
                    typed.isNotNull() & cond,
                    F.concat(F.lit(f"{rule.name}="), shown, F.lit(f" is {text} {accepted}")),
                )
    if "_corrupt_record" in df.columns:
        checks["MALFORMED"].append(
            F.when(
                F.col("_corrupt_record").isNotNull(),
                F.struct(
                    F.lit("MALFORMED").alias("code"),
                    F.lit("_corrupt_record").alias("column"),
                    _malformed_detail(contract).alias("detail"),
                ),
            )
        )
    ordered = [c for code in REASONS for c in checks[code]]
    return F.coalesce(*ordered) if ordered else F.lit(None)


def _malformed_detail(contract: Contract) -> Column:
    """Why a line does not parse. A CSV line (jobs/bronze/csvlines.py) has an odd number of quotes, or not the
    header's number of fields; a JSON line (jobs/bronze/jsonlines.py) is not one object with distinct keys."""
    line = F.col("_corrupt_record")
    if contract.format == "json":
        return malformed_reason(line)
    if contract.format != "csv":
        return F.lit("the line does not parse as a record of this source")
    quotes = F.length(line) - F.length(F.regexp_replace(line, '"', ""))
    return F.when(quotes % 2 == 1, F.lit("unbalanced quote: a quoted field must end on its line")).otherwise(
        F.lit("wrong number of fields: the line does not split into the header's columns")
    )


def apply_contract(df: DataFrame, *, contract: Contract, dates: DateRange | None = None) -> DataFrame:
    """Bronze rows -> typed contract columns + bronze meta columns + `_violation` (null when valid) +
    `_raw_record` (map of the raw values as strings, for quarantine). `dates`: the range every date and timestamp
    column must lie in (jobs.common.clock.accepted_dates; None: not checked)."""
    typed = df.select(
        "*",
        *[_typed(df, r).alias(f"__t_{r.name}") for r in contract.columns],
    )
    raw_cols = [c for c in df.columns if c not in META_COLUMNS or c == "_corrupt_record"]
    record = F.create_map(*[x for c in raw_cols for x in (F.lit(c), F.col(c).cast("string"))])
    return typed.select(
        *[F.col(f"__t_{r.name}").alias(r.name) for r in contract.columns],
        *[F.col(m) for m in META_COLUMNS if m in df.columns and m != "_corrupt_record"],
        _violations(typed, contract, dates).alias(VIOLATION),
        record.alias("_raw_record"),
    )


def unknown_columns(df: DataFrame, *, contract: Contract) -> list[str]:
    """Delivered columns the contract does not know (a new column in a source)."""
    return sorted(set(df.columns) - set(contract.column_names) - set(META_COLUMNS))
