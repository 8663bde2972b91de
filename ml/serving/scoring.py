"""The scoring wrapper every model shares: load `champion` by alias, apply it in Spark, stamp, replace the rows.

Every output row carries as_of, model_name (the registered model), model_version and run_id. The write is a
replaceWhere on the adapter's predicate (as_of and horizon_days for customer scores), so rescoring a date replaces
exactly that date's rows and leaves the others untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from jobs.common.log import event, stage
from ml.serving.registry import CHAMPION, by_alias, tracking_client

if TYPE_CHECKING:
    from ml.training.adapter import MlEnv, ModelAdapter


@dataclass(frozen=True)
class ScoreReport:
    model: str
    registered_name: str
    as_of: date
    horizon_days: int
    rows: int
    version: str | None
    run_id: str | None
    message: str

    @property
    def skipped(self) -> bool:
        return self.version is None

    def summary(self) -> str:
        if self.skipped:
            return f"score {self.model} as_of={self.as_of} horizon={self.horizon_days}d: skipped: {self.message}"
        return (
            f"score {self.model} as_of={self.as_of} horizon={self.horizon_days}d: {self.message} "
            f"<- {self.registered_name} v{self.version} (run {self.run_id})"
        )


def score_model(adapter: ModelAdapter, env: MlEnv, *, as_of: date, horizon_days: int) -> ScoreReport:
    """Score every row of the adapter's frame at `as_of` with the champion for `horizon_days`."""
    client = tracking_client(env.cfg)
    name = env.settings.registered_name(adapter.name, horizon_days)
    served = by_alias(client, name, CHAMPION)
    if served is None:
        message = (
            f"no '{CHAMPION}' for registered model {name}: run `omnilake train {adapter.name} --as-of <date> "
            f"--horizon-days {horizon_days}` first; nothing written"
        )
        event("ml.score.skipped", model=adapter.name, registered_model=name)
        return ScoreReport(adapter.name, name, as_of, horizon_days, 0, None, None, message)
    written = []
    for output in adapter.outputs(served, as_of=as_of, horizon_days=horizon_days):
        with stage(
            "ml.score", model=adapter.name, table=output.table, version=served.model_version, as_of=as_of
        ) as info:
            info["rows"] = rows = env.catalog.overwrite_where(
                output.rows, output.table, output.where, partition_by=output.partition_by
            )
        written.append((output.table, rows))
    tables = ", ".join(f"{t} ({r:,} rows)" for t, r in written)
    return ScoreReport(
        adapter.name,
        name,
        as_of,
        horizon_days,
        written[0][1] if written else 0,
        served.model_version,
        served.run_id,
        tables,
    )
