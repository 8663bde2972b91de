"""The `serving:` section: where downstream systems read omnilake's outputs (PostgreSQL; `omnilake publish`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from jobs.common.config.base import section


@section
class PublishedTable:
    """A lake table copied to PostgreSQL: its key (a unique index, nulls not distinct) and the lookup indexes a
    service needs. The partition column (as_of or business_date) comes from the Delta table."""

    key: Annotated[tuple[str, ...], Field(min_length=1)]
    indexes: tuple[tuple[str, ...], ...] = ()


@section
class LocalPostgres:
    """`omnilake postgres up|down|status` (make postgres-up / postgres-down): a server of this machine's own."""

    dir: str
    port: Annotated[int, Field(ge=0, le=65535)]
    database: str
    user: str


@section
class PostgresSettings:
    dsn: str | None
    password_env: str
    password_file: str
    schema_name: str
    connect_timeout_seconds: Annotated[int, Field(ge=1)]
    lock_timeout_seconds: Annotated[int, Field(ge=1)]
    window_days: Annotated[int, Field(ge=1)]
    tables: dict[str, PublishedTable]
    local: LocalPostgres


@section
class Serving:
    postgres: PostgresSettings
