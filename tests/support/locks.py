"""Waiting for another process to hold a run lock (jobs/common/locks.py), for the overlap tests."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path


def holder_pid(lock: Path) -> int | None:
    """The pid the lock file's holder wrote, or None (no file yet, or being written)."""
    try:
        return json.loads(lock.read_text() or "{}").get("pid")
    except (OSError, ValueError):
        return None


def wait_until_held(lock: Path, proc: subprocess.Popen, *, timeout_s: float = 120) -> None:
    """Return once `proc` holds `lock`; fail if it ends or the timeout passes first."""
    deadline = time.monotonic() + timeout_s
    while holder_pid(lock) != proc.pid:
        assert proc.poll() is None and time.monotonic() < deadline, f"pid {proc.pid} never took {lock.name}"
        time.sleep(0.2)
