"""Training objectives: small compositions of the pure losses plus a layer map. This module holds what
every objective shares; each distillation method's own objectives live in its module (`methods/`).

An objective is an nn.Module because some own trainable parts (TinyBERT's width projections), which
train and checkpoint together with the student. Each names the model outputs it needs beyond logits
(`needs`: hidden states, and what the taps read: attention scores, values), so the trainer asks the
models for no more than that; and says whether the teacher's outputs it uses are small and
per-example (then the trainer computes them once and caches them).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from . import losses


@dataclass
class Outputs:
    """What one forward pass gave: logits, and where asked for, hidden states (0 = embeddings) and the
    per-layer outputs of the taps (see taps.TAPS): pre-softmax attention scores, value vectors."""

    logits: torch.Tensor | None  # None for a bare encoder (general distillation)
    hidden: tuple[torch.Tensor, ...] | None = None
    scores: list[torch.Tensor] | None = None
    values: list[torch.Tensor] | None = None


class Objective(nn.Module):
    needs_teacher = True
    needs: frozenset[str] = frozenset()  # of "hidden" and the taps' names ("scores", "values")
    cacheable = False  # uses only teacher logits and [CLS] states: computed once per example, cached
    cls_layers: tuple[int, ...] = ()  # teacher layers whose [CLS] state a cacheable objective reads
    class_weights: torch.Tensor | None = None  # of the soft-target terms, set for --balance-classes (class_balance.py)

    def soft_weights(self, teacher_logits: torch.Tensor) -> torch.Tensor | None:
        """Per-example weights of a soft-target term under class_weights: the teacher's class probabilities
        times each class's weight; None without class_weights or for regression."""
        if self.class_weights is None or teacher_logits.shape[-1] == 1:
            return None
        probabilities = torch.softmax(teacher_logits.float(), dim=-1)  # a product, not a matmul: fp32 under autocast
        return (probabilities * self.class_weights.to(teacher_logits.device)).sum(dim=-1)

    def forward(
        self, student: Outputs, teacher: Outputs | None, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError


def kd_term(student_logits, teacher_logits, temperature, weights=None):
    """Soft-target term (each example's times `weights`, when given); for regression (one output) the
    student matches the teacher's value."""
    if student_logits.shape[-1] == 1:
        return losses.mse(student_logits, teacher_logits)
    return losses.kd_kl(student_logits, teacher_logits, temperature, weights)


class TaskOnly(Objective):
    """Plain fine-tuning on gold labels (the teacher itself, or a student without a teacher)."""

    needs_teacher = False

    def forward(self, student, teacher, batch):
        loss = losses.task_loss(student.logits, batch["labels"])
        return loss, {"task": loss.item()}
