"""Where a training run's examples come from: a GLUE task (train.tsv or augment's train_aug.tsv, and
its dev files) or the user's own train/dev tables. Reading goes through `data/`."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data import InputError, TaskSpec, check_columns, find_task_dir, format_for, get_task, read_rows, read_table
from data.manifests import checked_manifest
from data.options import setting
from data.paths import augmented_table_path, augmented_train_path, content_digest

from .encoding import LabelledExamples, LabelScheme, default_max_length, encode_frame

log = logging.getLogger("tinydistill")


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
        return LabelScheme(self.spec.labels, self.spec.label_names)

    @property
    def positive_label(self) -> str | None:
        """The class whose F1 is reported (label id 1) on binary tasks."""
        names = self.scheme.display_names
        return names[1] if names and len(names) == 2 else None

    def encode(self, path: Path, tokenizer, max_length: int) -> LabelledExamples:
        """Tokenised examples of one file; ragged rows are left out and reported (file and lines)."""
        table = read_rows(path, format_for(path, self.spec.column_names))
        if table.skipped_lines:
            shown = ", ".join(map(str, table.skipped_lines[:20])) + (" ..." if len(table.skipped_lines) > 20 else "")
            log.warning(
                f"{path}: skipped {len(table.skipped_lines)} ragged rows (wrong number of fields): lines {shown}"
            )
        wanted = [*self.spec.text_columns, self.spec.label_column]
        check_columns(path, list(table.frame.columns), wanted, "--text-col/--label-col")
        examples = encode_frame(
            table.frame,
            list(self.spec.text_columns),
            self.spec.label_column,
            self.scheme,
            tokenizer,
            max_length,
            str(path),
        )
        examples.skipped_lines = table.skipped_lines
        return examples

    def holdout_split(self, fraction: float, seed: int) -> tuple[list[int], list[int]]:
        """(rows of `train_path` to train on, rows of `original_train_path` held out): a seeded `fraction`
        of the original examples is held out for choosing the checkpoint, and so are all their augmented
        copies, which would otherwise leak them into training."""
        if not 0.0 < fraction < 1.0:
            raise InputError(f"--holdout-fraction must lie between 0 and 1, got {fraction}")
        groups, examples = self.example_of_each_row()
        held = np.random.default_rng(seed).permutation(examples)[: max(1, round(fraction * examples))]
        held_set = set(held.tolist())
        return [row for row, example in enumerate(groups) if example not in held_set], sorted(held_set)

    def example_of_each_row(self) -> tuple[list[int], int]:
        """For each row of `train_path`, the original example (row of `original_train_path`) it is or was
        made from; and the number of original examples."""
        original = self._frame(self.original_train_path)
        if self.train_path == self.original_train_path:
            return list(range(len(original))), len(original)
        augmented = self._frame(self.train_path)
        return _example_of_each_row(augmented, original, self.spec.text_columns, self.train_path), len(original)

    def _frame(self, path: Path) -> pd.DataFrame:
        return read_rows(path, format_for(path, self.spec.column_names)).frame


def max_length_for(task: TaskData, max_length: int | None) -> int:
    """The given length, else the published default for the task's kind of input."""
    return max_length or default_max_length(pair=task.spec.is_pair)


def _example_of_each_row(augmented: pd.DataFrame, original: pd.DataFrame, columns, path: Path) -> list[int]:
    """For each row of an augmented table, the original example it belongs to: augment writes every
    original row, byte for byte, followed by its copies, in the original order."""
    texts = [tuple(row) for row in original[list(columns)].fillna("").astype(str).itertuples(index=False)]
    owners, current = [], -1
    for row in augmented[list(columns)].fillna("").astype(str).itertuples(index=False):
        if current + 1 < len(texts) and tuple(row) == texts[current + 1]:
            current += 1
        if current < 0:
            break
        owners.append(current)
    if current != len(texts) - 1:
        raise InputError(
            f"{path}: its rows do not follow its source's examples in order (as `augment` writes them), so "
            "the held-out examples' copies cannot be left out; remake it with `augment`, or use --select last"
        )
    return owners


def glue_task_data(
    task: str, data_dir: str | Path | None = None, *, aug: bool = False, aug_file: str | Path | None = None
) -> TaskData:
    """A GLUE task's files; with `aug`, the train_aug.tsv that `augment` made from THIS folder's
    train.tsv at its default place (or `aug_file`, where augment wrote it with --out), checked through
    its manifest."""
    spec = get_task(task)
    folder = find_task_dir(spec, data_dir)
    original = folder / spec.train_file
    train = original
    if aug or aug_file:
        remake = f"python cli.py augment --task {spec.name}" + (f" --data-dir {data_dir}" if data_dir else "")
        train = _augmented_train(Path(aug_file) if aug_file else augmented_train_path(folder), original, remake)
    devs = tuple(folder / name for name in spec.dev_files)
    for dev in devs:
        if not dev.is_file():
            raise InputError(f"{dev}: the {spec.name} dev set is missing; put it beside {folder / spec.train_file}")
    return TaskData(spec, train, devs, original)


def custom_task_data(
    train: str | Path,
    dev: str | Path,
    text_columns: list[str],
    label_column: str,
    *,
    regression: bool = False,
    positive_label: str | None = None,
    aug: bool = False,
    aug_file: str | Path | None = None,
) -> TaskData:
    """The user's own tables. Classification labels are the train set's distinct values, sorted (on a
    binary task `positive_label` goes second: F1 is reported for it). The task is named after the file
    and a hash of its content, so runs on different files never share a folder. With `aug`, training
    reads the file `augment --input TRAIN` wrote (NAME_aug.EXT, or `aug_file`), checked through its manifest."""
    train, dev = Path(train), Path(dev)
    if not text_columns or len(text_columns) > 2:
        raise InputError("give one --text-col (single texts) or two (sentence pairs)")
    frame = read_table(train)
    check_columns(train, list(frame.columns), [label_column], "--label-col")
    if regression and positive_label is not None:
        raise InputError("--positive-label names a class; a --regression task has none: drop one of them")
    labels = None if regression else _class_labels(train, label_column, frame[label_column], positive_label)
    metrics = ("pearson", "spearman") if regression else ("accuracy", "f1") if len(labels) == 2 else ("accuracy",)
    spec = TaskSpec(f"{train.stem}-{content_digest(train)[:8]}", tuple(text_columns), label_column, labels, metrics)
    augmented = train
    if aug or aug_file:
        remake = (
            f"python cli.py augment --input {train} --text-col {' --text-col '.join(text_columns)} "
            f"--label-col {label_column}"
        )
        augmented = _augmented_train(Path(aug_file) if aug_file else augmented_table_path(train), train, remake)
    return TaskData(spec, augmented, (dev,), train)


def _augmented_train(place: Path, original: Path, remake: str) -> Path:
    """The augmented file at `place`, once its manifest shows it was made from `original` as it is now."""
    if not place.is_file():
        raise InputError(f"--aug: no {place} yet. Make it first with: {remake}")
    checked_manifest(place, original)
    return place


def _class_labels(train: Path, column: str, raw: pd.Series, positive: str | None) -> tuple[str, ...]:
    """The classes of an own training table, refusing what would silently train the wrong model."""
    values = raw.astype(str)
    empty = raw.isna() | (values.str.strip() == "")
    if empty.any():
        row = int(empty.to_numpy().argmax())
        raise InputError(f"{train}: row {row + 1} has an empty label in column {column!r}; fill it in or drop the row")
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all() and (numbers % 1 != 0).any():
        example = values[(numbers % 1 != 0).to_numpy()].iloc[0]
        raise InputError(
            f"{train}: the labels in {column!r} are numbers with decimals (e.g. {example}); for a "
            "score pass --regression, for classes use whole numbers or names"
        )
    labels = sorted(values.unique())
    if len(labels) < 2:
        raise InputError(f"{train}: every row has the label {labels[0]!r}; a classifier needs at least two classes")
    if positive is not None:
        if len(labels) != 2 or positive not in labels:
            raise InputError(
                f"--positive-label {positive!r}: give one of the two labels of a binary task "
                f"(labels here: {', '.join(labels)})"
            )
        labels = [label for label in labels if label != positive] + [positive]
    return tuple(labels)


def task_data_for(
    *,
    task: str | None = None,
    data_dir: str | os.PathLike | None = None,
    train: str | os.PathLike | None = None,
    dev: str | os.PathLike | None = None,
    text_columns: tuple[str, ...] = (),
    label_column: str | None = None,
    regression: bool = False,
    positive_label: str | None = None,
    aug: bool = False,
    aug_file: str | os.PathLike | None = None,
) -> TaskData:
    """The data a command's flags name: the user's own tables with `train`, else a GLUE task (default
    MRPC) in `data_dir`, else $GLUE_DIR, else ../shared; no state of earlier runs counts. `aug` trains on
    the file augment wrote at its default place (`aug_file`: where it wrote with --out), checked through
    its manifest. The files chosen are logged."""
    if train:
        if not dev or not text_columns:
            raise InputError("--train needs --dev FILE and --text-col COLUMN too")
        if task or data_dir:
            raise InputError("--train names your own data: drop --task/--data-dir (they name a GLUE task)")
        data = custom_task_data(
            train,
            dev,
            list(text_columns),
            label_column or "label",
            regression=regression,
            positive_label=positive_label,
            aug=aug,
            aug_file=aug_file,
        )
    else:
        own = {
            "--dev": dev,
            "--text-col": text_columns,
            "--label-col": label_column,
            "--regression": regression,
            "--positive-label": positive_label,
        }
        given = [flag for flag, value in own.items() if value]
        if given:
            raise InputError(
                f"{', '.join(given)} describe your own data: add --train FILE (its labels fix the "
                "label order), or drop them to use a GLUE task"
            )
        data = glue_task_data(task or "MRPC", data_dir, aug=aug, aug_file=aug_file)
    log.info(f"data: train {data.train_path}; dev {', '.join(map(str, data.dev_paths))}")
    return data


@dataclass(frozen=True)
class DataFlags:
    """The data a command reads, as its flags name it; `load()` finds it (see `task_data_for`)."""

    task: str | None = setting(None, "GLUE task. Default: MRPC.")
    data_dir: str | None = setting(None, "GLUE folder (TASK/train.tsv). Default: $GLUE_DIR, else ../shared/data/glue.")
    train: str | None = setting(
        None, "Your own training table instead of a GLUE task (with --dev, --text-col, --label-col)."
    )
    dev: str | None = setting(None, "Your own dev table (with --train).")
    text_columns: tuple[str, ...] = setting((), "With --train: text column(s); twice for pairs.", flag="--text-col")
    label_column: str | None = setting(None, "With --train: the label column. Default: label.", flag="--label-col")
    regression: bool = setting(False, "With --train: float labels (MSE, Pearson/Spearman).")
    positive_label: str | None = setting(
        None,
        "With --train, a binary task: the class whose F1 is reported. Default: the second label in sorted order "
        "(the report names it).",
    )
    aug: bool = setting(
        False,
        "Train on what `augment` wrote from the training file: train_aug.tsv beside a GLUE train.tsv "
        "(runs/glue/TASK/ when that folder is read-only), or NAME_aug.EXT beside --train. Used only when its "
        "manifest says it was made from that training file as it is now.",
    )
    aug_file: str | None = setting(
        None,
        "The augmented file to train on when `augment --out` wrote it elsewhere (implies --aug; its manifest is "
        "checked the same way).",
    )

    def load(self) -> TaskData:
        return task_data_for(**asdict(self))
