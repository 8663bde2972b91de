"""`python -m jobs <args>` is `omnilake <args>`; it is also the spark-submit application of every Spark task
(`spark-submit jobs/__main__.py <omnilake args>` runs the command in the driver and exits with its status, and a
non-zero status fails the Airflow task). An entry point like the console script: no module imports it."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main() -> int:
    # Run as a script, Python puts this file's folder (jobs/) first on sys.path, where jobs/io would shadow the
    # standard library's io; the repository root is where `jobs` and `ml` are imported from.
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if p and Path(p).resolve() != HERE]
    from jobs.cli import main as omnilake

    return omnilake(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
