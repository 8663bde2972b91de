"""The project's code as one zip for the executors (conf `spark.ship_code`).

`omnilake-<version>-<hash>.zip` holds jobs/ and ml/ (.py and .yaml files) under `paths.code_archives`; the hash is
of those files' paths and contents, and every entry has a fixed timestamp, so the same code gives the same file
name and bytes. `make setup` builds it (`python -m jobs.common.codeship DIR`); the session factory builds it again
only when the code changed, then ships it with SparkContext.addPyFile, and spark-submit steps pass it with
--py-files. Executors put it on sys.path: they import the project from it, never from the driver's disk.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import zipfile
from pathlib import Path

from jobs.common.config import PROJECT_ROOT

PACKAGES = ("jobs", "ml")
SUFFIXES = (".py", ".yaml")
KEEP = 3  # older archives kept beside the newest (a running application may still be fetching one)
_EPOCH = (1980, 1, 1, 0, 0, 0)


def source_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """The files shipped, relative to `root`, in a stable order."""
    found = (
        path.relative_to(root)
        for package in PACKAGES
        for path in (root / package).rglob("*")
        if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts
    )
    return sorted(found, key=lambda p: p.as_posix())


def code_archive(out_dir: str | os.PathLike[str], root: Path = PROJECT_ROOT) -> Path:
    """The archive of the current code under `out_dir`, built (atomically) when no archive of it exists yet."""
    files = source_files(root)
    digest = hashlib.sha256()
    contents = []
    for rel in files:
        data = (root / rel).read_bytes()
        contents.append((rel.as_posix(), data))
        digest.update(rel.as_posix().encode() + b"\0" + hashlib.sha256(data).digest())
    out = Path(out_dir)
    path = out / f"omnilake-{_version()}-{digest.hexdigest()[:12]}.zip"
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".omnilake-", suffix=".zip.tmp")
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in contents:
                entry = zipfile.ZipInfo(name, date_time=_EPOCH)
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _prune(out, keep=path)
    return path


def _prune(out: Path, *, keep: Path) -> None:
    older = sorted((p for p in out.glob("omnilake-*.zip") if p != keep), key=lambda p: p.stat().st_mtime)
    for stale in older[: max(0, len(older) - KEEP)]:
        stale.unlink(missing_ok=True)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("omnilake")
    except PackageNotFoundError:
        return "0"


if __name__ == "__main__":  # make setup: python -m jobs.common.codeship DIR
    print(code_archive(sys.argv[1] if len(sys.argv) > 1 else PROJECT_ROOT / ".cache" / "dist"))
