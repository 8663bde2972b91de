"""The quality gate of a run: quarantine rate and data freshness, read with delta-rs (no JVM).

- quarantine rate: quarantined / bronze_rows of ops.batch_audit over the batches that loaded a landing file
  delivered on one of the run's dates (<landing>/<source>/<YYYY-MM-DD>/..., see ops.file_registry);
- rejected files: landing files delivered on the run's dates that bronze set aside whole (ops.file_registry status
  'rejected', with its reason): their rows are in no table and in no audit, so the rate cannot see them;
- freshness: the run's last date minus the latest silver.order_lines.order_date on or before it (later dates,
  present when an old date is rerun, are ignored so a rerun sees what the first run saw), read from the Delta
  log's partition values (the table is partitioned by order_date), not from the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from jobs.common.log import event
from jobs.io.lake import file_partitions, read_arrow

if TYPE_CHECKING:
    import pyarrow as pa

    from jobs.common.config import Config
    from jobs.common.config.orchestration import QualitySettings

AUDIT, REGISTRY, ORDER_LINES = "ops.batch_audit", "ops.file_registry", "silver.order_lines"
SHOWN_FILES = 5  # rejected files a breach names (the registry holds them all)


@dataclass(frozen=True)
class QualityReport:
    start: date
    end: date
    batches: int
    bronze_rows: int
    quarantined: int
    quarantine_rate: float
    latest_order_date: date | None
    freshness_lag_days: int | None
    rejected_files: list[str] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "batches": self.batches,
            "bronze_rows": self.bronze_rows,
            "quarantined": self.quarantined,
            "quarantine_rate": round(self.quarantine_rate, 6),
            "latest_order_date": self.latest_order_date.isoformat() if self.latest_order_date else None,
            "freshness_lag_days": self.freshness_lag_days,
            "rejected_files": list(self.rejected_files),
            "breaches": list(self.breaches),
        }


def delivery_date(landing_file: str) -> date | None:
    """The delivery folder's date of a landing-relative path `<source>/<YYYY-MM-DD>/<file>` (None otherwise)."""
    parts = landing_file.split("/")
    try:
        return date.fromisoformat(parts[-2]) if len(parts) >= 3 else None
    except ValueError:
        return None


def _delivered(registry: pa.Table, status: str, *, start: date, end: date) -> list[dict[str, Any]]:
    """The registry rows of `status` whose file was delivered on a date in [start, end]."""
    return [
        row
        for row in registry.to_pylist()
        if row["status"] == status and (day := delivery_date(row["file"])) and start <= day <= end
    ]


def run_batches(registry: pa.Table, *, start: date, end: date) -> set[str]:
    """Batch ids that loaded at least one file delivered on a date in [start, end]."""
    return {row["batch_id"] for row in _delivered(registry, "loaded", start=start, end=end)}


def rejected_files(registry: pa.Table, *, start: date, end: date) -> list[str]:
    """'file (reason)' of every file delivered on a date in [start, end] that bronze rejected whole, by name."""
    rows = _delivered(registry, "rejected", start=start, end=end)
    return sorted(f"{row['file']} ({row.get('reason') or 'no reason recorded'})" for row in rows)


def quarantine_counts(audit: pa.Table, batch_ids: set[str]) -> tuple[int, int]:
    """(bronze_rows, quarantined) summed over the audit rows of `batch_ids`."""
    rows = [r for r in audit.to_pylist() if r["batch_id"] in batch_ids]
    return sum(int(r["bronze_rows"] or 0) for r in rows), sum(int(r["quarantined"] or 0) for r in rows)


def latest_order_date(cfg: Config, *, end: date) -> date | None:
    """The latest order_date on or before `end` that has rows: silver.order_lines is partitioned by order_date,
    so it is the largest partition value of a non-empty file in the Delta log (no data file is read)."""
    import pyarrow.compute as pc

    files = file_partitions(cfg, ORDER_LINES, "order_date")
    if files is None:
        return None
    rows = pc.field("num_records")
    files = files.filter((pc.field("order_date") <= end) & (rows.is_null() | (rows > 0)))  # no stats: may have rows
    return pc.max(files.column("order_date")).as_py() if files.num_rows else None


def check_quality(cfg: Config, *, start: date, end: date, rules: QualitySettings) -> QualityReport:
    """Measure the run's dates against `rules`; the report lists every breach (empty: the gate passes)."""
    breaches: list[str] = []
    registry = read_arrow(cfg, REGISTRY)  # a row per landing file; `reason` came later: older registries lack it
    audit = read_arrow(cfg, AUDIT, columns=["batch_id", "bronze_rows", "quarantined"])
    if registry is None or audit is None:
        batch_ids: set[str] = set()
        breaches.append(f"no ingest audit under {cfg.paths.warehouse} ({REGISTRY}, {AUDIT}): has ingest run?")
    else:
        batch_ids = run_batches(registry, start=start, end=end)
    rejected = rejected_files(registry, start=start, end=end) if registry is not None else []
    if len(rejected) > rules.max_rejected_files:
        more = f" and {len(rejected) - SHOWN_FILES} more" if len(rejected) > SHOWN_FILES else ""
        breaches.append(
            f"{len(rejected)} landing file(s) delivered {start}..{end} rejected whole, none of their rows loaded "
            f"(max_rejected_files {rules.max_rejected_files}): {'; '.join(rejected[:SHOWN_FILES])}{more}"
        )
    bronze_rows, quarantined = quarantine_counts(audit, batch_ids) if audit is not None else (0, 0)
    rate = quarantined / bronze_rows if bronze_rows else 0.0
    if rate > rules.max_quarantine_rate:
        breaches.append(
            f"quarantine rate {rate:.2%} ({quarantined:,} of {bronze_rows:,} rows in {len(batch_ids)} "
            f"batches delivered {start}..{end}) is above max_quarantine_rate "
            f"{rules.max_quarantine_rate:.2%}"
        )
    latest = latest_order_date(cfg, end=end)
    lag = (end - latest).days if latest else None
    if latest is None:
        breaches.append(f"freshness: {ORDER_LINES} has no order_date on or before {end}")
    elif lag is not None and lag > rules.max_freshness_lag_days:
        breaches.append(
            f"freshness: latest {ORDER_LINES}.order_date is {latest}, {lag} days before {end} "
            f"(max_freshness_lag_days {rules.max_freshness_lag_days})"
        )
    report = QualityReport(
        start=start,
        end=end,
        batches=len(batch_ids),
        bronze_rows=bronze_rows,
        quarantined=quarantined,
        quarantine_rate=rate,
        latest_order_date=latest,
        freshness_lag_days=lag,
        rejected_files=rejected,
        breaches=breaches,
    )
    event(
        "quality.check",
        start=start,
        end=end,
        batches=len(batch_ids),
        bronze_rows=bronze_rows,
        quarantined=quarantined,
        rate=round(rate, 4),
        latest_order_date=latest,
        rejected_files=len(rejected),
        breaches=len(breaches),
    )
    return report
