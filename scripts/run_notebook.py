"""Run a notebook's code cells headless, without Jupyter: `python scripts/run_notebook.py NOTEBOOK`.

The code cells run in order in one namespace with plain `exec`; as in a notebook, the value of a cell's last
expression (when not None) is printed after the cell's own output. Markdown cells and stored outputs are ignored.
Exit status 0 when every cell ran; 1 with the traceback and the failing cell's number (counted over code cells,
from 1) on an exception; 2 for a file that is not a notebook. The project root is put on sys.path, so the
notebooks under notebooks/ import `jobs` even when the package is not installed.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import json
import linecache
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def code_cells(notebook: dict[str, Any]) -> list[str]:
    """The source of every code cell, in order (nbformat 4: `source` is a string or a list of lines)."""
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append(source if isinstance(source, str) else "".join(source))
    return cells


def run_cell(source: str, namespace: dict[str, Any], filename: str) -> None:
    """exec the cell; then eval its last statement when it is an expression and print a non-None value."""
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)  # tracebacks
    tree = ast.parse(source, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
        if value is not None:
            print(repr(value))


def run_notebook(path: Path) -> int:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = code_cells(notebook)
    except (OSError, ValueError, AttributeError) as exc:
        print(f"run_notebook: {path}: not a readable notebook: {exc}", file=sys.stderr)
        return 2
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
    started = time.monotonic()
    for number, source in enumerate(cells, start=1):
        print(f"--- [cell {number}/{len(cells)}] ---", flush=True)
        began = time.monotonic()
        try:
            run_cell(source, namespace, f"<{path.name} cell {number}>")
        except BaseException as exc:  # SystemExit / KeyboardInterrupt in a cell fail the run too
            sys.stdout.flush()
            traceback.print_exc()
            print(
                f"run_notebook: {path}: code cell {number} of {len(cells)} failed after "
                f"{time.monotonic() - began:.1f} s: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
            return 1
        sys.stdout.flush()
    print(f"--- {len(cells)} code cells ran in {time.monotonic() - started:.1f} s ---")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_notebook.py", description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, help="an .ipynb file (nbformat 4)")
    args = parser.parse_args(argv)
    return run_notebook(args.notebook)


def exit_now(code: int) -> None:
    """Exit with `code` after the Python exit handlers, skipping the native teardown: delta-rs / Arrow thread
    pools abort the interpreter's finalisation now and then (`terminate called without an active exception`,
    status 134, seen in about 1 run in 10 with deltalake 1.6 + pyarrow 25), which would turn a good run red."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
