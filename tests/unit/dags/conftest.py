"""Airflow reads AIRFLOW_HOME when first imported: point it at a throw-away folder before any test imports it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="omnilake-airflow-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
