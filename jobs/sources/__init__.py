"""What defines each source: its declared spec (jobs/sources/specs.py) and its data contract (conf/contracts,
loaded by jobs/sources/contracts.py). Import-light: the DAG files read the source list at parse time."""
