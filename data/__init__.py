"""Datasets: GLUE task specs, reading and writing tables (TSV, CSV, JSON Lines), task metrics, and
where files live. The ground floor: it imports nothing of ours.

Streaming internals (`data.tables.scan_table`, `read_chunks`, ...), path policy (`data.paths`) and
device/precision rules (`data.hardware`) serve the packages above; users need only these names."""

from .errors import InputError
from .metrics import compute_metrics
from .paths import SHARED_DIR, find_task_dir
from .tables import Table, TableFormat, check_columns, format_for, read_rows, read_table
from .tasks import GLUE_TASKS, TaskSpec, get_task

__all__ = [
    "InputError",
    "compute_metrics",
    "SHARED_DIR",
    "find_task_dir",
    "Table",
    "TableFormat",
    "read_rows",
    "check_columns",
    "format_for",
    "read_table",
    "GLUE_TASKS",
    "TaskSpec",
    "get_task",
]
