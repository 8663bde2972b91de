"""Orchestration: what the Airflow DAGs wire together (settings, Spark steps, quality gate, exports, failure
records) and the `omnilake demo` harness that drives Airflow itself. Nothing here imports Spark at module level."""
