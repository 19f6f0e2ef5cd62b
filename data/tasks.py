"""GLUE task specifications: file layout, text and label columns, labels and metrics.

A task spec is data, not code: every reader, augmenter and trainer asks the spec which columns hold
text and which holds the label, so adding a task is adding one entry here.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError


@dataclass(frozen=True)
class TaskSpec:
    name: str
    text_columns: tuple[str, ...]
    label_column: str
    labels: tuple[str, ...] | None  # None: a regression task with float labels
    metrics: tuple[str, ...]  # the first one is the task's main metric
    dev_files: tuple[str, ...] = ("dev.tsv",)
    column_names: tuple[str, ...] | None = None  # set for files without a header line (CoLA)
    train_file: str = "train.tsv"

    @property
    def has_header(self) -> bool:
        return self.column_names is None

    @property
    def is_pair(self) -> bool:
        return len(self.text_columns) == 2

    @property
    def is_regression(self) -> bool:
        return self.labels is None


GLUE_TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec("CoLA", ("sentence",), "label", ("0", "1"), ("mcc",),
                 column_names=("source", "label", "original_label", "sentence")),
        TaskSpec("SST-2", ("sentence",), "label", ("0", "1"), ("accuracy",)),
        TaskSpec("MRPC", ("#1 String", "#2 String"), "Quality", ("0", "1"), ("f1", "accuracy")),
        TaskSpec("STS-B", ("sentence1", "sentence2"), "score", None, ("pearson", "spearman")),
        TaskSpec("QQP", ("question1", "question2"), "is_duplicate", ("0", "1"), ("accuracy", "f1")),
        TaskSpec("MNLI", ("sentence1", "sentence2"), "gold_label",
                 ("contradiction", "entailment", "neutral"), ("accuracy",),
                 dev_files=("dev_matched.tsv", "dev_mismatched.tsv")),
        TaskSpec("QNLI", ("question", "sentence"), "label", ("entailment", "not_entailment"), ("accuracy",)),
        TaskSpec("RTE", ("sentence1", "sentence2"), "label", ("entailment", "not_entailment"), ("accuracy",)),
        TaskSpec("WNLI", ("sentence1", "sentence2"), "label", ("0", "1"), ("accuracy",)),
    )
}

SHARED_DIR = Path(__file__).resolve().parent.parent.parent / "shared"
"""The `shared/` folder beside the project checkout: real data, vectors and demo models."""

_ALIASES = {name.replace("-", "").upper(): name for name in GLUE_TASKS}


def get_task(name: str) -> TaskSpec:
    """Look a GLUE task up by name, forgiving case and dashes (`sst2`, `STS-B`, `mrpc`)."""
    key = name.replace("-", "").replace("_", "").upper()
    if key not in _ALIASES:
        raise InputError(f"unknown task {name!r}; GLUE tasks are: {', '.join(GLUE_TASKS)}. "
                         "For your own dataset use --input FILE --text-col COLUMN instead of --task.")
    return GLUE_TASKS[_ALIASES[key]]


def writable_folder(folder: Path) -> bool:
    """Whether we may write into `folder`: allowed for this user AND not marked read-only (root is
    allowed everywhere, but a read-only folder such as ../shared must stay untouched)."""
    writable_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & writable_bits)


def augmented_train_path(task_dir: Path) -> Path:
    """Where `augment` writes a GLUE task's train_aug.tsv and `distill --aug` looks for it: beside
    train.tsv, or under ./runs/glue/TASK/ when that folder is read-only (like ../shared)."""
    if writable_folder(task_dir):
        return task_dir / "train_aug.tsv"
    return Path("runs") / "glue" / task_dir.name / "train_aug.tsv"


def find_task_dir(spec: TaskSpec, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding the task's files: `data_dir/TASK`, or `data_dir` itself when it holds them.

    Without `data_dir`, look in $GLUE_DIR, then in ../shared/data/glue beside the project.
    """
    if data_dir is not None:
        roots = [Path(data_dir)]
    else:
        roots = [Path(os.environ["GLUE_DIR"])] if os.environ.get("GLUE_DIR") else []
        roots.append(SHARED_DIR / "data" / "glue")
    for root in roots:
        for folder in (root / spec.name, root / spec.name.replace("-", ""), root):
            if (folder / spec.train_file).is_file():
                return folder
    tried = ", ".join(str(r) for r in roots)
    raise InputError(
        f"no {spec.name} data found (looked in {tried}). Put the GLUE files in a folder such as "
        f"glue/{spec.name}/{spec.train_file} and pass --data-dir glue (or set GLUE_DIR=glue).")
