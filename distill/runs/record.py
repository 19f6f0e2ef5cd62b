"""What a run folder says of how its model was made: the files and models it read (by content), how its
checkpoint was chosen, and the final report that evaluates the model (and its teacher) on dev."""

from __future__ import annotations

from pathlib import Path

from data.manifests import manifest_path
from data.paths import content_digest

from ..examples.task_data import TaskData
from ..settings import SELECTIONS, TrainSettings
from .finished import FinishedRun


def source_record(path: str | Path) -> dict:
    """A file or model folder as a run records it: where it was, and a digest of its content."""
    return {"path": str(path), "sha256": content_digest(path)}


def train_record(task: TaskData) -> dict:
    """The training file by content; for augment's output also its manifest (how it was made)."""
    record = source_record(task.train_path)
    manifest = manifest_path(task.train_path)
    if task.train_path != task.original_train_path and manifest.is_file():
        record["manifest"] = source_record(manifest)
    return record


def task_request(task: TaskData) -> dict:
    """The task as a run's request names it: its spec's columns and labels, its files by content (not by
    how their paths were spelled)."""
    spec = task.spec
    return {
        "name": spec.name,
        "columns": [*spec.text_columns, spec.label_column],
        "labels": spec.labels,
        "train": content_digest(task.train_path),
        "dev": [content_digest(path) for path in task.dev_paths],
    }


def content_or_none(path: str | Path | None) -> str | None:
    """A file or model folder by content for a request; None when it does not exist (yet: a fallback
    teacher still to make)."""
    return content_digest(path) if path is not None and Path(path).exists() else None


def selection_record(out: Path, settings: TrainSettings, holdout_set) -> dict:
    """Which checkpoint the run kept and how, with the last evaluation beside it (from metrics.jsonl)."""
    records = FinishedRun(out).history()
    kept = [r for r in records if r.get("kept", True)][-1]
    last = records[-1]
    return {
        "on": settings.select,
        "rule": SELECTIONS[settings.select],
        "holdout_examples": len(holdout_set) if holdout_set is not None else None,
        "kept_step": kept["step"],
        "kept_holdout": kept.get("holdout"),
        "last_step": last["step"],
        "last_dev": last.get("dev"),
        "evaluations": len(records),
    }
