"""Forward passes during training: the student's, and the frozen teacher's, whose per-example outputs
are computed once and cached when the objective reads only logits and [CLS] states."""

from __future__ import annotations

import contextlib

import torch

from .features import model_inputs
from .objectives import Objective, Outputs
from .taps import TAPS


def run_model(model, batch: dict, needs: frozenset[str] = frozenset()) -> Outputs:
    """A forward pass that returns exactly what the objective needs: logits (none for a bare encoder),
    hidden states when `needs` names "hidden", and the output of every tap it names (see taps.TAPS)."""
    inputs = model_inputs(batch)
    hidden = "hidden" in needs
    with contextlib.ExitStack() as stack:
        taps = {name: stack.enter_context(TAPS[name](model)) for name in sorted(needs) if name in TAPS}
        out = model(**inputs, output_hidden_states=hidden)
    read = {name: tap.read() for name, tap in taps.items()}
    return Outputs(getattr(out, "logits", None), out.hidden_states if hidden else None, **read)


TEACHER_CACHE_BYTES = 4 * 2**30  # beyond this, cached teacher outputs would crowd out everything else


class TeacherCache:
    """Teacher logits (and the [CLS] states a cacheable objective reads), per training example,
    computed on first sight: the teacher is frozen, so later epochs skip its forward pass."""

    def __init__(self, size: int, cls_layers: tuple[int, ...]):
        self.size, self.cls_layers = size, cls_layers
        self.logits: torch.Tensor | None = None
        self.cls: dict[int, torch.Tensor] = {}
        self.known = torch.zeros(size, dtype=torch.bool)

    @classmethod
    def for_run(cls, objective: Objective, teacher, examples: int) -> TeacherCache | None:
        """A cache when the objective allows one and it fits in TEACHER_CACHE_BYTES, else None."""
        if not objective.cacheable or teacher is None:
            return None
        floats = examples * (teacher.config.num_labels + teacher.config.hidden_size * len(objective.cls_layers))
        return cls(examples, objective.cls_layers) if floats * 4 <= TEACHER_CACHE_BYTES else None

    def outputs(self, teacher, batch: dict) -> Outputs:
        index = batch["index"].cpu()
        if not self.known[index].all():
            fresh = run_model(teacher, batch, frozenset({"hidden"}) if self.cls_layers else frozenset())
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


def teacher_outputs(objective: Objective, teacher, cache: TeacherCache | None, batch: dict, autocast) -> Outputs | None:
    """The frozen teacher's outputs (eval mode, inference mode, under the run's `autocast` context), as
    ordinary tensors for the loss."""
    if not objective.needs_teacher:
        return None
    with torch.inference_mode(), autocast:
        if cache is not None:
            out = cache.outputs(teacher, batch)
        else:
            out = run_model(teacher, batch, objective.needs)
    return Outputs(
        out.logits.clone() if out.logits is not None else None,
        tuple(h.clone() if h is not None else None for h in out.hidden) if out.hidden else None,
        [s.clone() for s in out.scores] if out.scores else None,
        [v.clone() for v in out.values] if out.values else None,
    )
