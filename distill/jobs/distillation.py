"""`distill`: a fine-tuned teacher into a small student on a task's (augmented) data, by the run's
plan (see plan.py): the student is built as planned, then each planned stage trains it."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from data import InputError

from .. import methods
from ..examples.class_balance import WEIGHT_RANGE, class_weights
from ..examples.encoding import LabelledExamples
from ..examples.holdout import split_for_selection
from ..examples.task_data import TaskData, max_length_for
from ..examples.teacher_check import check_teacher
from ..examples.teacher_filter import teacher_agreeing_rows
from ..models.loading import build_student, check_same_tokenizer, load_teacher, load_tokenizer
from ..runs.record import content_or_none, source_record, task_request, train_record
from ..settings import DistillSettings, TeacherFallback, TrainSettings
from ..shipping.speedup import SpeedChoice, shape_for_speedup
from ..training.placement import Placement
from .final_report import final_report
from .finetune import ensure_teacher, teacher_folder
from .plan import DistillPlan, plan_distillation
from .template import Job, RunOptions, Stage, run_job

log = logging.getLogger("tinydistill")


def distill(
    task: TaskData,
    teacher_path: str | Path | None,
    out: str | Path | None,
    settings: TrainSettings,
    recipe: DistillSettings = DistillSettings(),
    *,
    fallback: TeacherFallback = TeacherFallback(),
    max_length: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    with_frontier: bool = False,
    callbacks=(),
) -> dict:
    """Distil the teacher (None: the task's default teacher, fine-tuned first as `fallback` says when
    absent, see `ensure_teacher`) into a student with the recipe's method, in `out` (None:
    runs/student/TASK-METHOD); returns the report (`with_frontier`: the student in every runtime and
    precision too). `callbacks` see every evaluation and checkpoint. A finished run in `out` asked the
    same is returned as it is; one asked otherwise is replaced only with `overwrite`."""
    if teacher_path and fallback.given():
        raise InputError(
            f"--teacher names a finished teacher, so none is fine-tuned: drop {', '.join(fallback.given())}"
        )
    methods.get(recipe.method)  # an unknown method is refused before any teacher is made
    if recipe.balance_classes and task.scheme.num_outputs == 1:
        raise InputError("--balance-classes weighs classes; a regression task has none: drop it")
    out = Path(out or Path("runs") / "student" / f"{task.spec.name}-{recipe.method}")
    job = Distillation(out, settings, task, recipe, fallback, teacher_path, max_length, with_frontier)
    return run_job(job, RunOptions(overwrite, resume, progress, tuple(callbacks)))


@dataclass
class Distillation(Job):
    """The teacher into a student by the run's plan: the student built as planned, then each planned
    stage trains it with the objective its method builds."""

    task: TaskData
    recipe: DistillSettings
    fallback: TeacherFallback
    teacher_given: str | Path | None
    max_length: int | None
    with_frontier: bool
    command = "distill"

    @property
    def teacher_path(self) -> Path:
        return Path(self.teacher_given or teacher_folder(self.task))

    def request(self) -> dict:
        return _request(
            self.task, self.recipe, self.settings, self.fallback, self.max_length, self.with_frontier, self.teacher_path
        )

    def before(self, options) -> None:
        if not self.teacher_given:
            ensure_teacher(self.task, self.fallback, progress=options.progress, callbacks=options.callbacks)

    def stages(self, placement, options) -> list[Stage]:
        task, settings, recipe = self.task, self.settings, self.recipe
        tokenizer = load_tokenizer(self.teacher_path, "--teacher")
        teacher = load_teacher(self.teacher_path, task.scheme)
        self.length = max_length_for(task, self.max_length)
        dev_set = task.encode(task.dev_paths[0], tokenizer, self.length)
        self.check = check_teacher(teacher, dev_set, placement.device)
        if not self.check.clearly_above:
            log.warning(f"warning: {self.check.warning(self.teacher_path, fallback=not self.teacher_given)}")
        plan = plan_distillation(recipe, settings, teacher.config, speed=_speed_choice(recipe, teacher, dev_set))
        log.info(plan.describe())
        check_same_tokenizer(tokenizer, plan.student)
        self.sets = _examples(task, teacher, tokenizer, self.length, settings, dev_set, plan, placement, options)
        train_set = self.sets.train
        student = build_student(
            plan.student, teacher, task.scheme, plan.init, calibration=train_set, teacher_layers=plan.imitated_layers
        )
        student.config.tinydistill_texts = len(task.spec.text_columns)  # `predict` checks the columns it is given
        recorded = _recorded(recipe, plan, self.teacher_path, task, self.length, self.sets.filtered)
        self.method = methods.get(plan.method)
        self.options = self.method.Options(**plan.options)
        objectives = [
            self.method.objective(stage, self.options, plan.layer_map, student, teacher) for stage in plan.stages
        ]
        self.balance = (
            _balanced(teacher, train_set, placement, options.progress, objectives) if plan.balance_classes else None
        )
        stages = []
        for planned, objective in zip(plan.stages, objectives):
            stage = Stage(
                planned.description,
                student,
                objective,
                train_set,
                self.out / planned.folder,
                planned.settings(settings),
                recorded,
                teacher=teacher,
                tokenizer=tokenizer,
            )
            if planned.scored:  # only a scored stage evaluates (and chooses its checkpoint) as it trains
                stage.dev_set, stage.holdout_set, stage.metrics = self.sets.dev, self.sets.holdout, task.spec.metrics
            stages.append(stage)
        return stages

    def report(self, stages, results) -> dict:
        report = dict(
            note=self.method.untrained_head(self.options),
            with_frontier=self.with_frontier,
            teacher_filter=self.sets.filtered,
            class_balance=self.balance,
            teacher_check=self.check.record(),
        )
        sets = self.sets
        return final_report(
            self.task, self.out, self.length, self.teacher_path, sets.train, sets.holdout, self.settings, **report
        )


def _request(task: TaskData, recipe, settings, fallback, max_length, with_frontier, teacher_path: Path) -> dict:
    """What the user asked of this run, before any model loads: a finished run asked the same is done."""
    return {
        "command": "distill",
        "task": task_request(task),
        "teacher": content_or_none(teacher_path),
        "teacher_fallback": asdict(fallback),
        "settings": asdict(settings),
        # a student folder (a general student) by content: one remade at the same path is another start
        "recipe": {**asdict(recipe), "student": content_or_none(recipe.student) or recipe.student},
        "max_length": max_length,
        "with_frontier": with_frontier,
    }


def _speed_choice(recipe: DistillSettings, teacher, dev_set) -> SpeedChoice | None:
    """For --speedup: the candidate shapes timed against the teacher's on real dev examples (see speedup.py)."""
    if recipe.speedup is None:
        return None
    if recipe.student != "auto":
        raise InputError(f"--speedup chooses the student's shape: drop --student {recipe.student}, or --speedup")
    log.info(f"--speedup {recipe.speedup:g}: timing candidate shapes as shipped (ONNX Runtime int8) ...")
    same_width = methods.get(recipe.method).same_width
    return shape_for_speedup(recipe.speedup, teacher.config, dev_set, same_width=same_width)


def _recorded(recipe: DistillSettings, plan: DistillPlan, teacher_path, task: TaskData, length: int, filtered) -> dict:
    """What settings.json records of the run beyond the training settings: the recipe as asked, the
    plan as resolved, the inputs by content (a resume with any of them changed is refused)."""
    return {
        "recipe": asdict(recipe),
        "plan": plan.record(),
        "teacher": source_record(teacher_path),
        "train": train_record(task),
        "max_length": length,
        "labels": task.spec.labels,
        "student_folder": None if plan.shape_built else source_record(plan.student),
        "teacher_filter": filtered,
    }


@dataclass
class _Examples:
    """The examples a run trains on, scores as it trains, and chooses its checkpoint on."""

    train: LabelledExamples
    dev: LabelledExamples
    holdout: LabelledExamples | None
    filtered: dict | None  # what --filter-teacher dropped


def _examples(task: TaskData, teacher, tokenizer, length: int, settings, dev_set, plan, placement, options):
    train_set, holdout_set, rows = split_for_selection(task, tokenizer, length, settings)
    filtered = None
    if plan.filter_teacher:
        train_set, filtered = _filtered_by_teacher(task, teacher, train_set, rows, placement, options.progress)
    return _Examples(train_set, dev_set, holdout_set, filtered)


def _balanced(teacher, train_set: LabelledExamples, placement: Placement, progress: bool, objectives) -> dict:
    """--balance-classes: the class weights (see `class_balance`) given to every objective's soft-target
    terms, said and returned for the run's report."""
    device, precision = placement.device, placement.precision
    weights, facts = class_weights(teacher, train_set, device=device, precision=precision, progress=progress)
    for objective in objectives:
        objective.class_weights = weights
    shares = ", ".join(
        f"{labelled:.0%} / {scored:.0%} -> x{weight:.2f}"
        for labelled, scored, weight in zip(facts["labelled_shares"], facts["teacher_shares"], facts["weights"])
    )
    reached = ", ".join(f"{share:.0%}" for share in facts["weighted_shares"])
    clipped = f", clipped to {WEIGHT_RANGE}" if facts["clipped"] else ""
    log.info(
        f"--balance-classes: class shares labelled / teacher, and weights, class by class: {shares}{clipped}; "
        f"weighted shares {reached} ({precision})"
    )
    return facts


def _filtered_by_teacher(task: TaskData, teacher, train_set, rows, placement: Placement, progress: bool):
    """The training rows without the augmented copies that the teacher classes otherwise than their
    original example (see `filtering`), and what was dropped, for the run's record and report.
    `rows` are the rows of the training file that `train_set` holds."""
    if task.train_path == task.original_train_path:
        raise InputError("--filter-teacher drops augmented copies: train on augmented data (--aug) or drop it")
    if task.scheme.num_outputs == 1:
        raise InputError("--filter-teacher compares classes; a regression task has none: drop it")
    example_of, _ = task.example_of_each_row()
    owners = [example_of[row] for row in rows]
    device, precision = placement.device, placement.precision
    kept, facts = teacher_agreeing_rows(
        teacher, train_set, owners, device=device, precision=precision, progress=progress
    )
    log.info(
        f"--filter-teacher: dropped {facts['dropped']:,} of {facts['copies']:,} augmented copies "
        f"({facts['dropped_share']:.1%}) that the teacher classes otherwise than their original ({precision})"
    )
    return train_set.subset(kept), facts
