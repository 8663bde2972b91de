"""What every config section shares: the error type and the frozen, strict section decorator."""

from __future__ import annotations

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass


class ConfigError(ValueError):
    """A configuration file or override is wrong; the message names the full dotted key."""


# Frozen, validated on construction (also by dataclasses.replace), unknown keys rejected. Pydantic dataclasses
# rather than BaseModel: call sites and tests build sections positionally and copy them with dataclasses.replace.
section = dataclass(frozen=True, config=ConfigDict(extra="forbid"))
