"""`omnilake generate` as a function: the config's generator defaults overridden by the caller's values.

The command line and the demo both call it, so neither has to go through the other."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from jobs.common.config import Config
from jobs.common.log import event, stage
from jobs.generate import generate
from jobs.generate.params import GenerateParams


def generate_landing(
    cfg: Config,
    *,
    customers: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    out: str | None = None,
) -> str:
    """Write the landing files (default folder: paths.landing); return the one-line summary the command prints."""
    d = cfg.generate
    params = GenerateParams(
        customers=customers or d.customers,
        days=days or d.days,
        seed=d.seed if seed is None else seed,
        start_date=date.fromisoformat(d.start_date),
        stores=d.stores,
        skus=d.skus,
        dirt_rate=d.dirt_rate,
        taste_strength=d.taste_strength,
        taste_groups=d.taste_groups,
    )
    folder = Path(out or cfg.paths.landing)
    with stage("generate", customers=params.customers, days=params.days, out=str(folder)):
        manifest = generate(folder, params, progress=lambda msg: event("generate.progress", msg=msg))
    skipped = f", {len(manifest['dirt_skipped'])} skipped: dirt_skipped" if manifest.get("dirt_skipped") else ""
    return (
        f"generated {params.customers} customers x {params.days} days into {folder} "
        f"({len(manifest['dirt'])} planted dirt rows{skipped}; manifest: {folder / '_manifest.json'})"
    )
