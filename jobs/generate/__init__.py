"""Synthetic omni-channel retail landing zone (layout: docs/landing.md) with a ground-truth manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .dirt import plant
from .manifest import build_manifest
from .matches import fill_matches, harvest_pii
from .params import GenerateParams
from .render_misc import render_misc
from .render_orders import render_orders
from .specs import SPECS
from .world import build_world
from .writers import clear, copy_file, write_source

__all__ = ["GenerateParams", "generate"]


def generate(out_dir: Path, params: GenerateParams, *, progress: Callable[[str], None] | None = None) -> dict:
    """Write landing files + out_dir/_manifest.json; return the manifest dict."""
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    world = build_world(params)
    say(f"simulated: {len(world.orders):,} orders, {len(world.lines):,} order lines")
    rendered = {**render_misc(world), **render_orders(world)}
    frames = {name: rendered[name] for name in SPECS}
    plan = plant(world.cal, params.seed, params.dirt_rate, frames)
    fill_matches(plan.entries, frames, plan.extra_columns)
    say(f"dirt: {len(plan.entries):,} entries")
    out_dir.mkdir(parents=True, exist_ok=True)
    clear(out_dir)
    for name, frame in frames.items():
        write_source(out_dir, name, frame, plan.extra_columns.get(name), say)
    for original, copy in plan.copies:
        copy_file(out_dir, original, copy)
    manifest = build_manifest(world, harvest_pii(frames), plan.entries, plan.skipped)
    text = json.dumps(manifest, indent=1, ensure_ascii=False)
    (out_dir / "_manifest.json").write_bytes((text + "\n").encode("utf-8"))
    skipped = f", {len(plan.skipped)} skipped (dirt_skipped)" if plan.skipped else ""
    say(f"manifest: {manifest['truth']['persons']:,} persons, {len(manifest['dirt']):,} dirt entries{skipped}")
    return manifest
