"""The frontier study's runs of the library, each made once and reused: the teacher (`finetune`), each model
shipped as `cli.py export` ships it (ONNX int8), the static baseline (`cli.py static`) and the students
(`distill`), each student recorded as it finishes. The library jobs come in a `Library`, so a test can hand
the study stand-ins (a `distill` that must not run, say) instead of patching this module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from bench.frontier_data import TrainingSets
from bench.frontier_record import StudyRecord
from bench.frontier_spec import PRECISION, STUDENT_LRS, Recipe, TaskStudy
from data import read_table
from distill import (
    DistillSettings,
    TrainSettings,
    base_encoder,
    distill,
    export_model,
    finetune,
    fit_static_baseline,
)
from distill.runs import FinishedRun


@dataclass(frozen=True)
class Library:
    """The library jobs the study runs, as the library names and calls them."""

    finetune: Callable = finetune
    distill: Callable = distill
    export_model: Callable = export_model
    fit_static_baseline: Callable = fit_static_baseline


class StudyJobs:
    """One task's runs: where each lives in the work folder, and making it when it is not there yet."""

    def __init__(
        self,
        spec: TaskStudy,
        work: Path,
        quality_work: Path,
        data: TrainingSets,
        record: StudyRecord,
        time_left: Callable[[], bool],
        library: Library,
    ):
        self.spec, self.work, self.quality_work, self.data, self.record = spec, work, quality_work, data, record
        self.time_left, self.library = time_left, library
        self.base = TrainSettings(
            batch_size=32, eval_steps=spec.eval_steps, select="holdout", holdout=spec.holdout, precision=PRECISION
        )

    def teacher_path(self) -> Path:
        if self.spec.name == "MRPC":  # the quality study's run of the same recipe, made there if absent
            return self.quality_work / f"teacher-lr{self.spec.teacher_lr:g}"
        return self.work / "teacher"

    def teacher(self) -> Path | None:
        run = self.teacher_path()
        if not FinishedRun(run).finished and self.time_left():
            settings = replace(self.base, epochs=self.spec.teacher_epochs, lr=self.spec.teacher_lr, seed=42)
            self.record.timed("teacher", lambda: self.library.finetune(self.data.plain, base_encoder(), run, settings))
        return run if FinishedRun(run).finished else None

    def shipped(self, run: Path) -> Path:
        """The run's model as `cli.py export` ships it (ONNX int8), scored on dev by the export."""
        folder = run.parent / f"{run.name}-int8"
        if not FinishedRun(folder).exported:
            self.library.export_model(run, self.data.dev_set(run), self.data.plain.spec.metrics, folder)
        return folder

    def static(self) -> None:
        """The static baseline, made by the library as `cli.py static` makes it (the regression's L2 chosen on
        the held-out slice); a finished one is not made again."""
        self.library.fit_static_baseline(self.data.plain, base_encoder(), self.static_path(), progress=False)

    def static_path(self) -> Path:
        return self.work / "static"

    def run_path(self, method: str, shape: str, seed: int, lrs=None, budget="matched", balance=False, start="auto"):
        """Where `student` keeps this recipe's run (see Recipe), one folder per seed."""
        recipe = Recipe(method, shape, budget, published_lrs=lrs is not None, balance=balance, start=start)
        return self.work / f"{recipe.name}-{seed}"

    def student(
        self,
        teacher: Path,
        method: str,
        shape: str,
        seed: int,
        lrs=None,
        budget: str = "matched",
        balance=False,
        start: str = "auto",
    ) -> Path:
        """A student of this shape by this method, at STUDENT_LRS (or `lrs`: then named for them), at the
        task's budget (or `budget` "long": TaskStudy.long_second_epochs; "full": that after a first stage of
        TaskStudy.full_first_epochs; named for it), with `distill --balance-classes` when `balance` (named),
        starting as `distill --student-init` says (named when not the method's own); shipped and recorded."""
        run = self.run_path(method, shape, seed, lrs, budget, balance, start)
        if run.name in self.record.runs and not FinishedRun(run).finished:
            return run  # made and recorded by an earlier session: its folder went with that machine
        if not FinishedRun(run).finished:
            data = self.data.for_budget(budget)
            recipe, settings = self._student_settings(data, method, shape, seed, lrs, budget, balance, start)
            carried = FinishedRun(run).training_seconds()  # what an interrupted invocation had checkpointed
            make = partial(self.library.distill, data, teacher, run, settings, recipe, resume=True)
            self.record.timed(run.name, make, carried)
        self.record.timed(f"{run.name} int8", lambda: self.shipped(run))
        self.record.add(run, self.teacher_path())
        return run

    def _student_settings(self, data, method, shape, seed, lrs, budget, balance, start):
        """The distillation recipe and training settings of a student at this budget (see TaskStudy.budgets):
        stage sizes in epochs of `data`, as many examples as the task's own stage sizes say."""
        rows = len(read_table(data.train_path))
        first, second = self.spec.stage_epochs or (n / rows for n in self.spec.stage_examples)
        if budget in ("all", "aug") and self.spec.stage_epochs:  # the examples "matched" takes, from more rows
            plain_rows = len(read_table(self.data.plain.train_path))
            first, second = (epochs * plain_rows / rows for epochs in (first, second))
        first_lr, second_lr = lrs or STUDENT_LRS
        options = {"intermediate_epochs": first, "intermediate_lr": first_lr}
        recipe = DistillSettings(method=method, student=shape, init=start, options=options, balance_classes=balance)
        settings = replace(self.base, epochs=second, lr=second_lr, seed=seed)
        if budget in ("long", "full"):
            settings = replace(settings, epochs=self.spec.long_second_epochs, eval_steps=self.spec.eval_steps_long)
        if budget == "full":
            options["intermediate_epochs"] = self.spec.full_first_epochs
        return recipe, settings
