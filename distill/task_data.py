"""Where a training run's examples come from: a GLUE task (train.tsv or augment's train_aug.tsv, and
its dev files) or the user's own train/dev tables. Reading goes through `data/`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data import InputError, augmented_train_path, find_task_dir, format_for, get_task, read_table

from .features import LabelledExamples, LabelScheme, encode_frame


@dataclass(frozen=True)
class TaskData:
    name: str
    text_columns: tuple[str, ...]
    label_column: str
    scheme: LabelScheme
    metrics: tuple[str, ...]
    train_path: Path
    dev_paths: tuple[Path, ...]
    column_names: tuple[str, ...] | None = None  # headerless GLUE files (CoLA)

    def encode(self, path: Path, tokenizer, max_length: int) -> LabelledExamples:
        frame = read_table(path, format_for(path, self.column_names))
        missing = [c for c in (*self.text_columns, self.label_column) if c not in frame.columns]
        if missing:
            raise InputError(f"{path}: no column {missing[0]!r}; its columns are {', '.join(map(repr, frame.columns))}")
        return encode_frame(frame, list(self.text_columns), self.label_column, self.scheme, tokenizer,
                            max_length, str(path))

    @property
    def is_pair(self) -> bool:
        return len(self.text_columns) == 2


def glue_task_data(task: str, data_dir: str | Path | None = None, aug: bool = False,
                   aug_path: str | Path | None = None) -> TaskData:
    """A GLUE task's files; with `aug`, the train_aug.tsv that `augment` wrote for it (at its default
    place, or at `aug_path` when augment was given --out)."""
    spec = get_task(task)
    folder = find_task_dir(spec, data_dir)
    train = (Path(aug_path) if aug_path else augmented_train_path(folder)) if aug else folder / spec.train_file
    if aug and not train.is_file():
        raise InputError(f"--aug: no {train} yet. Make it first with: python cli.py augment --task {spec.name}"
                         + (f" --data-dir {data_dir}" if data_dir else ""))
    devs = tuple(folder / name for name in spec.dev_files)
    for dev in devs:
        if not dev.is_file():
            raise InputError(f"{dev}: the {spec.name} dev set is missing; put it beside {folder / spec.train_file}")
    return TaskData(spec.name, spec.text_columns, spec.label_column, LabelScheme(spec.labels), spec.metrics,
                    train, devs, spec.column_names)


def custom_task_data(train: str | Path, dev: str | Path, text_columns: list[str], label_column: str,
                     regression: bool = False) -> TaskData:
    """The user's own tables; classification labels are the train set's distinct values, sorted."""
    train, dev = Path(train), Path(dev)
    if not text_columns or len(text_columns) > 2:
        raise InputError("give one --text-col (single texts) or two (sentence pairs)")
    frame = read_table(train)
    if label_column not in frame.columns:
        raise InputError(f"{train}: no column {label_column!r}; its columns are {', '.join(map(repr, frame.columns))}")
    labels = None if regression else tuple(sorted(frame[label_column].astype(str).unique()))
    metrics = ("pearson", "spearman") if regression else ("accuracy", "f1") if len(labels) == 2 else ("accuracy",)
    return TaskData(train.stem, tuple(text_columns), label_column, LabelScheme(labels), metrics, train, (dev,))
