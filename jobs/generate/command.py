"""`omnilake generate` as a function: the config's generator defaults overridden by the caller's values.

The command line and the demo both call it, so neither has to go through the other."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from jobs.common.config import Config
from jobs.common.errors import UserError
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
    drift_from: date | None = None,
) -> str:
    """Write the landing files (default folder: paths.landing); return the one-line summary the command prints.
    `drift_from` (default: generate.drift.date) plants the drift of generate.drift from that date on."""
    d = cfg.generate
    start = date.fromisoformat(d.start_date)
    n_days = days or d.days
    drift = drift_from or d.drift.date
    if drift is not None and not 0 <= (drift - start).days < n_days:
        end = start + timedelta(days=n_days - 1)
        raise UserError(f"drift date {drift} is outside the generated period {start} .. {end}")
    params = GenerateParams(
        customers=customers or d.customers,
        days=n_days,
        seed=d.seed if seed is None else seed,
        start_date=start,
        stores=d.stores,
        skus=d.skus,
        dirt_rate=d.dirt_rate,
        taste_strength=d.taste_strength,
        taste_groups=d.taste_groups,
        drift_day=None if drift is None else (drift - start).days,
        drift_channel=d.drift.channel,
        drift_traffic=d.drift.traffic_factor,
        drift_price=d.drift.price_factor,
    )
    folder = Path(out or cfg.paths.landing)
    with stage("generate", customers=params.customers, days=params.days, out=str(folder)):
        manifest = generate(folder, params, progress=lambda msg: event("generate.progress", msg=msg))
    skipped = f", {len(manifest['dirt_skipped'])} skipped: dirt_skipped" if manifest.get("dirt_skipped") else ""
    planted = manifest["truth"].get("drift")
    drifted = (
        f"; drift from {planted['date']}: prices x{planted['price_factor']:g}, "
        f"{planted['channel']} traffic x{planted['traffic_factor']:g}"
        if planted
        else ""
    )
    return (
        f"generated {params.customers} customers x {params.days} days into {folder} "
        f"({len(manifest['dirt'])} planted dirt rows{skipped}{drifted}; manifest: {folder / '_manifest.json'})"
    )
