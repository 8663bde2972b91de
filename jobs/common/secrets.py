"""The PII tokenization key: $OMNILAKE_PII_KEY, else <secrets>/pii.key (created once, 0600, outside git).

The key is checked before use: at least MIN_KEY_CHARS characters after trimming, and the same key the lake's
tokens were made with. The first use records its fingerprint (an HMAC of a fixed label under the key: it tells
keys apart and reveals nothing of the key) in <warehouse>/restricted/pii_key.fingerprint; a later run with another
key stops with PiiKeyError instead of giving every returning customer a second identity.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from jobs.common.config import Config
from jobs.common.errors import UserError

KEY_ENV = "OMNILAKE_PII_KEY"
MIN_KEY_CHARS = 32  # a generated key has 64 hex characters (256 bits); 32 is the floor for one of your own
FINGERPRINT_FILE = "pii_key.fingerprint"
_FINGERPRINT_LABEL = b"omnilake pii key fingerprint v1"


class PiiKeyError(UserError):
    """The PII key is missing, too short, or not the key this lake's tokens were made with."""


def pii_key(cfg: Config) -> bytes:
    """The keyed-hash secret, validated and checked against the lake's recorded fingerprint. Cluster deployments
    set OMNILAKE_PII_KEY (or mount the secrets folder)."""
    if os.environ.get(KEY_ENV) is not None:
        key, where = os.environ[KEY_ENV], f"${KEY_ENV}"
    else:
        path = Path(cfg.paths.secrets) / "pii.key"
        _create_key(path)
        key, where = path.read_text(), str(path)
    key = key.strip()
    if len(key) < MIN_KEY_CHARS:
        raise PiiKeyError(
            f"the PII key in {where} has {len(key)} characters, fewer than {MIN_KEY_CHARS}: use a random key "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    raw = key.encode()
    check_fingerprint(cfg, raw, where=where)
    return raw


def fingerprint(key: bytes) -> str:
    return hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]


def fingerprint_path(cfg: Config) -> Path:
    return Path(cfg.paths.warehouse) / "restricted" / FINGERPRINT_FILE


def check_fingerprint(cfg: Config, key: bytes, *, where: str) -> None:
    """Record `key`'s fingerprint in the lake on first use; afterwards, PiiKeyError for any other key."""
    path = fingerprint_path(cfg)
    mine = fingerprint(key)
    if not path.exists() and _write_once(path, mine + "\n"):
        return
    recorded = path.read_text().strip()
    if recorded != mine:
        raise PiiKeyError(
            f"the PII key in {where} (fingerprint {mine[:12]}) is not the key this lake's tokens were made with "
            f"(fingerprint {recorded[:12]}, recorded in {path}): every customer would get a second identity. "
            "Restore the original key; to start over with a new key, the lake must be rebuilt from its sources"
        )


def private_dir(path: Path) -> Path:
    """`path` (and missing parents) created mode 0700, and `path` itself set to 0700: a restricted folder."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def _create_key(path: Path) -> None:
    if not path.exists():
        _write_once(path, secrets.token_hex(32))


def _write_once(path: Path, text: str) -> bool:
    """Create `path` (0600, in a 0700 folder) holding `text`; False when it exists already (a concurrent first run
    created it: the caller reads what that one wrote)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return True
