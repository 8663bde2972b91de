"""The PII tokenization key: $OMNILAKE_PII_KEY, else <secrets>/pii.key (created once, 0600, outside git)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from jobs.common.config import Config

KEY_ENV = "OMNILAKE_PII_KEY"


def pii_key(cfg: Config) -> bytes:
    """The keyed-hash secret. Cluster deployments set OMNILAKE_PII_KEY (or mount the secrets folder)."""
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode()
    path = Path(cfg.paths.secrets) / "pii.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
