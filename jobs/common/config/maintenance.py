"""The `maintenance:` section: `omnilake maintain` and the weekly omnilake_maintenance DAG."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from jobs.common.config.base import section

# Delta's own floor for VACUUM (spark.databricks.delta.retentionDurationCheck): a version a running job still reads
# may need files this young, so going below it must be a decision of the conf, not a default
DELTA_SAFETY_HOURS = 168


@section
class Maintenance:
    schedule: str
    target_file_mb: Annotated[int, Field(ge=1)]
    min_file_mb: Annotated[int, Field(ge=1)]
    vacuum_retention_hours: Annotated[int, Field(ge=0)]
    allow_below_safety: bool
    log_retention_days: Annotated[int, Field(ge=1)]
    bronze_retention_days: Annotated[int, Field(ge=1)] | None
    zorder: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _safe_retention(self) -> Maintenance:
        if self.vacuum_retention_hours < DELTA_SAFETY_HOURS and not self.allow_below_safety:
            raise ValueError(
                f"vacuum_retention_hours {self.vacuum_retention_hours} is below Delta's safety window of "
                f"{DELTA_SAFETY_HOURS} h: a job reading an older version could lose its files; set "
                "allow_below_safety: true only where no job runs while VACUUM does"
            )
        if self.min_file_mb > self.target_file_mb:
            raise ValueError(f"min_file_mb {self.min_file_mb} is above target_file_mb {self.target_file_mb}")
        return self
