"""The PII key: generated once (0600 in a 0700 folder), validated, and pinned to the lake by its fingerprint."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from jobs.common.config import Config
from jobs.common.secrets import KEY_ENV, MIN_KEY_CHARS, PiiKeyError, fingerprint, fingerprint_path, pii_key


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_generated_key_is_private_and_its_fingerprint_recorded(cfg: Config, monkeypatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    key = pii_key(cfg)
    path = Path(cfg.paths.secrets) / "pii.key"
    assert len(key) == 64 and path.read_text().encode() == key
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    recorded = fingerprint_path(cfg)
    assert recorded.read_text().strip() == fingerprint(key) and _mode(recorded.parent) == 0o700
    assert key.hex() not in recorded.read_text() and key.decode() not in recorded.read_text()
    assert pii_key(cfg) == key  # the same key on every later use


@pytest.mark.parametrize("value", ["", "   ", "short-key", "x" * (MIN_KEY_CHARS - 1)])
def test_an_empty_or_short_key_is_refused(cfg: Config, monkeypatch, value: str) -> None:
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(PiiKeyError, match=rf"\${KEY_ENV} has {len(value.strip())} characters, fewer than 32"):
        pii_key(cfg)
    assert not fingerprint_path(cfg).exists()  # nothing recorded for a refused key


def test_another_key_on_the_same_lake_stops_with_both_fingerprints(cfg: Config, monkeypatch) -> None:
    first, second = "a" * MIN_KEY_CHARS, "b" * MIN_KEY_CHARS
    monkeypatch.setenv(KEY_ENV, f"  {first}\n")  # trimmed: the same key as without the white space
    assert pii_key(cfg) == first.encode()
    monkeypatch.setenv(KEY_ENV, second)
    with pytest.raises(PiiKeyError) as err:
        pii_key(cfg)
    message = str(err.value)
    assert fingerprint(second.encode())[:12] in message and fingerprint(first.encode())[:12] in message
    assert str(fingerprint_path(cfg)) in message and second not in message
    assert fingerprint_path(cfg).read_text().strip() == fingerprint(first.encode())  # the record is unchanged
    monkeypatch.setenv(KEY_ENV, first)
    assert pii_key(cfg) == first.encode()
