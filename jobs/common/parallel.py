"""Independent Spark actions of one run (one per source or per table) submitted from a few driver threads.

A small batch spends most of its wall time in driver-side work that does not use the cores: planning, the
Delta log, the commit. Submitting independent tables' jobs from several threads overlaps that overhead;
Spark schedules the concurrent jobs' tasks on the same executors. Results keep the order of the inputs and
the first failure is raised (after the other calls finished, so no commit is left half-observed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_parallel(fn: Callable[[T], R], items: Iterable[T], *, workers: int) -> list[R]:
    """[fn(item) for item in items], run on up to `workers` threads (1: in this thread, in order)."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="omnilake") as pool:
        futures = [pool.submit(fn, item) for item in items]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]
