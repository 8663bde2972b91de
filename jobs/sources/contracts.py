"""Data contracts (conf/contracts/<source>.yaml): what a valid raw row of one source is (file format, columns and
their types, required columns, ranges, enums, raw business key, PII columns, version column). Loading only; the
Spark checks that apply a contract live in jobs/silver/contracts.py. Import-light: yaml, no pyspark."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from jobs.sources.specs import SPECS, SourceSpec

FORMATS = ("csv", "json", "parquet")


class ContractError(ValueError):
    """A contract file is malformed, or a load breaks a contract rule that stops it (unknown_columns: fail)."""


@dataclass(frozen=True)
class ColumnRule:
    name: str
    type: str
    format: str | None = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] | None = None
    min_date: date | None = None  # date/timestamp columns: this column's floor instead of conf ingest.min_date


@dataclass(frozen=True)
class Contract:
    source: str
    format: str
    keys: tuple[str, ...]
    columns: tuple[ColumnRule, ...]
    version: str | None = None
    unknown_columns: str = "ignore"
    pii: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _rule_value(key: str, value: Any) -> Any:
    if key == "enum":
        return tuple(value)
    if key == "min_date" and not isinstance(value, date):  # YAML reads an unquoted 1900-01-01 as a date already
        return date.fromisoformat(str(value))
    return value


def load_contract(path: Path) -> Contract:
    raw: dict[str, Any] = yaml.safe_load(path.read_text())
    try:
        columns = tuple(
            ColumnRule(name=n, **{k: _rule_value(k, v) for k, v in r.items()}) for n, r in raw.pop("columns").items()
        )
        contract = Contract(columns=columns, keys=tuple(raw.pop("keys")), **raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ContractError(f"{path}: {exc}") from exc
    missing = [k for k in (*contract.keys, *(contract.pii or {})) if k not in contract.column_names]
    if contract.version:
        missing += [] if contract.version in contract.column_names else [contract.version]
    if missing or contract.format not in FORMATS:
        raise ContractError(f"{path}: unknown columns {missing} or format '{contract.format}'")
    return contract


def load_contracts(directory: str | Path, specs: Iterable[SourceSpec] | None = None) -> dict[str, Contract]:
    """The contract of every declared source (default: jobs.sources.specs.SPECS), keyed by source name, in load
    order. A contract file must name the source whose spec points at it."""
    contracts = {}
    for spec in SPECS if specs is None else specs:
        path = Path(directory) / spec.contract_file
        if not path.is_file():
            raise ContractError(f"{path}: no contract file for source {spec.name}")
        contract = load_contract(path)
        if contract.source != spec.name:
            raise ContractError(f"{path}: contract names source '{contract.source}', its spec is '{spec.name}'")
        contracts[spec.name] = contract
    return contracts
