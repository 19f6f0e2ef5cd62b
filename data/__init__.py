"""Datasets: GLUE task specs, table reading/writing and task metrics. Imports nothing of ours."""
from .errors import InputError
from .metrics import compute_metrics
from .tables import (TableFormat, TableScan, check_columns, format_for, header_line, read_chunks,
                     read_table, scan_table, write_rows)
from .tasks import GLUE_TASKS, SHARED_DIR, augmented_train_path, TaskSpec, find_task_dir, get_task, writable_folder

__all__ = ["InputError", "compute_metrics", "TableFormat", "TableScan", "check_columns", "format_for",
           "header_line", "read_chunks", "read_table", "scan_table", "write_rows", "GLUE_TASKS", "augmented_train_path", "SHARED_DIR", "TaskSpec",
           "find_task_dir", "get_task", "writable_folder"]
