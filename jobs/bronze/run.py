"""Entry point of the bronze step of `omnilake ingest`: every landing source's new files -> bronze.<source>, then
one file-registry commit for the run (after every bronze commit; see jobs/bronze/ingest.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from jobs.bronze.csvlines import staging_area
from jobs.bronze.ingest import REGISTRY, ingest_source, read_registry
from jobs.common.config import Config
from jobs.common.log import stage
from jobs.common.parallel import map_parallel
from jobs.common.spark import build_spark
from jobs.io.schemas import ddl
from jobs.io.tables import Catalog
from jobs.sources.contracts import load_contracts
from jobs.sources.specs import LANDING, SPECS


def run_bronze(cfg: Config, *, landing: Path | None = None, up_to: date | None = None) -> int:
    """Load the new files of every landing source, in load order, up to delivery date `up_to` (all when None);
    returns the number of files registered (loaded or duplicate content)."""
    spark = build_spark(cfg)
    catalog = Catalog.from_config(spark, cfg)
    specs = [s for s in SPECS if s.origin == LANDING]
    contracts = load_contracts(cfg.ingest.contracts_dir, specs)
    landing = Path(landing or cfg.paths.landing)
    with stage("ingest.bronze") as info, staging_area(cfg.home) as staging:
        registered = read_registry(catalog)

        def load(name: str) -> list[tuple]:
            return ingest_source(
                spark, catalog, contracts[name], landing, up_to=up_to, registered=registered, staging=staging
            )

        # each source appends to its own bronze table: independent commits, submitted concurrently
        per_source = map_parallel(load, [s.name for s in specs], workers=cfg.ingest.parallel_tables)
        rows = [row for source_rows in per_source for row in source_rows]
        if rows:
            # schema_evolution: registries from before the reason column gain it
            rows_df = spark.createDataFrame(rows, ddl(REGISTRY))
            catalog.merge(rows_df, REGISTRY, ["source", "file"], schema_evolution=True)
        info["files"] = len(rows)
    return len(rows)
