"""Run locks: one writer per table family and omnilake home at a time (issue 11, overlapping runs).

`ingest` and `import` share the lock `silver` (both number bronze batches, write the file registry and merge
silver); `build gold`, `build features`, `train` and `score` each have their own, so scoring during a build runs
(each reads committed Delta versions, and they write different tables) while a second build of the same layer
is refused. A refused command prints one line naming the holder (pid, command, since when) and exits with
EXIT_BUSY; it changed nothing. `orchestration.lock_wait_seconds` lets a command wait for the lock first.

The locks are `flock` locks on files under `<home>/run/locks`: the kernel releases them when their process ends,
however it ends (a SIGKILLed run never leaves a stale lock). They hold for processes on one host sharing the
home, which is what the local deployment and the warm runner are; the runner takes them per command, as a
separate process would.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

POLL_SECONDS = 0.5


class LockBusy(Exception):
    """Another run holds the lock this command needs."""


def lock_dir(home: str | Path) -> Path:
    return Path(home) / "run" / "locks"


def holder(path: Path) -> str:
    """Who holds the lock at `path`, as its holder wrote it (pid, command, since)."""
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "unknown holder"
    return f"pid {info.get('pid', '?')}, `{info.get('command', '?')}`, since {info.get('since', '?')}"


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def run_lock(home: str | Path, name: str, *, command: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold lock `name` of `home` for the block; raise LockBusy if another run still holds it after
    `wait_seconds`."""
    path = lock_dir(home) / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                waited = f" (waited {wait_seconds:g} s)" if wait_seconds else ""
                raise LockBusy(f"another run holds the lock {name!r} of {home}: {holder(path)}{waited}")
            time.sleep(POLL_SECONDS)
        try:
            handle.seek(0)
            handle.truncate()
            since = datetime.now(UTC).isoformat(timespec="seconds")
            handle.write(json.dumps({"pid": os.getpid(), "command": command, "since": since}))
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
