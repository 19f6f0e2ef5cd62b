"""GLUE task specifications: file layout, text and label columns, labels and metrics.

A task spec is data, not code: every reader, augmenter and trainer asks the spec which columns hold
text and which holds the label, so adding a task is adding one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    label_names: tuple[str, ...] | None = None  # what labels stored as 0/1 mean (model configs, predictions)

    @property
    def is_pair(self) -> bool:
        return len(self.text_columns) == 2


GLUE_TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            "CoLA",
            ("sentence",),
            "label",
            ("0", "1"),
            ("mcc",),
            column_names=("source", "label", "original_label", "sentence"),
            label_names=("unacceptable", "acceptable"),
        ),
        TaskSpec("SST-2", ("sentence",), "label", ("0", "1"), ("accuracy",), label_names=("negative", "positive")),
        TaskSpec(
            "MRPC",
            ("#1 String", "#2 String"),
            "Quality",
            ("0", "1"),
            ("f1", "accuracy"),
            label_names=("not_equivalent", "equivalent"),
        ),
        TaskSpec("STS-B", ("sentence1", "sentence2"), "score", None, ("pearson", "spearman")),
        TaskSpec(
            "QQP",
            ("question1", "question2"),
            "is_duplicate",
            ("0", "1"),
            ("accuracy", "f1"),
            label_names=("not_duplicate", "duplicate"),
        ),
        TaskSpec(
            "MNLI",
            ("sentence1", "sentence2"),
            "gold_label",
            ("contradiction", "entailment", "neutral"),
            ("accuracy",),
            dev_files=("dev_matched.tsv", "dev_mismatched.tsv"),
        ),
        TaskSpec("QNLI", ("question", "sentence"), "label", ("entailment", "not_entailment"), ("accuracy",)),
        TaskSpec("RTE", ("sentence1", "sentence2"), "label", ("entailment", "not_entailment"), ("accuracy",)),
        TaskSpec(
            "WNLI",
            ("sentence1", "sentence2"),
            "label",
            ("0", "1"),
            ("accuracy",),
            label_names=("not_entailment", "entailment"),
        ),
    )
}

_ALIASES = {name.replace("-", "").upper(): name for name in GLUE_TASKS}


def get_task(name: str) -> TaskSpec:
    """Look a GLUE task up by name, forgiving case and dashes (`sst2`, `STS-B`, `mrpc`)."""
    key = name.replace("-", "").replace("_", "").upper()
    if key not in _ALIASES:
        raise InputError(
            f"unknown task {name!r}; GLUE tasks are: {', '.join(GLUE_TASKS)}. "
            "For your own dataset use --input FILE --text-col COLUMN instead of --task."
        )
    return GLUE_TASKS[_ALIASES[key]]
