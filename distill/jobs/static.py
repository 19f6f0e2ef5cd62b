"""`static`: the far end of the frontier, what a student must beat to be worth its training: static
piece embeddings of a pretrained encoder and a logistic regression (see `models.static`), fitted in
about a minute, saved as a model folder that `evaluate`, `predict` and `export` take like any student."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from data import InputError

from ..examples import TaskData, max_length_for, split_for_selection
from ..models import base_encoder, load_tokenizer
from ..models.loading import label_config
from ..models.static import fit_static, piece_vectors, static_config, static_table
from ..runs import content_or_none, source_record, task_request, train_record, write_report
from ..settings import TrainSettings
from ..shipping import evaluate_model
from .template import Job, RunOptions, run_job

log = logging.getLogger("tinydistill")


def fit_static_baseline(
    task: TaskData,
    encoder: str | Path | None,
    out: str | Path | None,
    *,
    teacher: str | Path | None = None,
    holdout: float = TrainSettings.holdout,
    max_length: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict:
    """Fit the static baseline of `encoder` (None: the default MiniLM encoder) on the task, in `out` (None:
    runs/static/TASK); its L2 strength is chosen on the held-out `holdout` share of the training examples.
    The report has the model's dev figures, size and CPU speed, beside `teacher`'s when one is given."""
    if task.scheme.num_outputs == 1:
        raise InputError(f"static fits a classifier; {task.spec.name} is a regression task: give a task with labels")
    out = Path(out or Path("runs") / "static" / task.spec.name)
    settings = TrainSettings(select="holdout", holdout=holdout)
    job = StaticBaseline(out, settings, task, Path(encoder or base_encoder()), teacher, max_length)
    return run_job(job, RunOptions(overwrite=overwrite, progress=progress))


@dataclass
class StaticBaseline(Job):
    task: TaskData
    encoder: Path
    teacher: str | Path | None
    max_length: int | None
    command = "static"

    def request(self) -> dict:
        return {
            "command": self.command,
            "task": task_request(self.task),
            "encoder": content_or_none(self.encoder),
            "teacher": content_or_none(self.teacher),
            "holdout": self.settings.holdout,
            "max_length": self.max_length,
        }

    def stages(self, placement, options) -> list:
        task = self.task
        if self.teacher is not None:
            load_tokenizer(self.teacher, "--teacher")  # a wrong folder is refused before the fit
        self.tokenizer = load_tokenizer(self.encoder, "--encoder")
        self.length = max_length_for(task, self.max_length)
        self.train_set, holdout_set, _ = split_for_selection(task, self.tokenizer, self.length, self.settings)
        special = self.tokenizer.all_special_ids
        log.info(f"static: encoding the {len(self.tokenizer):,} pieces of {self.encoder}'s vocabulary one by one")
        table = static_table(piece_vectors(self.encoder, self.tokenizer), [self.train_set.fields["input_ids"]], special)
        pair = len(task.spec.text_columns) == 2
        self.fit = fit_static(table, special, pair, task.scheme.num_outputs, self.train_set, holdout_set)
        by_l2 = ", ".join(f"{l2} {accuracy:.4f}" for l2, accuracy in self.fit.holdout_acc_by_l2.items())
        log.info(
            f"static: L2 {self.fit.l2:g} chosen on {len(holdout_set):,} held-out examples (accuracy by L2: {by_l2})"
        )
        fitted = {"l2": self.fit.l2, "holdout_acc_by_l2": self.fit.holdout_acc_by_l2, "encoder": str(self.encoder)}
        self.config = static_config(label_config(task.scheme), table, special, pair, fitted)
        self.config.tinydistill_texts = len(task.spec.text_columns)  # `predict` checks the columns it is given
        self.holdout_examples = len(holdout_set)
        return []

    def report(self, stages, results) -> dict:
        task, out = self.task, self.out
        self.fit.model.save(out, self.config)
        self.tokenizer.save_pretrained(out)
        models = {"static": evaluate_model(task, out, max_length=self.length)}
        if self.teacher is not None:
            models["teacher"] = evaluate_model(task, self.teacher, max_length=self.length)
        data = {
            "positive_label": task.positive_label,
            "note": (
                f"static embeddings of {self.encoder} (PCA to {self.config.hidden_size}, rarity-weighted) and a "
                f"logistic regression, L2 {self.fit.l2:g} chosen on {self.holdout_examples:,} held-out examples"
            ),
            "train": str(task.train_path),
            "train_examples": len(self.train_set),
            "dev": [str(path) for path in task.dev_paths],
            "fit": {
                "l2": self.fit.l2,
                "holdout_acc_by_l2": self.fit.holdout_acc_by_l2,
                "holdout_examples": self.holdout_examples,
                "encoder": source_record(self.encoder),
                "train": train_record(task),
            },
        }
        return write_report(out, task.spec.name, task.spec.metrics, models, data)
