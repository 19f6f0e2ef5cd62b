"""`distill`: a fine-tuned teacher into a small student on a task's (augmented) data, by the run's
plan (see plan.py): the student is built as planned, then each planned stage trains it."""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from accelerate.utils import set_seed

from data import InputError
from data.hardware import process_device, resolve_precision

from . import methods
from .class_balance import WEIGHT_RANGE, class_weights
from .features import LabelledExamples
from .filtering import teacher_agreeing_rows
from .finetuning import TeacherFallback, ensure_teacher, teacher_folder
from .holdout import split_for_selection
from .models import build_student, check_same_tokenizer, load_teacher, load_tokenizer
from .plan import DistillPlan, DistillSettings, plan_distillation
from .run_clock import RunClock, measure_stage
from .run_folder import RunFolder
from .run_record import content_or_none, final_report, source_record, task_request, train_record
from .speedup import SpeedChoice, shape_for_speedup
from .task_data import TaskData, max_length_for
from .teacher_check import check_teacher
from .trainer import TrainSettings, train

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
    fallback_made = not teacher_path
    teacher_path = Path(teacher_path or teacher_folder(task))
    request = functools.partial(_request, task, recipe, settings, fallback, max_length, with_frontier)
    with RunFolder(out, "distill", overwrite) as folder:
        finished = folder.finished_as(request(teacher_path))  # before any model loads: a rerun is free
        if finished is not None:
            return finished
        if fallback_made:
            ensure_teacher(task, fallback, progress=progress, callbacks=callbacks)
        begin = functools.partial(folder.begin, request(teacher_path))  # the teacher as made, for a rerun
        run = dict(max_length=max_length, resume=resume, progress=progress, callbacks=callbacks, begin=begin)
        return _distilled(task, teacher_path, out, settings, recipe, fallback_made, with_frontier, **run)


def _distilled(
    task,
    teacher_path: Path,
    out: Path,
    settings,
    recipe,
    fallback_made: bool,
    with_frontier: bool,
    *,
    max_length,
    resume,
    progress,
    callbacks,
    begin,
) -> dict:
    """The run itself, in a folder this process holds: plan, build, train each stage, report. `begin()`
    readies the folder once every input has been checked: bad input leaves nothing behind."""
    set_seed(settings.seed)  # student, task head and projections are initialised under --seed
    tokenizer = load_tokenizer(teacher_path, "--teacher")
    teacher = load_teacher(teacher_path, task.scheme)
    length = max_length_for(task, max_length)
    dev_set = task.encode(task.dev_paths[0], tokenizer, length)
    check = check_teacher(teacher, dev_set, process_device(settings.device))
    if not check.clearly_above:
        log.warning(f"warning: {check.warning(teacher_path, fallback=fallback_made)}")
    plan = plan_distillation(recipe, settings, teacher.config, speed=_speed_choice(recipe, teacher, dev_set))
    log.info(plan.describe())
    check_same_tokenizer(tokenizer, plan.student)
    sets = _examples(task, teacher, tokenizer, length, settings, dev_set, plan.filter_teacher, progress)
    student = build_student(
        plan.student, teacher, task.scheme, plan.init, calibration=sets.train, teacher_layers=plan.imitated_layers
    )
    student.config.tinydistill_texts = len(task.spec.text_columns)  # `predict` checks the columns it is given
    recorded = _recorded(recipe, plan, teacher_path, task, length, sets.filtered)
    method = methods.get(plan.method)
    options = method.Options(**plan.options)
    objectives = [method.objective(stage, options, plan.layer_map, student, teacher) for stage in plan.stages]
    balance = _balanced(teacher, sets.train, settings, progress, objectives) if plan.balance_classes else None
    clock = _clock(plan, objectives, student, teacher, sets, settings, progress)
    begin()
    run = dict(teacher=teacher, tokenizer=tokenizer, resume=resume, progress=progress, callbacks=callbacks, clock=clock)
    try:
        for index, (stage, objective) in enumerate(zip(plan.stages, objectives)):
            _train_stage(
                stage, objective, student, sets, task.spec.metrics, out, settings, recorded, stage_index=index, **run
            )
    finally:
        clock.close()
    note = method.untrained_head(options)
    report = dict(
        note=note,
        with_frontier=with_frontier,
        teacher_filter=sets.filtered,
        class_balance=balance,
        teacher_check=check.record(),
    )
    return final_report(task, out, length, teacher_path, sets.train, sets.holdout, settings, **report)


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


def _examples(task: TaskData, teacher, tokenizer, length: int, settings, dev_set, filter_teacher: bool, progress):
    train_set, holdout_set, rows = split_for_selection(task, tokenizer, length, settings)
    filtered = None
    if filter_teacher:
        train_set, filtered = _filtered_by_teacher(task, teacher, train_set, rows, settings, progress)
    return _Examples(train_set, dev_set, holdout_set, filtered)


def _clock(plan: DistillPlan, objectives, student, teacher, sets: _Examples, settings, progress: bool) -> RunClock:
    """Every stage timed on a short warm-up before the first step, so that the estimate said and the
    progress bar's ETA cover the whole run."""
    costs = []
    for stage, objective in zip(plan.stages, objectives):
        scored = [examples for examples in (sets.dev, sets.holdout) if examples is not None] if stage.scored else []
        costs.append(
            measure_stage(stage.description, student, objective, teacher, sets.train, scored, stage.settings(settings))
        )
    return RunClock.said(costs, progress=progress)


def _train_stage(stage, objective, student, sets: _Examples, metrics, out: Path, settings, recorded, **run):
    """Train one planned stage with the objective the plan's method built for it; only a scored stage
    evaluates (and chooses its checkpoint) as it trains."""
    dev, holdout = (sets.dev, sets.holdout) if stage.scored else (None, None)
    train(
        student,
        objective,
        sets.train,
        dev,
        metrics,
        out / stage.folder,
        stage.settings(settings),
        holdout_set=holdout,
        description=stage.description,
        recorded=recorded,
        **run,
    )


def _scoring_device(settings: TrainSettings) -> tuple:
    """Where and in which precision the teacher scores the training rows before training: this process's own
    device (each rank scores on its own GPU) in the run's precision."""
    device = process_device(settings.device)
    return device, resolve_precision(settings.precision, device)


def _balanced(teacher, train_set: LabelledExamples, settings: TrainSettings, progress: bool, objectives) -> dict:
    """--balance-classes: the class weights (see `class_balance`) given to every objective's soft-target
    terms, said and returned for the run's report."""
    device, precision = _scoring_device(settings)
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


def _filtered_by_teacher(task: TaskData, teacher, train_set, rows, settings: TrainSettings, progress: bool):
    """The training rows without the augmented copies that the teacher classes otherwise than their
    original example (see `filtering`), and what was dropped, for the run's record and report.
    `rows` are the rows of the training file that `train_set` holds."""
    if task.train_path == task.original_train_path:
        raise InputError("--filter-teacher drops augmented copies: train on augmented data (--aug) or drop it")
    if task.scheme.num_outputs == 1:
        raise InputError("--filter-teacher compares classes; a regression task has none: drop it")
    example_of, _ = task.example_of_each_row()
    owners = [example_of[row] for row in rows]
    device, precision = _scoring_device(settings)
    kept, facts = teacher_agreeing_rows(
        teacher, train_set, owners, device=device, precision=precision, progress=progress
    )
    log.info(
        f"--filter-teacher: dropped {facts['dropped']:,} of {facts['copies']:,} augmented copies "
        f"({facts['dropped_share']:.1%}) that the teacher classes otherwise than their original ({precision})"
    )
    return train_set.subset(kept), facts
