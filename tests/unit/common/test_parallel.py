"""map_parallel: the results of a sequential map, in input order, with the first failure raised."""

from __future__ import annotations

import threading
import time

import pytest

from jobs.common.parallel import map_parallel


def test_results_keep_input_order_and_run_on_several_threads() -> None:
    threads: set[str] = set()

    def slow_square(n: int) -> int:
        threads.add(threading.current_thread().name)
        time.sleep(0.05 * (5 - n))  # later items finish first
        return n * n

    assert map_parallel(slow_square, range(5), workers=3) == [0, 1, 4, 9, 16]
    assert len(threads) > 1


def test_one_worker_runs_in_the_calling_thread() -> None:
    names = map_parallel(lambda _: threading.current_thread().name, [1, 2], workers=1)
    assert names == [threading.current_thread().name] * 2


def test_a_failure_is_raised_after_every_call_finished() -> None:
    done: list[int] = []

    def work(n: int) -> int:
        if n == 1:
            raise ValueError("item 1 failed")
        time.sleep(0.1)
        done.append(n)
        return n

    with pytest.raises(ValueError, match="item 1 failed"):
        map_parallel(work, [0, 1, 2, 3], workers=4)
    assert sorted(done) == [0, 2, 3]
