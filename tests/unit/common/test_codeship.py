from __future__ import annotations

import zipfile
from pathlib import Path

from jobs.common.codeship import KEEP, code_archive, source_files


def _project(root: Path) -> Path:
    for rel, text in {
        "jobs/__init__.py": "",
        "jobs/common/util.py": "X = 1\n",
        "jobs/conf.yaml": "a: 1\n",
        "jobs/notes.md": "not shipped\n",
        "ml/__init__.py": "",
        "scripts/tool.py": "not shipped\n",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_archive_holds_the_packages_python_and_yaml_files_only(tmp_path: Path) -> None:
    root = _project(tmp_path / "src")
    archive = code_archive(tmp_path / "dist", root)
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == ["jobs/__init__.py", "jobs/common/util.py", "jobs/conf.yaml", "ml/__init__.py"]
        assert z.read("jobs/common/util.py") == b"X = 1\n"
    assert [p.as_posix() for p in source_files(root)] == sorted(z.namelist())


def test_same_code_same_archive_changed_code_new_archive(tmp_path: Path) -> None:
    root = _project(tmp_path / "src")
    first = code_archive(tmp_path / "dist", root)
    data = first.read_bytes()
    first.unlink()
    again = code_archive(tmp_path / "dist", root)
    assert again == first and again.read_bytes() == data  # fixed entry times: the same bytes
    (root / "jobs/common/util.py").write_text("X = 2\n")
    changed = code_archive(tmp_path / "dist", root)
    assert changed != first and changed.exists() and first.exists()


def test_old_archives_are_pruned_to_a_few(tmp_path: Path) -> None:
    root = _project(tmp_path / "src")
    for i in range(KEEP + 3):
        (root / "jobs/common/util.py").write_text(f"X = {i}\n")
        newest = code_archive(tmp_path / "dist", root)
    left = sorted((tmp_path / "dist").glob("omnilake-*.zip"))
    assert len(left) == KEEP + 1 and newest in left
    assert not list((tmp_path / "dist").glob(".omnilake-*"))  # no temporary file left
