"""The run folder: its files (named once, in `files`), claimed by one run at a time (`RunFolder`), what
it records of how its model was made, the report written last, reading a finished run back
(`FinishedRun`), and comparing finished runs as a study's table does (`compare`)."""

from . import compare, files
from .compare import (
    SeedSummary,
    gain_kept,
    latency_ratio,
    majority_figures,
    summarize,
    summarize_runs,
    throughput_ratio,
)
from .finished import FinishedRun, read_json
from .folder import RunFolder
from .record import content_or_none, selection_record, source_record, task_request, train_record
from .report import dev_metrics, write_report

__all__ = [
    "compare",
    "files",
    "SeedSummary",
    "gain_kept",
    "latency_ratio",
    "majority_figures",
    "summarize",
    "summarize_runs",
    "throughput_ratio",
    "FinishedRun",
    "read_json",
    "RunFolder",
    "content_or_none",
    "selection_record",
    "source_record",
    "task_request",
    "train_record",
    "dev_metrics",
    "write_report",
]
