"""Forward passes during training: the student's, and the frozen teacher's, whose per-example outputs
are computed once and cached when the objective reads only logits and [CLS] states."""

from __future__ import annotations

import contextlib

import torch

from ..examples.encoding import LabelledExamples, model_inputs
from ..methods.objectives import Objective, Outputs
from ..methods.taps import TAPS
from .teacher_store import TeacherStore, example_keys


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


# Beyond this, the teacher runs at every step instead: cached outputs grow with the training set (PKD keeps
# 4.6 KB of [CLS] states per example), and a run's memory must not. TinyBERT's logits fit 60M examples.
TEACHER_CACHE_BYTES = 2**29


class TeacherCache:
    """Teacher logits (and the [CLS] states a cacheable objective reads), per training example, computed
    on first sight for the examples not yet known: the teacher is frozen, so later epochs skip its
    forward pass. With a `store` (see teacher_store), examples earlier runs saw start known, and
    `persist` adds this run's to it."""

    def __init__(self, examples: LabelledExamples, cls_layers: tuple[int, ...], store: TeacherStore | None = None):
        self.size, self.cls_layers, self.store = len(examples), cls_layers, store
        self.logits: torch.Tensor | None = None
        self.cls: dict[int, torch.Tensor] = {}
        self.known = torch.zeros(self.size, dtype=torch.bool)
        self.unsaved = 0
        self.keys = example_keys(examples) if store is not None else None
        if store is not None:
            rows, stored = store.lookup(self.keys)
            found = torch.from_numpy(rows >= 0)
            if found.any():
                source = torch.from_numpy(rows[rows >= 0])
                self._allocate(stored["logits"].shape[-1], {t: stored["cls"][t].shape[-1] for t in cls_layers})
                self.logits[found] = stored["logits"][source]
                for t in cls_layers:
                    self.cls[t][found] = stored["cls"][t][source]
                self.known = found

    @classmethod
    def for_run(
        cls, objective: Objective, teacher, examples: LabelledExamples, *, store: TeacherStore | None = None
    ) -> TeacherCache | None:
        """A cache when the objective allows one and it fits in TEACHER_CACHE_BYTES (see `allowed`), else None."""
        return cls(examples, objective.cls_layers, store) if cls.allowed(objective, teacher, len(examples)) else None

    @staticmethod
    def allowed(objective: Objective, teacher, examples: int) -> bool:
        """Whether a run of this objective on this many examples caches its teacher's outputs."""
        if not objective.cacheable or teacher is None:
            return False
        per_example = teacher.config.num_labels + teacher.config.hidden_size * len(objective.cls_layers)
        return examples * per_example * 4 <= TEACHER_CACHE_BYTES

    def _allocate(self, labels: int, widths: dict[int, int]) -> None:
        self.logits = torch.zeros(self.size, labels)
        self.cls = {t: torch.zeros(self.size, width) for t, width in widths.items()}

    def outputs(self, teacher, batch: dict) -> Outputs:
        """The batch's cached outputs; the teacher runs on the rows not yet known, and only on those."""
        index = batch["index"].cpu()
        missing = ~self.known[index]
        if missing.any():
            rows = missing.nonzero().squeeze(1)
            part = {name: value[rows.to(value.device)] for name, value in batch.items()}
            fresh = run_model(teacher, part, frozenset({"hidden"}) if self.cls_layers else frozenset())
            if self.logits is None:
                self._allocate(fresh.logits.shape[-1], {t: fresh.hidden[t].shape[-1] for t in self.cls_layers})
            target = index[missing]
            self.logits[target] = fresh.logits.float().cpu()
            for t in self.cls_layers:
                self.cls[t][target] = fresh.hidden[t][:, 0].float().cpu()
            self.known[target] = True
            self.unsaved += len(target)
        device = batch["input_ids"].device
        hidden = None
        if self.cls_layers:
            layers = max(self.cls_layers) + 1
            hidden = tuple(self.cls[t][index, None].to(device) if t in self.cls else None for t in range(layers))
        return Outputs(self.logits[index].to(device), hidden)

    def persist(self) -> None:
        """When outputs were computed since the last call, add them to the store (a no-op without one; the
        store keeps each key once, so the rows it gave are passed again harmlessly)."""
        if self.store is None or not self.unsaved:
            return
        known = self.known.numpy()
        self.store.save(self.keys[known], self.logits[known], {t: self.cls[t][known] for t in self.cls_layers})
        self.unsaved = 0


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
