"""How long a run will take, said before its first step, and one progress bar over all of its stages.

Each stage's cost is measured, not guessed: a short warm-up runs the stage's whole training step (batch
collation, teacher, the objective forward and backward, clipping and the optimizer's step) on a few
length-grouped batches of its real examples (weights and random state restored afterwards), and the
student's predictions on a slice of the sets each evaluation scores are timed. The bar counts estimated
seconds of work, so its ETA weighs each stage's steps by their own cost and covers the whole run
(TinyBERT's stage 1 steps cost more than stage 2's); it corrects itself as the real rate shows.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import statistics
import time
from dataclasses import dataclass, replace

import torch
from torch import nn
from tqdm import tqdm

from data.hardware import autocast_for

from ..examples.encoding import LabelledExamples
from ..examples.predictions import predict
from . import forward
from .optimizer import make_optimizer
from .placement import Placement
from .teacher_store import TeacherStore

log = logging.getLogger("tinydistill")

EVALUATION_SAMPLE = 128  # examples predicted to time an evaluation
WARM_UP_BATCHES = 3  # timed, after an untimed repeat of the first (allocations, kernel selection)
WARM_UP_PASSES = WARM_UP_BATCHES + 1  # training steps the warm-up takes, the untimed one included


@dataclass(frozen=True)
class StageBudget:
    """A stage's optimizer steps, per epoch and in all, and the steps between evaluations."""

    steps: int
    steps_per_epoch: int
    eval_every: int

    @classmethod
    def of(cls, examples: int, settings, *, scored: bool, processes: int = 1) -> StageBudget:
        """The budget `settings` give `examples` training examples shared by `processes` processes. With
        nothing to score (general distillation) an evaluation is a loss record and a checkpoint to
        resume from, and one corpus pass can take hours: then every tenth of the run, at most an epoch apart."""
        return cls.from_batches(
            math.ceil(math.ceil(examples / settings.batch_size) / processes), settings, scored=scored
        )

    @classmethod
    def from_batches(cls, batches: int, settings, *, scored: bool) -> StageBudget:
        """The budget of a run whose epoch is `batches` batches in this process."""
        per_epoch = max(1, math.ceil(batches / settings.grad_accum))
        steps = settings.max_steps or max(1, math.ceil(settings.epochs * per_epoch))
        every = settings.eval_steps or (per_epoch if scored else min(per_epoch, math.ceil(steps / 10)))
        return cls(steps, per_epoch, every)

    @property
    def evaluations(self) -> int:
        return math.ceil(self.steps / self.eval_every)


@dataclass(frozen=True)
class StageCost:
    """A stage's measured cost: seconds per optimizer step (the teacher's share apart, since a cached
    teacher runs in the first epoch only, and only for the examples no earlier run stored) and per
    evaluation."""

    description: str
    budget: StageBudget
    student_step_s: float
    teacher_step_s: float
    evaluation_s: float
    teacher_cached: bool
    teacher_known: float = 0.0  # the share of the examples whose teacher outputs the store already holds

    def _teacher_steps(self, step: int) -> float:
        """Steps' worth of teacher passes in the first `step` steps."""
        if not self.teacher_cached:
            return step
        return min(step, self.budget.steps_per_epoch) * (1 - self.teacher_known)

    @property
    def step_s(self) -> float:
        """Seconds per step on average over the stage (a cached teacher's passes spread over all of them)."""
        steps = self.budget.steps
        return (self.seconds_until(steps) - (steps // self.budget.eval_every) * self.evaluation_s) / steps

    def seconds_until(self, step: int) -> float:
        """Estimated seconds of work from this stage's start to the end of `step` (evaluations included)."""
        teacher = self._teacher_steps(step) * self.teacher_step_s
        return step * self.student_step_s + teacher + (step // self.budget.eval_every) * self.evaluation_s

    @property
    def seconds(self) -> float:
        return self.seconds_until(self.budget.steps) + (
            self.evaluation_s if self.budget.steps % self.budget.eval_every else 0
        )

    def step_seconds(self, step: int) -> float:
        """The estimated work of step number `step` (1-based), with the evaluation that follows it."""
        return (
            self.seconds_until(step)
            - self.seconds_until(step - 1)
            + (self.evaluation_s if step == self.budget.steps and step % self.budget.eval_every else 0.0)
        )


def measure_stage(
    description: str,
    student,
    objective,
    teacher,
    train_set: LabelledExamples,
    scored_sets: list[LabelledExamples],
    settings,
    placement: Placement | None = None,
) -> StageCost:
    """Time this stage's training step on a few batches of `train_set` as the run will train it (device,
    precision, length grouping, optimizer), and the student's predictions on a slice of `scored_sets` (the sets
    each evaluation scores; none for a stage that scores nothing). The models' weights, gradients and
    every random stream are left as they were."""
    placement = placement or Placement.of(settings)
    device, precision = placement.device, placement.precision
    budget = StageBudget.of(len(train_set), settings, scored=bool(scored_sets), processes=_launched("WORLD_SIZE", 1))
    chunks = _warm_up_rows(train_set, settings)
    trainable = nn.ModuleList([student, objective])
    student_s, teacher_s, optimizer_s = [], [], []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        for model in (student, objective, teacher):
            if model is not None:
                model.to(device)
        kept = [p.detach().clone() for p in trainable.parameters()]  # the optimizer's steps are undone after
        optimizer = make_optimizer(trainable, replace(settings, lr=0.0))  # the step's cost, not its change
        autocast = autocast_for(device, precision)
        was_training = student.training
        student.train()
        step = functools.partial(
            _timed_step, student, objective, teacher, optimizer, train_set, settings.max_grad_norm, device, autocast
        )
        step(chunks[0])  # untimed: allocations, kernel selection
        for rows in chunks:
            for seconds, part in zip(step(rows), (student_s, teacher_s, optimizer_s)):
                part.append(seconds)
        with torch.no_grad():
            for parameter, value in zip(trainable.parameters(), kept):
                parameter.copy_(value)
        del optimizer, kept
        evaluation_s = _evaluation_seconds(student, scored_sets, device)
        student.train(was_training)
    grad_accum = settings.grad_accum
    cached = forward.TeacherCache.allowed(objective, teacher, len(train_set))
    store = TeacherStore.for_run(objective, teacher, precision, device, _launched("WORLD_SIZE", 1)) if cached else None
    return StageCost(
        description,
        budget,
        # means over the length strata, as the run's steps mix them; the optimizer steps once per grad_accum batches
        grad_accum * statistics.fmean(student_s) + statistics.fmean(optimizer_s),
        grad_accum * statistics.fmean(teacher_s),
        evaluation_s,
        teacher_cached=cached,
        teacher_known=store.known_share(train_set) if store is not None else 0.0,
    )


class RunClock:
    """The whole run's estimate, said once, and its single progress bar (see the module's docstring)."""

    def __init__(self, stages: list[StageCost], *, progress: bool = True):
        self.stages, self.progress = stages, progress
        self.bar: tqdm | None = None
        self.index = 0

    @classmethod
    def said(cls, stages: list[StageCost], *, progress: bool = True) -> RunClock:
        """The clock of a run of these stages, its estimate logged (by the main process); the bar shows
        where `progress` asks (in the local main process). A run with no stages says nothing."""
        clock = cls(stages, progress=progress and _launched("LOCAL_RANK", 0) == 0)
        if stages and _launched("RANK", 0) == 0:
            log.info(clock.describe())
        return clock

    @property
    def seconds(self) -> float:
        return sum(stage.seconds for stage in self.stages)

    def describe(self) -> str:
        parts = []
        for stage in self.stages:
            steps = f"{stage.budget.steps:,} steps of {stage.step_s:.2f} s"
            if stage.teacher_cached and stage.teacher_known:
                steps += f"; {stage.teacher_known:.0%} of the teacher's outputs stored by earlier runs"
            if stage.evaluation_s:
                steps += f", {stage.budget.evaluations} evaluations of {stage.evaluation_s:.1f} s"
            parts.append(f"{stage.description} {_duration(stage.seconds)} ({steps})")
        return f"estimated time: {_duration(self.seconds)} from a timed warm-up: " + "; ".join(parts)

    def begin(self, index: int, step: int) -> None:
        """Stage `index` starts at `step` (past 0 when resumed): the bar moves to that point without
        counting the skipped work into its rate."""
        self.index = index
        if not self.progress:
            return
        done = sum(stage.seconds for stage in self.stages[:index]) + self.stages[index].seconds_until(step)
        if self.bar is None:
            self.bar = tqdm(
                desc=self.stages[index].description,
                total=math.ceil(self.seconds * 10) / 10,  # never below the steps' sum: tqdm warns past 100%
                initial=round(done, 1),
                bar_format="{desc}{percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
            )
        elif done > self.bar.n:
            skipped = done - self.bar.n
            self.bar.n += skipped
            self.bar.initial += skipped  # tqdm's mean rate counts from `initial`: skipped work is not speed
        self.bar.set_description(self.stages[index].description, refresh=False)

    def step(self, step: int, **shown) -> None:
        """Step `step` (1-based) of the current stage is done; `shown` goes beside the bar."""
        if self.bar is not None:
            stage = self.stages[self.index]
            self.bar.update(min(stage.step_seconds(step), self.bar.total - self.bar.n))  # float sums overshoot
            self.bar.set_postfix({"step": f"{step:,}/{stage.budget.steps:,}", **shown})

    def close(self) -> None:
        """After the last stage (or when the run stops early)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _timed_step(student, objective, teacher, optimizer, train_set, max_grad_norm, device, autocast, rows):
    """One training step on `rows` as the loop takes it; its seconds: the student's share (collation, forward
    and backward), the teacher's, and clipping with the optimizer's step."""
    started = time.perf_counter()
    batch = train_set.collate([train_set[int(i)] for i in rows])
    batch = {name: value.to(device) for name, value in batch.items()}
    collated = time.perf_counter()
    teacher_out = forward.teacher_outputs(objective, teacher, None, batch, autocast)
    _synchronise(device)
    middle = time.perf_counter()
    with autocast:
        out = forward.run_model(student, batch, objective.needs)
        loss, _ = objective(out, teacher_out, batch)
    loss.float().backward()
    _synchronise(device)
    backward = time.perf_counter()
    torch.nn.utils.clip_grad_norm_([p for group in optimizer.param_groups for p in group["params"]], max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    _synchronise(device)
    return collated - started + backward - middle, middle - collated, time.perf_counter() - backward


def _warm_up_rows(train_set: LabelledExamples, settings) -> list[torch.Tensor]:
    """The rows of up to WARM_UP_BATCHES batches of random examples (a fixed generator: no global random
    state is drawn): when the run groups by length, as its batches are, the longest, middle and shortest
    thirds of the sample, so that their mean cost is the run's."""
    size = min(len(train_set), settings.batch_size * WARM_UP_BATCHES)
    rows = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(0))[:size]
    if settings.group_by_length:
        lengths = torch.as_tensor(train_set.lengths())[rows]
        rows = rows[torch.argsort(lengths, descending=True, stable=True)]
    return [chunk for chunk in rows.split(max(1, size // WARM_UP_BATCHES)) if len(chunk)][:WARM_UP_BATCHES]


def _evaluation_seconds(student, scored_sets, device) -> float:
    """One evaluation: every example of `scored_sets` predicted, timed on a slice of the largest one
    (unsorted, in `predict`'s batches, as the evaluations run)."""
    total = sum(len(examples) for examples in scored_sets)
    if not total:
        return 0.0
    largest = max(scored_sets, key=len)
    part = largest.subset(range(min(len(largest), EVALUATION_SAMPLE)))
    predict(student, part.subset(range(min(len(part), 8))), device=device)  # untimed: the first call
    started = time.perf_counter()
    predict(student, part, device=device)
    _synchronise(device)
    return (time.perf_counter() - started) / len(part) * total


def _launched(variable: str, default: int) -> int:
    """The process's place as torchrun or accelerate launch set it. Read from the environment: the
    accelerate state must not be created before the run's own Accelerator, which configures it."""
    return int(os.environ.get(variable, default))


def _synchronise(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"
