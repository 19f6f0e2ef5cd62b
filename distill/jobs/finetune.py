"""Fine-tuning makes the teacher: `finetune` on a task, and `ensure_teacher`, the task's default
teacher that `distill` fine-tunes first when none is given or found."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from data import InputError
from data.paths import content_digest

from ..examples.holdout import split_for_selection
from ..examples.task_data import TaskData, max_length_for
from ..methods.objectives import TaskOnly
from ..models.loading import base_encoder, load_encoder_for_task, load_tokenizer
from ..runs import FinishedRun, content_or_none, dev_metrics, files, source_record, task_request, train_record
from ..settings import LOOP_EPOCHS, LOOP_LR, TeacherFallback, TrainSettings
from .final_report import final_report
from .template import Job, RunOptions, Stage, run_job

log = logging.getLogger("tinydistill")


def finetune(
    task: TaskData,
    model_path: str | Path | None,
    out: str | Path | None,
    settings: TrainSettings,
    *,
    max_length: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    callbacks=(),
) -> dict:
    """Fine-tune a pretrained encoder (None: the default MiniLM encoder) on the task: this makes the
    teacher, in `out` (None: runs/teacher/TASK). Returns the report. `callbacks` see every evaluation
    and checkpoint (see `training.train`). A finished run in `out` asked the same is returned as it is; one
    asked otherwise is replaced only with `overwrite`."""
    job = Finetune(Path(out or teacher_folder(task)), settings, task, model_path or base_encoder(), max_length)
    return run_job(job, RunOptions(overwrite, resume, progress, tuple(callbacks)))


@dataclass
class Finetune(Job):
    """A pretrained encoder with a new task head, trained on the task's labels alone."""

    task: TaskData
    model_path: str | Path
    max_length: int | None
    command = "finetune"

    def request(self) -> dict:
        return {
            "command": "finetune",
            "task": task_request(self.task),
            "model": content_or_none(self.model_path),
            "settings": asdict(self.settings),
            "max_length": self.max_length,
        }

    def stages(self, placement, options) -> list[Stage]:
        task = self.task
        tokenizer = load_tokenizer(self.model_path)
        model = load_encoder_for_task(self.model_path, task.scheme)
        model.config.tinydistill_texts = len(task.spec.text_columns)  # `predict` checks the columns it is given
        self.length = max_length_for(task, self.max_length)
        train_set, self.holdout_set, _ = split_for_selection(task, tokenizer, self.length, self.settings)
        recorded = {
            "model": source_record(self.model_path),
            "train": train_record(task),
            "max_length": self.length,
            "labels": task.spec.labels,
        }
        stage = Stage(f"finetune {task.spec.name}", model, TaskOnly(), train_set, self.out, self.settings, recorded)
        stage.dev_set = task.encode(task.dev_paths[0], tokenizer, self.length)
        stage.holdout_set, stage.metrics, stage.tokenizer = self.holdout_set, task.spec.metrics, tokenizer
        return [stage]

    def report(self, stages, results) -> dict:
        (stage,) = stages
        return final_report(self.task, self.out, self.length, None, stage.train_set, self.holdout_set, self.settings)


def teacher_folder(task: TaskData) -> Path:
    """Where a task's teacher is made and looked for by default."""
    return Path("runs") / "teacher" / task.spec.name


def ensure_teacher(
    task: TaskData, fallback: TeacherFallback = TeacherFallback(), *, progress: bool = True, callbacks=()
) -> Path:
    """The default teacher of a task, runs/teacher/TASK: fine-tuned first as `fallback` says (its
    encoder, else the default MiniLM; finetune's budget unless it names one) on the task's original (not
    augmented) rows when no finished one is there; an interrupted fine-tune is resumed. Either way its
    dev figures are logged, so that a weak teacher shows before a student is distilled from it."""
    teacher = teacher_folder(task)
    made = FinishedRun(teacher)
    if not made.finished:
        settings = fallback.settings()
        unfinished = (teacher / files.CHECKPOINT).is_dir()
        encoder = fallback.teacher_encoder or base_encoder()
        log.info(
            f"no finished teacher at {teacher}: {'resuming its fine-tune' if unfinished else 'fine-tuning'} "
            f"{encoder} on {task.original_train_path} first, {settings.epochs or LOOP_EPOCHS:g} epochs at lr "
            f"{settings.lr or LOOP_LR:g} (finetune's defaults unless --teacher-epochs/--teacher-lr; pass "
            "--teacher to use your own)"
        )
        original = replace(task, train_path=task.original_train_path)
        finetune(original, encoder, teacher, settings, resume=unfinished, progress=progress, callbacks=callbacks)
    made_on = made.settings()["run"]["train"]
    if made_on["sha256"] != content_digest(task.original_train_path):
        raise InputError(
            f"{teacher} was fine-tuned on {made_on['path']}, whose content differs from "
            f"{task.original_train_path}: it is no teacher for this data. Pass --teacher FOLDER, or move "
            f"{teacher} away to have one fine-tuned on this data"
        )
    (model,) = made.report()["models"].values()
    figures = ", ".join(f"{name} {value:.4f}" for name, value in dev_metrics(model).items())
    log.info(f"teacher: {teacher} (dev {figures})")
    return teacher
