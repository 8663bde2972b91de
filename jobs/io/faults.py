"""Fault injection for the reliability tests (issue 11): kill the process right after its Nth table commit."""

from __future__ import annotations

import logging
import os
import signal

from jobs.common.log import event

_COMMITS = [0]
FAULT_ENV = "OMNILAKE_FAULT_KILL_AFTER_COMMITS"


def after_commit(name: str) -> None:
    """Fault injection for the reliability tests: with OMNILAKE_FAULT_KILL_AFTER_COMMITS=N set, this process kills
    itself (SIGKILL: no clean-up, as a lost machine) right after its Nth table commit. Unset, it only counts."""
    _COMMITS[0] += 1
    limit = os.environ.get(FAULT_ENV)
    if limit and _COMMITS[0] >= int(limit):
        event("fault.kill", level=logging.WARNING, table=name, commits=_COMMITS[0])
        logging.shutdown()
        os.kill(os.getpid(), signal.SIGKILL)
