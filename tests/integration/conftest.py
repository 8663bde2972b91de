"""Generated and ingested homes, each made once per session: a test copies one into its own home instead of
generating and ingesting the same small business again (a first ingest is most of such a test's time)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from jobs.cli import main

Template = Callable[..., Path]


@pytest.fixture(scope="session")
def ingested_template(spark, tmp_path_factory: pytest.TempPathFactory) -> Template:
    """template(customers=, days=, seed=) -> a home with that business generated and ingested (`omnilake generate`
    then `omnilake ingest`), made on first use. Read-only: copy it with seed_home."""
    made: dict[tuple[int, int, int], Path] = {}

    def template(*, customers: int, days: int, seed: int) -> Path:
        key = (customers, days, seed)
        if key not in made:
            home = tmp_path_factory.mktemp(f"ingested_{customers}x{days}_seed{seed}") / "home"
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("OMNILAKE_ENV", "test")
                mp.setenv("OMNILAKE_HOME", str(home))
                generate = ["generate", "--customers", str(customers), "--days", str(days), "--seed", str(seed)]
                assert main(generate) == 0
                assert main(["ingest"]) == 0
            made[key] = home
        return made[key]

    return template


@pytest.fixture()
def seed_home(ingested_template: Template, tmp_path: Path) -> Callable[..., Path]:
    """seed_home(customers=, days=, seed=, home=tmp_path/'home') copies that ingested business into `home` (the
    `cfg` fixture's home by default) and returns it. Delta logs hold relative paths: the copy is a working home."""

    def seed(*, home: Path | None = None, **business: int) -> Path:
        target = home or tmp_path / "home"
        shutil.copytree(ingested_template(**business), target, dirs_exist_ok=True, symlinks=True)
        return target

    return seed
