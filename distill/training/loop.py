"""One training loop for fine-tuning and every distillation objective.

Device, mixed precision and several processes go through Hugging Face accelerate (launch with
`accelerate launch` or `torchrun` for several GPUs); this loop never branches on them. The run folder
holds the best student as a `save_pretrained` folder, `metrics.jsonl`, `settings.json`, and a
`checkpoint/` (model, optimizer, scheduler, RNG states, step) that `resume=True` continues from.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedDataParallelKwargs, set_seed
from torch import nn
from torch.utils.data import DataLoader
from transformers import get_linear_schedule_with_warmup

from data import InputError
from data.stopping import DiskFull, Stopped, keep, whole_writes, writing

from ..examples.encoding import LabelledExamples
from ..examples.predictions import predict, score
from ..methods.objectives import Objective
from ..runs import FinishedRun, files
from ..settings import SELECTIONS, TrainSettings
from . import checkpoint, forward
from .batches import EpochShuffle
from .clock import RunClock, StageBudget, measure_stage
from .optimizer import make_optimizer
from .placement import Placement
from .teacher_store import TeacherStore

log = logging.getLogger("tinydistill")


@dataclass
class TrainResult:
    steps: int


class TrainCallback:
    """Told of a run's progress; subclass and override what you need (a test stops a run after its
    first checkpoint, a study logs evaluations). `out` is the stage's run folder."""

    def on_evaluation(self, out: Path, record: dict) -> None:
        """After each evaluation, before its checkpoint: `record` is the metrics.jsonl line."""

    def on_checkpoint(self, out: Path, state: dict) -> None:
        """After each checkpoint is in place: `state` holds step, epoch and the best metric so far."""


class _Trainable(nn.Module):
    """The student and the objective's own parameters (projections), trained and saved together; its
    forward is the loss, so that a DistributedDataParallel wrapper sees the whole step."""

    def __init__(self, student: nn.Module, objective: Objective):
        super().__init__()
        self.student, self.objective = student, objective

    def forward(self, batch: dict, teacher):
        student = forward.run_model(self.student, batch, self.objective.needs)
        return self.objective(student, teacher, batch)


def train(
    student,
    objective: Objective,
    train_set: LabelledExamples,
    dev_set: LabelledExamples | None,
    metric_names,
    out_dir: str | Path,
    settings: TrainSettings,
    *,
    holdout_set: LabelledExamples | None = None,
    teacher=None,
    tokenizer=None,
    resume: bool = False,
    progress: bool = True,
    description: str = "train",
    recorded: dict | None = None,
    callbacks=(),
    clock: RunClock | None = None,
    stage_index: int = 0,
    placement: Placement | None = None,
) -> TrainResult:
    """Train `student` with `objective`; every eval_steps, score `dev_set` (and `holdout_set`) and keep
    the checkpoint `settings.select` asks for: the last, or the best on the holdout or dev set.

    settings.json records the training settings, the precision and device they resolved to, and
    `recorded` (what else shaped the model: data, teacher, recipe); --resume refuses any difference.
    Each of `callbacks` (see `TrainCallback`) is told of every evaluation and every checkpoint.
    `clock` is the whole run's (see run_clock), of which this is stage number `stage_index`; without one, this
    stage is timed and its estimate said before the first step. `placement` is the run's device and
    precision (see `Placement`), resolved from the settings when not given."""
    out = Path(out_dir)
    settings = _checked(settings, objective, teacher, dev_set, holdout_set)
    placement = placement or Placement.of(settings)
    scored_sets = [examples for examples in (dev_set, holdout_set) if examples is not None]
    own_clock = clock is None
    if own_clock:
        cost = measure_stage(description, student, objective, teacher, train_set, scored_sets, settings, placement)
        clock = RunClock.said([cost], progress=progress)
    loop = _Loop.prepare(student, objective, train_set, teacher, settings, placement, scored=bool(scored_sets))
    state = _start(loop, out, settings, recorded, resume, description, len(train_set))
    loop.accelerator.wait_for_everyone()
    clock.begin(stage_index, state["step"])
    try:
        _run(loop, state, {"dev": dev_set, "holdout": holdout_set}, metric_names, out, tokenizer, callbacks, clock)
    except (Stopped, DiskFull) as error:
        keep(error, _kept(out))
        raise
    finally:
        if own_clock:
            clock.close()
    return TrainResult(state["step"])


def _run(loop: _Loop, state: dict, sets: dict, metric_names, out: Path, tokenizer, callbacks, clock) -> None:
    """The steps from `state` to the end of the budget, evaluating and checkpointing every eval_every."""
    recent: list[dict] = []  # loss and its parts for every batch since the last evaluation
    tokens, started = 0, time.perf_counter()
    before = state.get("seconds", 0.0)  # the training time an interrupted run had checkpointed
    while state["step"] < loop.total_steps:
        for batch in loop.batches(state):
            loss, parts = loop.step(batch)
            state["batches_done"] += 1
            tokens += int(batch["attention_mask"].sum()) * loop.accelerator.num_processes
            recent.append({"loss": loss.item(), **parts})
            if not loop.accelerator.sync_gradients:
                continue
            state["step"] += 1
            if state["step"] % loop.eval_every == 0 or state["step"] == loop.total_steps:
                record = {"step": state["step"], "epoch": state["epoch"], **_means(recent)}
                recent = []
                state["seconds"] = before + time.perf_counter() - started
                _evaluate_and_checkpoint(loop, sets, metric_names, out, tokenizer, state, record, callbacks)
            speed = tokens / (time.perf_counter() - started)
            clock.step(state["step"], loss=f"{loss.item():.4f}", tokens_per_s=f"{speed:.0f}")
            if state["step"] >= loop.total_steps:
                break
        else:
            state["epoch"] += 1
            state["batches_done"] = 0


def _checked(settings: TrainSettings, objective: Objective, teacher, dev_set, holdout_set) -> TrainSettings:
    """The settings with the loop's own defaults filled in, once they make sense."""
    if objective.needs_teacher and teacher is None:
        raise InputError("this objective needs a teacher model")
    if settings.select not in SELECTIONS:
        raise InputError(f"--select must be one of {', '.join(SELECTIONS)}, got {settings.select!r}")
    if settings.select == "holdout" and dev_set is not None and holdout_set is None:
        raise InputError("--select holdout needs a held-out slice of the training examples")
    return settings.with_loop_defaults()


def _start(loop: _Loop, out: Path, settings: TrainSettings, recorded, resume: bool, description: str, examples: int):
    """Say the budget, record everything that shapes the model in settings.json, and return the state
    to continue from: the checkpoint's on resume (refusing any difference), else a fresh one."""
    if loop.accelerator.is_main_process:
        budget = "--max-steps" if settings.max_steps else f"{settings.epochs:g} epochs of {examples:,} examples"
        log.info(
            f"{description}: {loop.total_steps:,} steps ({budget}), batch {settings.batch_size}, "
            f"peak lr {settings.lr:g}, {loop.resolved['precision']} on {loop.resolved['device']}"
        )
    record = {**asdict(settings), "resolved": loop.resolved, "run": recorded or {}}
    state = checkpoint.resume_or_start(loop.accelerator, out, json.loads(json.dumps(record)), resume=resume)
    return state or {"step": 0, "epoch": 0, "batches_done": 0, "best_metric": None, "best_step": None, "seconds": 0.0}


def _means(records: list[dict]) -> dict:
    return {name: sum(r[name] for r in records) / len(records) for name in records[0]}


@dataclass
class _Loop:
    """What one run trains with, prepared by accelerate: model and objective, optimizer, schedule,
    batches, the frozen teacher (and its cache), and the step budget."""

    accelerator: Accelerator
    trainable: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    loader: DataLoader
    objective: Objective
    teacher: object
    cache: forward.TeacherCache | None
    settings: TrainSettings
    total_steps: int
    eval_every: int
    resolved: dict  # the precision and device `auto` became here

    @classmethod
    def prepare(
        cls,
        student,
        objective: Objective,
        train_set: LabelledExamples,
        teacher,
        settings: TrainSettings,
        placement: Placement,
        scored: bool,
    ):
        accelerator = _accelerator(settings, placement)
        set_seed(settings.seed)
        trainable = _Trainable(student, objective)
        trainable.train()  # dropout on from the first step: `from_pretrained` returns models in eval mode
        optimizer = make_optimizer(trainable, settings)
        trainable, optimizer, loader = accelerator.prepare(trainable, optimizer, _loader(train_set, settings))
        budget = StageBudget.from_batches(len(loader), settings, scored=scored)  # this process's share
        total_steps = budget.steps
        # Not prepared: stepped once per optimizer step, whatever the number of processes.
        scheduler = get_linear_schedule_with_warmup(optimizer, int(settings.warmup * total_steps), total_steps)
        accelerator.register_for_checkpointing(scheduler)
        if teacher is not None:
            teacher.to(accelerator.device).eval()
        resolved = {"precision": placement.precision, "device": str(accelerator.device)}
        cache = forward.TeacherCache.for_run(
            objective,
            teacher,
            train_set,
            store=TeacherStore.for_run(
                objective, teacher, resolved["precision"], accelerator.device, accelerator.num_processes
            ),
        )
        if cache is not None and cache.known.any():
            log.info(
                f"teacher outputs of {int(cache.known.sum()):,} of {cache.size:,} training examples "
                f"from earlier runs ({cache.store.path})"
            )
        return cls(
            accelerator,
            trainable,
            optimizer,
            scheduler,
            loader,
            objective,
            teacher,
            cache,
            settings,
            total_steps,
            budget.eval_every,
            resolved,
        )

    def batches(self, state: dict):
        """This epoch's batches, past those a resumed run already trained on."""
        self.loader.set_epoch(state["epoch"])
        done = state["batches_done"]
        return self.accelerator.skip_first_batches(self.loader, done) if done else self.loader

    def step(self, batch: dict):
        """Forward and backward one batch; every grad_accum batches, clip at max_grad_norm and step."""
        accelerator = self.accelerator
        teacher_out = forward.teacher_outputs(self.objective, self.teacher, self.cache, batch, accelerator.autocast())
        with accelerator.accumulate(self.trainable):
            loss, parts = self.trainable(batch, teacher_out)
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(self.trainable.parameters(), self.settings.max_grad_norm)
            self.optimizer.step()
            if accelerator.sync_gradients:
                self.scheduler.step()
            self.optimizer.zero_grad()
        return loss, parts


def _accelerator(settings: TrainSettings, placement: Placement) -> Accelerator:
    """A fresh accelerate facade for this run's device and precision."""
    # Each call is a run of its own: accelerate keeps one state per process and refuses another
    # precision or device in a later run, so that state starts anew (the process group stays).
    AcceleratorState._reset_state(reset_partial_state=False)
    # Unused parameters are normal here (a task head during TinyBERT stage 1, a pooler in general
    # distillation), so DistributedDataParallel must look for them.
    return Accelerator(
        mixed_precision="no" if placement.precision == "fp32" else placement.precision,
        cpu=placement.device.type == "cpu",
        gradient_accumulation_steps=settings.grad_accum,
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )


def _loader(train_set: LabelledExamples, settings: TrainSettings) -> DataLoader:
    """Batches in EpochShuffle's order. The loader has its own generator: starting an iterator must not
    draw from the global RNG (which drives dropout), or a resumed run would start its iterator at
    another point of that stream."""
    lengths = train_set.lengths() if settings.group_by_length else None
    sampler = EpochShuffle(len(train_set), settings.seed, lengths, settings.batch_size)
    return DataLoader(
        train_set,
        batch_size=settings.batch_size,
        sampler=sampler,
        collate_fn=train_set.collate,
        generator=torch.Generator().manual_seed(settings.seed),
    )


def _evaluate_and_checkpoint(loop: _Loop, sets: dict, metric_names, out: Path, tokenizer, state, record, callbacks):
    """An evaluation point: score, keep the model when it is the one to keep, then checkpoint (a stop signal
    waits for these writes to be whole); callbacks hear of both."""
    improved = _evaluate(loop, sets, metric_names, state, record)
    with whole_writes():
        if loop.accelerator.is_main_process:
            with writing(out / files.HISTORY, "the evaluation's record"), open(out / files.HISTORY, "a") as handle:
                handle.write(json.dumps(record) + "\n")
            if improved:
                with writing(out, "the kept model"):
                    _save_kept(loop.accelerator.unwrap_model(loop.trainable).student, tokenizer, out)
        for callback in callbacks:
            callback.on_evaluation(out, record)
        with writing(out / files.CHECKPOINT, "the training checkpoint"):
            checkpoint.save(loop.accelerator, out / files.CHECKPOINT, state)
    if loop.cache is not None:
        loop.cache.persist()
    for callback in callbacks:
        callback.on_checkpoint(out, dict(state))


def _evaluate(loop: _Loop, sets: dict, metric_names, state, record) -> bool:
    """Score the dev (and holdout) set into `record`; whether this is the model to keep: always with
    select="last" or no set to choose on, else when the chosen set's main metric improves. The record
    says whether it was kept."""
    model = loop.accelerator.unwrap_model(loop.trainable).student
    for name, dataset in sets.items():
        if dataset is not None:
            record[name] = score(
                predict(model, dataset, device=loop.accelerator.device), dataset.labels.numpy(), metric_names
            )
    model.train()
    chosen = record.get(loop.settings.select)
    improved = chosen is None or state["best_metric"] is None or chosen[metric_names[0]] > state["best_metric"]
    if improved:
        state["best_metric"] = None if chosen is None else chosen[metric_names[0]]
        state["best_step"] = state["step"]
    record["kept"] = improved
    return improved


def _save_kept(model, tokenizer, out: Path) -> None:
    """The kept model as a loadable folder, each file written whole beside it and then renamed into
    place: a full disk or a kill never leaves a cut-off model where the run's model is."""
    staging = out / ".kept.new"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.save_pretrained(staging)
        if tokenizer is not None:
            tokenizer.save_pretrained(staging)
        for file in staging.iterdir():
            os.replace(file, out / file.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _kept(out: Path) -> str:
    """What an interrupted run keeps, and how to continue."""
    saved = FinishedRun(out).checkpoint_state()
    if saved is not None:
        step = saved["step"]
        return f"kept the checkpoint of step {step:,} in {out}; run the same command with --resume to continue"
    return f"no checkpoint yet in {out}; run the same command again"
