"""Where a training run's examples come from: a GLUE task (train.tsv or augment's train_aug.tsv, and
its dev files) or the user's own train/dev tables. Reading goes through `data/`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from data import InputError, TaskSpec, check_columns, find_task_dir, format_for, get_task, read_table
from data.paths import augmented_train_path, last_augment

from .features import LabelledExamples, LabelScheme, encode_frame


@dataclass(frozen=True)
class TaskData:
    """A task's spec (columns, labels, metrics) and the files one run reads for it. `train_path` may be
    augment's output; `original_train_path` is the file it was made from (a teacher trains on that)."""

    spec: TaskSpec
    train_path: Path
    dev_paths: tuple[Path, ...]
    original_train_path: Path

    @property
    def scheme(self) -> LabelScheme:
        return LabelScheme(self.spec.labels)

    def encode(self, path: Path, tokenizer, max_length: int) -> LabelledExamples:
        frame = read_table(path, format_for(path, self.spec.column_names))
        check_columns(
            path, list(frame.columns), [*self.spec.text_columns, self.spec.label_column], "--text-col/--label-col"
        )
        return encode_frame(
            frame, list(self.spec.text_columns), self.spec.label_column, self.scheme, tokenizer, max_length, str(path)
        )


def glue_task_data(
    task: str, data_dir: str | Path | None = None, *, aug: bool = False, aug_path: str | Path | None = None
) -> TaskData:
    """A GLUE task's files; with `aug`, the train_aug.tsv that `augment` wrote for it (at its default
    place, or at `aug_path` when augment was given --out)."""
    spec = get_task(task)
    folder = find_task_dir(spec, data_dir)
    train = (Path(aug_path) if aug_path else augmented_train_path(folder)) if aug else folder / spec.train_file
    if aug and not train.is_file():
        raise InputError(
            f"--aug: no {train} yet. Make it first with: python cli.py augment --task {spec.name}"
            + (f" --data-dir {data_dir}" if data_dir else "")
        )
    devs = tuple(folder / name for name in spec.dev_files)
    for dev in devs:
        if not dev.is_file():
            raise InputError(f"{dev}: the {spec.name} dev set is missing; put it beside {folder / spec.train_file}")
    return TaskData(spec, train, devs, folder / spec.train_file)


def custom_task_data(
    train: str | Path, dev: str | Path, text_columns: list[str], label_column: str, *, regression: bool = False
) -> TaskData:
    """The user's own tables; classification labels are the train set's distinct values, sorted."""
    train, dev = Path(train), Path(dev)
    if not text_columns or len(text_columns) > 2:
        raise InputError("give one --text-col (single texts) or two (sentence pairs)")
    frame = read_table(train)
    check_columns(train, list(frame.columns), [label_column], "--label-col")
    labels = None if regression else tuple(sorted(frame[label_column].astype(str).unique()))
    metrics = ("pearson", "spearman") if regression else ("accuracy", "f1") if len(labels) == 2 else ("accuracy",)
    spec = TaskSpec(train.stem, tuple(text_columns), label_column, labels, metrics)
    return TaskData(spec, train, (dev,), train)


def task_data_for(
    *,
    task: str | None = None,
    data_dir: str | os.PathLike | None = None,
    train: str | os.PathLike | None = None,
    dev: str | os.PathLike | None = None,
    text_columns: tuple[str, ...] = (),
    label_column: str = "label",
    regression: bool = False,
    aug: bool = False,
) -> TaskData:
    """The data a command's flags name: the user's own tables with `train`, else a GLUE task. With no
    task given, the latest `augment` run's task and folder; `aug` takes the file that run wrote."""
    if train:
        if not dev or not text_columns:
            raise InputError("--train needs --dev FILE and --text-col COLUMN too")
        return custom_task_data(train, dev, list(text_columns), label_column, regression=regression)
    last = last_augment()
    if task is None and last:
        task, data_dir = last["task"], data_dir or last.get("data_dir")
    name = get_task(task or "MRPC").name
    same_run = last.get("task") == name and Path(last.get("output", "")).is_file()
    return glue_task_data(name, data_dir, aug=aug, aug_path=last["output"] if aug and same_run else None)
