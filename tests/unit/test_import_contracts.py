"""The import contracts in .importlinter (README "Code map"): kept on this checkout, and able to fail."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from jobs.common.config import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONTRACTS = {"layers", "cli", "transforms", "generate"}


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", ".importlinter", "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_contract_is_kept() -> None:
    done = _lint(PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout


def test_the_contracts_are_the_documented_ones() -> None:
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / ".importlinter")
    prefix = "importlinter:contract:"
    found = {s.removeprefix(prefix) for s in config.sections() if s.startswith(prefix)}
    assert found == CONTRACTS
    layers = [line.strip("() ") for line in config["importlinter:contract:layers"]["layers"].split()]
    assert layers == [
        "jobs.cli",
        "jobs.orchestration",
        "ml",
        "jobs.features",
        "jobs.gold",
        "jobs.imports",
        "jobs.silver",
        "jobs.bronze",
        "jobs.sources",
        "jobs.io",
        "jobs.common",
    ]


def test_a_lower_layer_importing_a_higher_one_breaks_the_build(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "high.py").write_text("")
    (package / "low.py").write_text("from shop import high\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_packages =\n    shop\n\n"
        "[importlinter:contract:layers]\nname = layers\ntype = layers\nlayers =\n    shop.high\n    shop.low\n"
    )
    done = _lint(tmp_path)
    assert done.returncode == 1 and "shop.low is not allowed to import shop.high" in done.stdout
