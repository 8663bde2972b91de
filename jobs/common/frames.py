"""Small DataFrame helpers shared by the layers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pyspark.sql import DataFrame


def union_all(frames: Sequence[DataFrame], *, allow_missing: bool = False) -> DataFrame:
    """Frames stacked by column name (`allow_missing`: a column one frame lacks is null in its rows)."""
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame, allowMissingColumns=allow_missing)
    return out
