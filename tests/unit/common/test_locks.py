"""Run locks (issue 11, overlapping runs): a second writer of the same tables is refused or waits; a dead holder
never leaves a stale lock; commands map to the locks of what they write."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from jobs.cli import build_parser, lock_name, main
from jobs.common.config import Config
from jobs.common.errors import EXIT_BUSY
from jobs.common.locks import LockBusy, lock_dir, run_lock


def test_a_second_holder_is_refused_naming_the_first_and_the_lock_frees_after(tmp_path: Path) -> None:
    with run_lock(tmp_path, "silver", command="ingest --date 2025-01-02"):
        busy = pytest.raises(LockBusy, match=r"'silver'.*pid \d+, `ingest --date 2025-01-02`, since 20")
        with busy, run_lock(tmp_path, "silver", command="import orders x.csv"):
            pass
        with run_lock(tmp_path, "build-gold", command="build gold"):  # another family: runs alongside
            pass
    with run_lock(tmp_path, "silver", command="import orders x.csv"):
        pass


def test_a_waiting_run_gets_the_lock_when_the_holder_ends(tmp_path: Path) -> None:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with run_lock(tmp_path, "score", command="score all"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    threading.Timer(1.0, release.set).start()
    started = time.monotonic()
    with run_lock(tmp_path, "score", command="score churn", wait_seconds=20):
        waited = time.monotonic() - started
    thread.join()
    assert 0.5 < waited < 10


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    code = (
        "import sys, time; from jobs.common.locks import run_lock\n"
        f"with run_lock({str(tmp_path)!r}, 'silver', command='ingest'):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy, match=f"pid {child.pid}"), run_lock(tmp_path, "silver", command="ingest"):
            pass
    finally:
        child.kill()
        child.wait()
    with run_lock(tmp_path, "silver", command="ingest"):
        assert (lock_dir(tmp_path) / "silver.lock").exists()


@pytest.mark.parametrize(
    ("argv", "lock"),
    [
        (["ingest"], "silver"),
        (["import", "orders", "f.csv", "--map", "order_id=id"], "silver"),
        (["build", "gold"], "build-gold"),
        (["build", "features"], "build-features"),
        (["train", "churn", "--as-of", "2025-03-01"], "train"),
        (["score", "all", "--as-of", "2025-03-01"], "score"),
        (["privacy", "forget", "--customer", "C1"], "silver"),  # it deletes from bronze and silver
        (["privacy", "vacuum"], "silver"),
        (["tables"], None),
        (["export", "gold.rfm", "--out", "x.csv"], None),
    ],
)
def test_each_writing_command_holds_the_lock_of_what_it_writes(argv: list[str], lock: str | None) -> None:
    assert lock_name(build_parser().parse_args(argv)) == lock


def test_a_refused_command_exits_busy_with_one_line_and_writes_nothing(
    cfg: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_lock(cfg.home, "silver", command="ingest"):
        assert main(["ingest"]) == EXIT_BUSY
        assert main(["import", "orders", "missing.csv", "--map", "order_id=id"]) == EXIT_BUSY
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("another run holds the lock 'silver'" in line for line in err)
    assert not Path(cfg.paths.warehouse).exists()
