"""One training loop for fine-tuning and every distillation objective.

Device, mixed precision and several processes go through Hugging Face accelerate (launch with
`accelerate launch` or `torchrun` for several GPUs); this loop never branches on them. The run folder
holds the best student as a `save_pretrained` folder, `metrics.jsonl`, `settings.json`, and a
`checkpoint/` (model, optimizer, scheduler, RNG states, step) that `resume=True` continues from.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedDataParallelKwargs, set_seed
from torch import nn
from torch.utils.data import DataLoader, Sampler
from tqdm import tqdm
from transformers import get_linear_schedule_with_warmup

from data import InputError

from .evaluation import predict, score
from .features import LabelledExamples
from .objectives import Objective, Outputs
from .taps import AttentionScores


@dataclass
class TrainSettings:
    epochs: float | None = None  # None: 3, or the method's own default (see pipeline)
    max_steps: int | None = None  # overrides epochs
    batch_size: int = 32
    lr: float | None = None  # None: 5e-5, or the method's own default
    warmup: float = 0.1  # fraction of the steps
    weight_decay: float = 0.01
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    eval_steps: int | None = None  # None: at the end of every epoch
    seed: int = 42
    precision: str = "auto"  # auto | bf16 | fp16 | fp32
    device: str = "auto"  # auto | cpu | cuda
    group_by_length: bool = True  # batch examples of similar length (see EpochShuffle)


@dataclass
class TrainResult:
    best_metric: float | None
    best_step: int | None
    steps: int
    history: list[dict] = field(default_factory=list)


def resolve_precision(precision: str, device: str) -> str:
    """accelerate's mixed_precision name. auto: bf16 on GPUs that have it (else fp16) and on CPUs
    with native bf16 (AVX-512-BF16/AMX); fp32 elsewhere."""
    if precision != "auto":
        return "no" if precision == "fp32" else precision
    if device != "cpu" and torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    native = [getattr(torch.cpu, probe, lambda: False)()
              for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return "bf16" if any(native) else "no"


class EpochShuffle(Sampler):
    """A new order each epoch from (seed, epoch) alone, so a resumed run sees the same batches.

    With `lengths`, batches hold examples of similar length (padding is most of the work otherwise:
    random MRPC batches are 1.5x their real tokens): the shuffled order is cut into windows of
    `WINDOW_BATCHES` batches, each window is sorted by length and cut into batches, and the full
    batches are shuffled (a short last batch stays last, keeping every batch boundary aligned)."""

    WINDOW_BATCHES = 50

    def __init__(self, size: int, seed: int, lengths=None, batch_size: int = 1):
        self.size, self.seed, self.epoch, self.batch_size = size, seed, 0, batch_size
        self.lengths = None if lengths is None else torch.as_tensor(lengths)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1000 + self.epoch)
        order = torch.randperm(self.size, generator=generator)
        if self.lengths is None:
            return iter(order.tolist())
        batches = []
        for window in order.split(self.batch_size * self.WINDOW_BATCHES):
            ranked = window[torch.argsort(self.lengths[window], descending=True, stable=True)]
            batches += ranked.split(self.batch_size)
        short = [batches.pop()] if len(batches[-1]) < self.batch_size else []
        shuffled = [batches[i] for i in torch.randperm(len(batches), generator=generator)] + short
        return iter(torch.cat(shuffled).tolist())


class _Trainable(nn.Module):
    """The student and the objective's own parameters (projections), trained and saved together; its
    forward is the loss, so that a DistributedDataParallel wrapper sees the whole step."""

    def __init__(self, student: nn.Module, objective: Objective):
        super().__init__()
        self.student, self.objective = student, objective

    def forward(self, batch: dict, teacher: Outputs | None):
        student = run_model(self.student, batch, self.objective.needs_hidden, self.objective.needs_scores)
        return self.objective(student, teacher, batch)


def run_model(model, batch: dict, hidden: bool, scores: bool) -> Outputs:
    """A forward pass that returns exactly what the objective needs (no logits for a bare encoder)."""
    inputs = {k: v for k, v in batch.items() if k not in ("labels", "index")}
    if scores:
        with AttentionScores(model) as taps:
            out = model(**inputs, output_hidden_states=hidden)
        return Outputs(getattr(out, "logits", None), out.hidden_states if hidden else None, taps.scores())
    out = model(**inputs, output_hidden_states=hidden)
    return Outputs(getattr(out, "logits", None), out.hidden_states if hidden else None)


TEACHER_CACHE_BYTES = 4 * 2**30  # beyond this, cached teacher outputs would crowd out everything else


class TeacherCache:
    """Teacher logits (and the [CLS] states a cacheable objective reads), per training example,
    computed on first sight: the teacher is frozen, so later epochs skip its forward pass."""

    def __init__(self, size: int, cls_layers: tuple[int, ...]):
        self.size, self.cls_layers = size, cls_layers
        self.logits: torch.Tensor | None = None
        self.cls: dict[int, torch.Tensor] = {}
        self.known = torch.zeros(size, dtype=torch.bool)

    def outputs(self, teacher, batch: dict) -> Outputs:
        index = batch["index"].cpu()
        if not self.known[index].all():
            fresh = run_model(teacher, batch, hidden=bool(self.cls_layers), scores=False)
            if self.logits is None:
                self.logits = torch.zeros(self.size, fresh.logits.shape[-1])
                self.cls = {t: torch.zeros(self.size, fresh.hidden[t].shape[-1]) for t in self.cls_layers}
            self.logits[index] = fresh.logits.float().cpu()
            for t in self.cls_layers:
                self.cls[t][index] = fresh.hidden[t][:, 0].float().cpu()
            self.known[index] = True
        device = batch["input_ids"].device
        hidden = None
        if self.cls_layers:
            layers = max(self.cls_layers) + 1
            hidden = tuple(self.cls[t][index, None].to(device) if t in self.cls else None for t in range(layers))
        return Outputs(self.logits[index].to(device), hidden)


def train(student, objective: Objective, train_set: LabelledExamples, dev_set: LabelledExamples | None, metric_names,
          out_dir: str | Path, settings: TrainSettings, teacher=None, tokenizer=None, resume: bool = False,
          progress: bool = True, description: str = "train") -> TrainResult:
    """Train `student` with `objective`; evaluate on `dev_set` every eval_steps and keep the best."""
    out = Path(out_dir)
    settings = replace(settings, epochs=3.0 if settings.epochs is None else settings.epochs,
                       lr=5e-5 if settings.lr is None else settings.lr)
    if settings.device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA device is visible here; use --device cpu (or auto)")
    # Each call is a run of its own: accelerate keeps one state per process and refuses another
    # precision or device in a later run, so that state starts anew (the process group stays).
    AcceleratorState._reset_state(reset_partial_state=False)
    # Unused parameters are normal here (a task head during TinyBERT stage 1, a pooler in general
    # distillation), so DistributedDataParallel must look for them.
    accelerator = Accelerator(mixed_precision=resolve_precision(settings.precision, settings.device),
                              cpu=settings.device == "cpu", gradient_accumulation_steps=settings.grad_accum,
                              kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    set_seed(settings.seed)
    if objective.needs_teacher and teacher is None:
        raise InputError("this objective needs a teacher model")
    trainable = _Trainable(student, objective)
    decay = [p for p in trainable.parameters() if p.ndim > 1]  # no weight decay on biases and norms
    no_decay = [p for p in trainable.parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=settings.lr)
    lengths = train_set.lengths() if settings.group_by_length else None
    sampler = EpochShuffle(len(train_set), settings.seed, lengths, settings.batch_size)
    # The loader's own generator: starting an iterator must not draw from the global RNG (which drives
    # dropout), or a resumed run would start its iterator at another point of that stream.
    loader = DataLoader(train_set, batch_size=settings.batch_size, sampler=sampler, collate_fn=train_set.collate,
                        generator=torch.Generator().manual_seed(settings.seed))
    trainable, optimizer, loader = accelerator.prepare(trainable, optimizer, loader)
    steps_per_epoch = max(1, math.ceil(len(loader) / settings.grad_accum))  # this process's share of the data
    total_steps = settings.max_steps or max(1, math.ceil(settings.epochs * steps_per_epoch))
    # Not prepared: stepped once per optimizer step, whatever the number of processes.
    scheduler = get_linear_schedule_with_warmup(optimizer, int(settings.warmup * total_steps), total_steps)
    accelerator.register_for_checkpointing(scheduler)
    if teacher is not None:
        teacher.to(accelerator.device).eval()
    cache = None
    if objective.cacheable and teacher is not None:
        cached_floats = len(train_set) * (teacher.config.num_labels + teacher.config.hidden_size * len(objective.cls_layers))
        if cached_floats * 4 <= TEACHER_CACHE_BYTES:  # else the teacher simply runs every step
            cache = TeacherCache(len(train_set), objective.cls_layers)
    eval_every = settings.eval_steps or steps_per_epoch

    state = {"step": 0, "epoch": 0, "batches_done": 0, "best_metric": None, "best_step": None}
    checkpoint = out / "checkpoint"
    if resume and not (checkpoint / "trainer_state.json").is_file():
        checkpoint = out / "checkpoint.old"  # a kill came between the two renames of _save_checkpoint
    if resume and (checkpoint / "trainer_state.json").is_file():
        saved = json.loads((out / "settings.json").read_text())
        if saved != json.loads(json.dumps(asdict(settings))):
            raise InputError(f"{out}: --resume needs the settings of the interrupted run ({out}/settings.json); "
                             "these differ. Drop --resume to start over, or repeat the original flags")
        accelerator.load_state(str(checkpoint))
        state = json.loads((checkpoint / "trainer_state.json").read_text())
    elif accelerator.is_main_process:  # a fresh run: an older run's checkpoint must not be resumed later
        checkpoint = out / "checkpoint"
        shutil.rmtree(checkpoint, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.jsonl").write_text("")
        (out / "settings.json").write_text(json.dumps(asdict(settings), indent=2))
    accelerator.wait_for_everyone()

    bar = tqdm(total=total_steps, initial=state["step"], desc=description, unit="step",
               disable=not progress or not accelerator.is_local_main_process)
    history: list[dict] = []
    recent: list[dict] = []  # loss and its parts for every batch since the last evaluation
    tokens, started = 0, time.perf_counter()
    while state["step"] < total_steps:
        loader.set_epoch(state["epoch"])
        batches = accelerator.skip_first_batches(loader, state["batches_done"]) if state["batches_done"] else loader
        for batch in batches:
            with accelerator.accumulate(trainable):
                loss, parts = trainable(batch, _teacher_outputs(objective, teacher, cache, batch, accelerator))
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(trainable.parameters(), settings.max_grad_norm)
                optimizer.step()
                if accelerator.sync_gradients:
                    scheduler.step()
                optimizer.zero_grad()
            state["batches_done"] += 1
            tokens += int(batch["attention_mask"].sum()) * accelerator.num_processes
            recent.append({"loss": loss.item(), **parts})
            if not accelerator.sync_gradients:
                continue
            state["step"] += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", tokens_per_s=f"{tokens / (time.perf_counter() - started):.0f}")
            if state["step"] % eval_every == 0 or state["step"] == total_steps:
                means = {name: sum(r[name] for r in recent) / len(recent) for name in recent[0]}
                record = {"step": state["step"], "epoch": state["epoch"], **means}
                recent = []
                _evaluate_and_keep_best(accelerator, trainable, dev_set, metric_names, out, tokenizer, state, record)
                history.append(record)
                _save_checkpoint(accelerator, out / "checkpoint", state)
            if state["step"] >= total_steps:
                break
        else:
            state["epoch"] += 1
            state["batches_done"] = 0
    bar.close()
    return TrainResult(state["best_metric"], state["best_step"], state["step"], history)


def _teacher_outputs(objective, teacher, cache, batch, accelerator) -> Outputs | None:
    """The frozen teacher's outputs (eval mode, inference mode), as ordinary tensors for the loss."""
    if not objective.needs_teacher:
        return None
    with torch.inference_mode(), accelerator.autocast():
        if cache is not None:
            out = cache.outputs(teacher, batch)
        else:
            out = run_model(teacher, batch, objective.needs_hidden, objective.needs_scores)
    return Outputs(out.logits.clone() if out.logits is not None else None,
                   tuple(h.clone() if h is not None else None for h in out.hidden) if out.hidden else None,
                   [s.clone() for s in out.scores] if out.scores else None)


def _evaluate_and_keep_best(accelerator, trainable, dev_set, metric_names, out, tokenizer, state, record):
    """Score the dev set; when the main metric improves, save the student as a loadable folder."""
    model = accelerator.unwrap_model(trainable).student
    if dev_set is None:
        improved = True
    else:
        metrics = score(predict(model, dev_set, device=accelerator.device), dev_set.labels.numpy(), metric_names)
        model.train()
        record["dev"] = metrics
        main = metrics[metric_names[0]]
        improved = state["best_metric"] is None or main > state["best_metric"]
        if improved:
            state["best_metric"], state["best_step"] = main, state["step"]
    if accelerator.is_main_process:
        with open(out / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
        if improved:
            model.save_pretrained(out)
            if tokenizer is not None:
                tokenizer.save_pretrained(out)


def _save_checkpoint(accelerator, checkpoint: Path, state: dict) -> None:
    """Write the new checkpoint beside the old one, then swap: a kill never leaves a mixed checkpoint."""
    fresh = checkpoint.with_name(checkpoint.name + ".new")
    accelerator.wait_for_everyone()
    accelerator.save_state(str(fresh))
    if accelerator.is_main_process:
        (fresh / "trainer_state.json").write_text(json.dumps(state))
        old = checkpoint.with_name(checkpoint.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if checkpoint.exists():
            os.replace(checkpoint, old)
        os.replace(fresh, checkpoint)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
