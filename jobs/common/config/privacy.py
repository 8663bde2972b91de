"""The `privacy:` section: `omnilake privacy forget|vacuum` (jobs/orchestration/privacy.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from jobs.common.config.base import section


@section
class Privacy:
    # After a forget, VACUUM the tables it touched once this many hours have passed (then no earlier version, and
    # no change data of the erased rows, can be read), and cut each touched table's commit log at a new checkpoint
    # (older commits' file statistics hold column minimums and maximums, which can be the subject's ids). 0: right
    # after the forget, with Delta's retentionDurationCheck off for that VACUUM only (tests, the demo).
    vacuum_retention_hours: Annotated[int, Field(ge=0)]
