"""What `augment` works on: a GLUE task's train file or the user's own table, and where the output
goes. The one function the command line calls."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from data import InputError, find_task_dir, format_for, get_task
from data.paths import augmented_table_path, augmented_train_path

from .augmenter import AugmentConfig, default_vectors
from .runner import AugmentSummary, augment_file

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
    jobs: int = 1,
    resume: bool = False,
    shard_rows: int = 128,
    progress: bool = True,
    dask: str | None = None,
) -> AugmentSummary:
    """Augment a GLUE task's train.tsv (default MRPC) into train_aug.tsv beside it, or `input_path` (the
    user's table, with `text_columns`) into NAME_aug.EXT beside it; a read-only folder sends the
    output under ./runs."""
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
        fmt, columns, label = format_for(source), list(text_columns), label_column
        target = Path(out) if out else augmented_table_path(source)
    else:
        spec = get_task(task or "MRPC")
        source = find_task_dir(spec, data_dir) / spec.train_file
        fmt, columns, label = format_for(source, spec.column_names), list(spec.text_columns), spec.label_column
        target = Path(out) if out else augmented_train_path(source.parent)
    why = "given"
    if not config.glove:
        path, why = default_vectors()
        config = replace(config, glove=path)
    log.info(
        f"augmenting {source} -> {target}\n  masked-LM: {config.mlm or 'none (GloVe for every word)'}"
        f"\n  vectors: {config.glove} ({why})"
    )
    summary = augment_file(
        source,
        target,
        columns,
        config,
        fmt=fmt,
        label_column=label,
        jobs=jobs,
        resume=resume,
        shard_rows=shard_rows,
        progress=progress,
        task=None if input_path else spec.name,
        dask=dask,
    )
    return summary
