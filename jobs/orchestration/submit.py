"""The spark-submit application of every Spark task: `spark-submit jobs/orchestration/submit.py <omnilake args>`
runs `omnilake <args>` in the driver and exits with its status (non-zero fails the Airflow task)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> int:
    # Python puts this script's folder first on sys.path; modules there must not shadow top-level names,
    # and the repository root is where `jobs` and `ml` are imported from.
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if p and Path(p).resolve() != HERE]
    from jobs.cli import main as omnilake

    return omnilake(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
