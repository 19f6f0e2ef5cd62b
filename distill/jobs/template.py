"""The run template every job follows, written once: claim the run folder (a finished run asked the
same is returned as it is, before any model loads), do what must come first on the user's behalf (a
fallback teacher), load and check every input and plan the stages (nothing is written yet, so bad
input leaves nothing behind), record the request, time every stage and say the estimate, train the
stages in order under one progress bar, and write the report. A job says only what it plans, trains
and reports; see finetune.py, distillation.py and general.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from accelerate.utils import set_seed

from ..examples import LabelledExamples
from ..methods.objectives import Objective
from ..runs import RunFolder, files
from ..settings import TrainSettings
from ..training import RunClock, TrainResult, measure_stage, train
from ..training.placement import Placement


@dataclass(frozen=True)
class RunOptions:
    """How a job is run, whatever the job: what a finished or interrupted folder means, and who hears."""

    overwrite: bool = False  # replace a finished run made with another request
    resume: bool = False  # continue from the checkpoint
    progress: bool = True
    callbacks: tuple = ()  # see `training.TrainCallback`


@dataclass
class Stage:
    """One call of the training loop as a job plans it: the model and objective, its examples, where it
    trains (a stage before the last trains in a subfolder), its budget, and what settings.json records."""

    description: str
    model: object
    objective: Objective
    train_set: LabelledExamples
    folder: Path
    settings: TrainSettings
    recorded: dict
    dev_set: LabelledExamples | None = None
    holdout_set: LabelledExamples | None = None
    metrics: tuple = ()
    teacher: object = None
    tokenizer: object = None

    @property
    def scored_sets(self) -> list[LabelledExamples]:
        return [examples for examples in (self.dev_set, self.holdout_set) if examples is not None]


@dataclass
class Job:
    """Subclass as a dataclass: name the command, say the request, plan the stages, write the report."""

    out: Path
    settings: TrainSettings
    command: ClassVar[str] = ""  # for the folder's lock and its messages
    finished_file: ClassVar[str] = files.REPORT  # written last: its presence means the run finished

    def request(self) -> dict:
        """What the user asked, before any model loads: a finished run asked the same is done."""
        raise NotImplementedError

    def before(self, options: RunOptions) -> None:
        """What is done on the user's behalf before anything loads (none by default)."""

    def stages(self, placement: Placement, options: RunOptions) -> list[Stage]:
        """Load and check every input and plan the stages; nothing may be written here. A job that trains
        nothing with the loop (`static`, a closed-form fit) fits in memory here and returns none."""
        raise NotImplementedError

    def report(self, stages: list[Stage], results: list[TrainResult]) -> dict:
        """After the last stage: evaluate and write the report (its file marks the run finished)."""
        raise NotImplementedError


def run_job(job: Job, options: RunOptions = RunOptions()) -> dict:
    """Run `job` by the template (see the module docstring); returns its report."""
    with RunFolder(job.out, job.command, options.overwrite, finished_file=job.finished_file) as folder:
        finished = folder.finished_as(job.request())
        if finished is not None:
            return finished
        job.before(options)
        set_seed(job.settings.seed)  # new weights (a task head, a student, projections) follow --seed
        placement = Placement.of(job.settings)
        stages = job.stages(placement, options)
        clock = RunClock.said([_cost(stage, placement) for stage in stages], progress=options.progress)
        folder.begin(job.request())  # the request as it stands now: a fallback teacher made counts
        try:
            results = [_train(stage, index, clock, placement, options) for index, stage in enumerate(stages)]
        finally:
            clock.close()
        return job.report(stages, results)


def _cost(stage: Stage, placement: Placement):
    """The stage's measured cost (see `training.measure_stage`), at the budget it will train with."""
    settings = stage.settings.with_loop_defaults()
    return measure_stage(
        stage.description,
        stage.model,
        stage.objective,
        stage.teacher,
        stage.train_set,
        stage.scored_sets,
        settings,
        placement,
    )


def _train(stage: Stage, index: int, clock: RunClock, placement: Placement, options: RunOptions) -> TrainResult:
    return train(
        stage.model,
        stage.objective,
        stage.train_set,
        stage.dev_set,
        stage.metrics,
        stage.folder,
        stage.settings,
        holdout_set=stage.holdout_set,
        teacher=stage.teacher,
        tokenizer=stage.tokenizer,
        resume=options.resume,
        progress=options.progress,
        description=stage.description,
        recorded=stage.recorded,
        callbacks=options.callbacks,
        clock=clock,
        stage_index=index,
        placement=placement,
    )
