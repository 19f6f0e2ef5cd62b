"""What `augment` works on: a GLUE task's train file or the user's own table, and where the output
goes. The functions the command line calls: augment it, or preview it."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from data import InputError, TableFormat, find_task_dir, format_for, get_task
from data.paths import augmented_table_path, augmented_train_path

from .config import AugmentConfig
from .preview import Preview, preview_file
from .runner import RunSettings, augment_file
from .summary import AugmentSummary

log = logging.getLogger("tinydistill")


def augment_dataset(
    config: AugmentConfig = AugmentConfig(),
    *,
    task: str | None = None,
    data_dir: str | os.PathLike | None = None,
    input_path: str | os.PathLike | None = None,
    text_columns: tuple[str, ...] = (),
    label_column: str | None = None,
    out: str | os.PathLike | None = None,
    jobs: int = RunSettings.jobs,
    resume: bool = RunSettings.resume,
    overwrite: bool = RunSettings.overwrite,
    shard_rows: int = RunSettings.shard_rows,
    progress: bool = True,
    dask: str | None = RunSettings.dask,
) -> AugmentSummary:
    """Augment a GLUE task's train.tsv (default MRPC) into train_aug.tsv beside it, or `input_path` (the
    user's table, with `text_columns`) into NAME_aug.EXT beside it; a read-only folder sends the
    output under ./runs."""
    job = _Job.of(task, data_dir, input_path, text_columns, label_column, out)
    config = _announced(config, job)
    return augment_file(
        job.source,
        job.target,
        job.columns,
        config,
        fmt=job.fmt,
        label_column=job.label,
        jobs=jobs,
        resume=resume,
        overwrite=overwrite,
        shard_rows=shard_rows,
        progress=progress,
        task=job.task,
        dask=dask,
    )


def preview_dataset(
    config: AugmentConfig,
    k: int,
    *,
    task: str | None = None,
    data_dir: str | os.PathLike | None = None,
    input_path: str | os.PathLike | None = None,
    text_columns: tuple[str, ...] = (),
    label_column: str | None = None,
    out: str | os.PathLike | None = None,
) -> Preview:
    """`k` random rows of what `augment_dataset` would augment, with their copies; nothing is written."""
    job = _Job.of(task, data_dir, input_path, text_columns, label_column, out)
    return preview_file(job.source, job.columns, _announced(config, job, previewing=True), k, fmt=job.fmt)


@dataclass(frozen=True)
class _Job:
    """The file to augment, how to read it, its text and label columns, and where the output goes."""

    source: Path
    fmt: TableFormat
    columns: list[str]
    label: str | None
    target: Path
    task: str | None  # the GLUE task's name; None for the user's own file

    @classmethod
    def of(cls, task, data_dir, input_path, text_columns, label_column, out) -> _Job:
        if input_path and task:
            raise InputError("give either --task (a GLUE task) or --input (your own file), not both")
        if not input_path and (text_columns or label_column):
            raise InputError(
                "--text-col and --label-col describe your own file: add --input FILE, or drop them "
                "(a GLUE task has its own columns)"
            )
        if input_path:
            if not text_columns:
                raise InputError(f"{input_path}: say which column holds the text with --text-col COLUMN")
            source = Path(input_path)
            target = Path(out) if out else augmented_table_path(source)
            return cls(source, format_for(source), list(text_columns), label_column, target, None)
        spec = get_task(task or "MRPC")
        source = find_task_dir(spec, data_dir) / spec.train_file
        target = Path(out) if out else augmented_train_path(source.parent)
        fmt = format_for(source, spec.column_names)
        return cls(source, fmt, list(spec.text_columns), spec.label_column, target, spec.name)


def _announced(config: AugmentConfig, job: _Job, previewing: bool = False) -> AugmentConfig:
    """The config with its source's machine-dependent defaults named (e.g. the vectors), after saying
    which models and files the run uses."""
    config, lines = config.settled()
    log.info(
        f"{'previewing' if previewing else 'augmenting'} {job.source}"
        + ("" if previewing else f" -> {job.target}")
        + "".join(f"\n  {line}" for line in lines)
    )
    return config
