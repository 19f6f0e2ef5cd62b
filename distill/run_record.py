"""What a run folder says of how its model was made: the files and models it read (by content), how its
checkpoint was chosen, and the final report that evaluates the model (and its teacher) on dev."""

from __future__ import annotations

import json
from pathlib import Path

from accelerate import PartialState

from data.manifests import manifest_path
from data.paths import content_digest
from data.stopping import DiskFull, keep, writing

from .model_evaluation import evaluate_model
from .report import write_report
from .task_data import TaskData
from .trainer import SELECTIONS, TrainSettings


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
    records = [json.loads(line) for line in (out / "metrics.jsonl").open() if line.strip()]
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


def final_report(
    task: TaskData,
    out: Path,
    length: int,
    teacher_path,
    train_set,
    holdout_set,
    settings: TrainSettings,
    *,
    note: str | None = None,
    with_frontier: bool = False,
    teacher_filter: dict | None = None,
    class_balance: dict | None = None,
    teacher_check: dict | None = None,
) -> dict:
    """Evaluate and write the report (main process only: one set of files, undisturbed timings); it
    names the data the model was trained on and how its checkpoint was chosen."""
    if not PartialState().is_main_process:
        return {}
    role = "student" if teacher_path else "model"
    models = {role: evaluate_model(task, out, max_length=length, with_frontier=with_frontier)}
    if teacher_path:
        models["teacher"] = evaluate_model(task, teacher_path, max_length=length)
    data = {
        "positive_label": task.positive_label,
        "note": note,
        "train": str(task.train_path),
        "train_examples": len(train_set),
        "teacher_filter": teacher_filter,
        "class_balance": class_balance,
        "teacher_check": teacher_check,
        "dev": [str(path) for path in task.dev_paths],
    }
    selection = selection_record(out, settings, holdout_set)
    try:
        with writing(out, "the run's report"):
            return write_report(out, task.spec.name, task.spec.metrics, models, data, selection)
    except DiskFull as error:
        keep(error, f"kept the trained model and its checkpoint in {out}; run the same command with --resume to report")
        raise
