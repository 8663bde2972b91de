"""The analyst notebooks (notebooks/*.ipynb) and their headless runner (scripts/run_notebook.py).

On an empty lake every section of every notebook prints a `not built yet` hint and the run succeeds: no Spark, no
Jupyter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "retail_overview.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RUNNER = ROOT / "scripts" / "run_notebook.py"
# the table each section reads first: its hint must appear on an empty lake
SECTION_TABLES = (
    "gold.customer_360",
    "gold.rfm_segments",
    "gold.daily_sales",
    "gold.sku_matrix",
    "gold.sell_through",
    "gold.alerts",
    "gold.churn_scores",
    "gold.customer_ltv",
    "gold.demand_forecast_levels",
    "gold.recommendations",
)
# per notebook, the table each section reads first: exactly one hint each on an empty lake
NOTEBOOK_SECTIONS = {
    "retail_overview.ipynb": SECTION_TABLES,
    "customer_analytics.ipynb": (
        "gold.rfm_segments",
        "gold.cohort_retention",
        "gold.customer_ltv",
        "gold.churn_scores",
    ),
    "demand_inventory.ipynb": ("gold.demand_forecast_levels", "gold.inventory_health", "gold.sell_through"),
}


def run(notebook: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNILAKE")}
    env.update(OMNILAKE_HOME=str(home), OMNILAKE_ENV="test")
    return subprocess.run(
        [sys.executable, str(RUNNER), str(notebook)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_notebook_runs_on_an_empty_lake_with_hints(tmp_path: Path) -> None:
    result = run(NOTEBOOK, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for table in SECTION_TABLES:
        assert f"{table}: not built yet: run `" in result.stdout, table
    assert f"no tables under {tmp_path / 'warehouse'}: not built yet" in result.stdout
    assert "omnilake score churn --as-of D" in result.stdout
    assert not any(tmp_path.iterdir()), "reading an empty lake must not create anything in it"


def test_every_notebook_has_its_sections_listed() -> None:
    assert [p.name for p in NOTEBOOKS] == sorted(NOTEBOOK_SECTIONS)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_prints_one_hint_per_section_on_an_empty_lake(notebook: Path, tmp_path: Path) -> None:
    result = run(notebook, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    hints = re.findall(r"^(\w+\.\w+): not built yet: run `", result.stdout, flags=re.MULTILINE)
    assert sorted(hints) == sorted(NOTEBOOK_SECTIONS[notebook.name]), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not any(tmp_path.iterdir()), "reading an empty lake must not create anything in it"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean(notebook: Path) -> None:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) == len(NOTEBOOK_SECTIONS[notebook.name]) + 1 + (notebook == NOTEBOOK)  # setup (+ inventory)
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None
    source = "".join("".join(c["source"]) for c in code)
    for banned in ("pyspark", "SparkSession", "matplotlib"):
        assert banned not in source
    # every section: a markdown cell, then its code
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds[-1] == "code"
    assert all(kinds[i + 1] == "code" for i, kind in enumerate(kinds) if kind == "markdown")


def code_cell(source: str | list[str]) -> dict[str, object]:
    return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}


@pytest.fixture()
def failing_notebook(tmp_path: Path) -> Path:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# demo"]},
        code_cell(["x = 20\n", "print('first cell ran')\n", "x + 1"]),
        code_cell("None"),
        code_cell(["y = x * 2\n", "raise ValueError(f'broken at {y}')"]),
        code_cell("print('never')"),
    ]
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_runner_shares_one_namespace_and_names_the_failing_cell(failing_notebook: Path, tmp_path: Path) -> None:
    result = run(failing_notebook, tmp_path)
    assert result.returncode == 1
    assert "first cell ran\n21\n" in result.stdout  # the last expression's value is printed, None is not
    assert "never" not in result.stdout
    assert "ValueError: broken at 40" in result.stderr
    assert "code cell 3 of 4 failed" in result.stderr


def test_runner_refuses_a_file_that_is_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "notes.ipynb"
    path.write_text("not json")
    result = run(path, tmp_path)
    assert result.returncode == 2
    assert "not a readable notebook" in result.stderr
