"""Test configs: the `test` env rooted at a folder of the test's own."""

from __future__ import annotations

from pathlib import Path

from jobs.common.config import Config, load_config


def make_config(home: Path, **overrides: str) -> Config:
    """A test config rooted at `home`; overrides are OMNILAKE__SECTION__KEY style pairs."""
    environ = {"OMNILAKE_ENV": "test", "OMNILAKE_HOME": str(home), **overrides}
    return load_config(environ=environ)
