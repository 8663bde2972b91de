"""Read-only views of the lake for the analyst notebooks (notebooks/*.ipynb): delta-rs + Arrow + pandas, no Spark.

A table that is not built yet prints a one-line `not built yet: run ...` hint instead of failing, so every notebook
also runs on a fresh lake; reads are bounded by partition filters and aggregated in Arrow before pandas. Nothing
here writes, and opening a lake creates nothing in it.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from jobs.common.config import PROJECT_ROOT, Config, load_config
from jobs.io.lake import exists as table_exists
from jobs.io.lake import lake_path

MODEL_OF = {
    "gold.customer_ltv": "ltv",
    "gold.churn_scores": "churn",
    "gold.demand_forecast": "demand",
    "gold.demand_forecast_levels": "demand",
    "gold.recommendations": "recommend",
}


def build_hint(name: str) -> str:
    """The command that creates table `name` (`omnilake demo` builds everything)."""
    if name in MODEL_OF:
        m = MODEL_OF[name]
        return f"omnilake train {m} --as-of D && omnilake score {m} --as-of D"
    if name.startswith("features."):
        return "omnilake build features"
    return "omnilake ingest && omnilake build gold"


def pct(share: float) -> str:
    """to_string formatter for shares and rates."""
    return f"{share:.1%}"


class LakeView:
    """The warehouse of `cfg`, opened table by table."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.warehouse = Path(cfg.paths.warehouse)

    def exists(self, name: str) -> bool:
        return table_exists(self.cfg, name)

    def open(self, name: str) -> DeltaTable | None:
        """The Delta table `zone.table`, or None after a one-line hint when it has not been built yet."""
        if not self.exists(name):
            print(f"{name}: not built yet: run `{build_hint(name)}`")
            return None
        try:
            return DeltaTable(str(lake_path(self.cfg, name)))
        except Exception as exc:  # e.g. a first write that was interrupted before its commit
            print(f"{name}: unreadable ({type(exc).__name__}: {exc}); rebuild it: `{build_hint(name)}`")
            return None

    def pick_horizon(self, frame: pd.DataFrame, model: str) -> tuple[pd.DataFrame, int | None]:
        """The rows of conf `ml.<model>.horizon_days` (else of the shortest horizon scored)."""
        horizons = sorted(frame["horizon_days"].dropna().unique().tolist())
        if not horizons:
            return frame, None
        wanted = self.cfg.ml.model(model).horizon_days
        h = wanted if wanted in horizons else horizons[0]
        return frame[frame["horizon_days"] == h], h

    def scored_horizon(self, dt: DeltaTable, as_of: date, model: str) -> int | None:
        """pick_horizon for a model table's partition `as_of`, reading only its horizon_days column."""
        scored = pc.unique(read(dt, [("as_of", "=", as_of)], ["horizon_days"]).column("horizon_days")).to_pylist()
        horizons = sorted(h for h in scored if h is not None)
        wanted = self.cfg.ml.model(model).horizon_days
        return wanted if wanted in horizons else (horizons[0] if horizons else None)

    def freshness(self, dated: dict[str, str]) -> pd.DataFrame:
        """Per table (name -> its date partition column): partitions, first and latest date, or why there are none.
        Prints no hint: the sections that read the tables do."""
        rows = []
        for name, column in dated.items():
            dt = self.open(name) if self.exists(name) else None
            dates = partition_dates(dt, column) if dt is not None else []
            state = "not built yet" if not self.exists(name) else "unreadable" if dt is None else "no rows"
            rows.append(
                {
                    "table": name,
                    "partitioned_by": column,
                    "partitions": len(dates),
                    "first": dates[0] if dates else "-",
                    "latest": dates[-1] if dates else state,
                }
            )
        return pd.DataFrame(rows)

    def describe(self) -> str:
        return f"lake {self.cfg.home} (OMNILAKE_ENV={self.cfg.env}); warehouse {self.warehouse}"


def open_lake() -> LakeView:
    """The lake of OMNILAKE_HOME / OMNILAKE_ENV (unset: the checkout's .omnilake, where `make demo` writes), with
    the pandas display options the notebooks print with."""
    os.environ.setdefault("OMNILAKE_HOME", str(PROJECT_ROOT / ".omnilake"))
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.float_format", "{:,.2f}".format)
    return LakeView(load_config())


def partition_dates(dt: DeltaTable, column: str) -> list[date]:
    """The values of a date partition column, sorted, from the Delta log (no data file is read)."""
    return sorted({date.fromisoformat(p[column]) for p in dt.partitions() if p.get(column)})


def latest(dt: DeltaTable, column: str = "as_of", until: date | None = None) -> date | None:
    """The newest partition date (on or before `until` when given)."""
    dates = [d for d in partition_dates(dt, column) if until is None or d <= until]
    return dates[-1] if dates else None


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Decimal (money) columns as float64, so pandas sums and formats them as numbers."""
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, pc.cast(table.column(i), pa.float64()))
    return table.to_pandas()


def read(dt: DeltaTable, filters: list, columns: list[str] | None = None) -> pa.Table:
    """A filtered read: the partition filters prune the files delta-rs opens."""
    return dt.to_pyarrow_table(columns=columns, filters=filters)
