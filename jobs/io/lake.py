"""Tables read and appended with delta-rs: no JVM, for Airflow callbacks, the quality gate, listings and exports.

Names resolve through jobs.io.paths like the Spark catalog's, so both sides always agree on where a table is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobs.io.faults import after_commit
from jobs.io.paths import TableError, is_table, table_path

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pds

    from jobs.common.config import Config


def lake_path(cfg: Config, name: str) -> Path:
    """The Delta folder of `name` in the configured warehouse (TableError for a bad name or zone)."""
    return Path(table_path(cfg.paths.warehouse, name, cfg.zones.all))


def exists(cfg: Config, name: str) -> bool:
    return is_table(lake_path(cfg, name))


def dataset(cfg: Config, name: str) -> pds.Dataset:
    """The table as a pyarrow dataset (lazy: filters and column choices are pushed down)."""
    from deltalake import DeltaTable

    path = lake_path(cfg, name)
    if not is_table(path):
        raise TableError(f"no table {name} at {path}")
    return DeltaTable(str(path)).to_pyarrow_dataset()


def read_arrow(cfg: Config, name: str, *, columns: list[str] | None = None, where: Any = None) -> pa.Table | None:
    """`columns` of the rows matching `where` (a pyarrow.compute expression); None when the table does not exist."""
    if not exists(cfg, name):
        return None
    return dataset(cfg, name).to_table(columns=columns, filter=where)


def file_partitions(cfg: Config, name: str, column: str) -> pa.Table | None:
    """`column` (a partition column of `name`) and `num_records` of every data file, from the Delta log's add
    actions: no data file is read, the size is the table's file count. None when the table does not exist;
    TableError when `column` is not a partition column."""
    import pyarrow as pa
    from deltalake import DeltaTable

    if not exists(cfg, name):
        return None
    table = DeltaTable(str(lake_path(cfg, name)))
    if column not in table.metadata().partition_columns:
        raise TableError(f"{name} is not partitioned by {column}")
    files = pa.table(table.get_add_actions(flatten=True))
    return files.select([f"partition.{column}", "num_records"]).rename_columns([column, "num_records"])


def append_arrow(cfg: Config, name: str, rows: pa.Table) -> None:
    """Append `rows` in one commit (the first append creates the table)."""
    from deltalake import write_deltalake

    path = lake_path(cfg, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), rows, mode="append")
    after_commit(name)
