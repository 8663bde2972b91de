"""Puts the checkout on sys.path for a notebook kernel started in notebooks/ without the package installed: a
notebook's first cell imports it only when `import jobs` fails (scripts/run_notebook.py and `pip install -e .` need
no help)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
