"""The final report of a task job (finetune, distill): the model, and its teacher when there is one,
evaluated on dev, beside what the model was trained on and how its checkpoint was chosen."""

from __future__ import annotations

from pathlib import Path

from accelerate import PartialState

from data.stopping import DiskFull, keep, writing

from ..examples import TaskData
from ..runs import selection_record, write_report
from ..settings import TrainSettings
from ..shipping import evaluate_model


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
