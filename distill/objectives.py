"""Training objectives: small compositions of the pure losses plus a layer map.

An objective is an nn.Module because some own trainable parts (TinyBERT's width projections), which
train and checkpoint together with the student. Each says which model outputs it needs, so the
trainer asks the models for no more than that, and whether the teacher's outputs it uses are small
and per-example (then the trainer computes them once and caches them).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from . import losses
from .layer_maps import LayerMap


@dataclass
class Outputs:
    """What one forward pass gave: logits, and where asked for, hidden states (0 = embeddings) and
    per-layer pre-softmax attention scores."""

    logits: torch.Tensor | None  # None for a bare encoder (general distillation)
    hidden: tuple[torch.Tensor, ...] | None = None
    scores: list[torch.Tensor] | None = None


class Objective(nn.Module):
    needs_teacher = True
    needs_hidden = False
    needs_scores = False
    cacheable = False  # uses only teacher logits and [CLS] states: computed once per example, cached
    cls_layers: tuple[int, ...] = ()  # teacher layers whose [CLS] state a cacheable objective reads

    def forward(
        self, student: Outputs, teacher: Outputs | None, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError


def _kd(student_logits, teacher_logits, temperature):
    """Soft-target term; for regression (one output) the student matches the teacher's value."""
    if student_logits.shape[-1] == 1:
        return losses.mse(student_logits, teacher_logits)
    return losses.kd_kl(student_logits, teacher_logits, temperature)


class TaskOnly(Objective):
    """Plain fine-tuning on gold labels (the teacher itself, or a student without a teacher)."""

    needs_teacher = False

    def forward(self, student, teacher, batch):
        loss = losses.task_loss(student.logits, batch["labels"])
        return loss, {"task": loss.item()}


class TinyBertIntermediate(Objective):
    """TinyBERT stage 1: embedding MSE + hidden-state MSE through learned width projections (one per
    matched layer) + pre-softmax attention MSE, padding excluded."""

    needs_hidden = needs_scores = True

    def __init__(self, layer_map: LayerMap, student_width: int, teacher_width: int, channels: list[int] | None = None):
        """`channels`: for a student pruned from the teacher, the teacher channel each student channel
        was cut from; the projections then start as that selection instead of random weights."""
        super().__init__()
        self.layer_map = tuple(layer_map)
        self.projections = nn.ModuleList(
            nn.Linear(student_width, teacher_width) for _ in range(len(self.layer_map) + 1)
        )
        if channels is not None and len(channels) == student_width and max(channels) < teacher_width:
            with torch.no_grad():
                for projection in self.projections:
                    projection.weight.zero_()
                    projection.weight[channels, range(student_width)] = 1.0
                    projection.bias.zero_()

    def forward(self, student, teacher, batch):
        mask = batch["attention_mask"]
        embedding = losses.masked_mse(self.projections[0](student.hidden[0]), teacher.hidden[0], mask)
        hidden = sum(
            losses.masked_mse(project(student.hidden[s]), teacher.hidden[t], mask)
            for project, (s, t) in zip(self.projections[1:], self.layer_map)
        )
        attention = sum(
            losses.attention_mse(student.scores[s - 1], teacher.scores[t - 1], mask) for s, t in self.layer_map
        )
        total = embedding + hidden + attention
        return total, {"embedding": embedding.item(), "hidden": hidden.item(), "attention": attention.item()}


class TinyBertPrediction(Objective):
    """TinyBERT stage 2: soft cross-entropy against the teacher's logits at temperature T (MSE to
    the teacher's output for regression; never the gold labels)."""

    cacheable = True

    def __init__(self, temperature: float = 1.0):
        super().__init__()
        self.temperature = temperature

    def forward(self, student, teacher, batch):
        if student.logits.shape[-1] == 1:
            loss = losses.mse(student.logits, teacher.logits)
        else:
            loss = losses.soft_cross_entropy(student.logits, teacher.logits, self.temperature)
        return loss, {"prediction": loss.item()}


class DistilBert(Objective):
    """alpha_ce * T^2 * KL + alpha_task * task loss + alpha_cos * cosine loss on the last hidden states."""

    needs_hidden = True

    def __init__(
        self, alpha_ce: float = 0.5, alpha_task: float = 0.5, alpha_cos: float = 1.0, temperature: float = 2.0
    ):
        super().__init__()
        self.alpha_ce, self.alpha_task, self.alpha_cos, self.temperature = alpha_ce, alpha_task, alpha_cos, temperature

    def forward(self, student, teacher, batch):
        soft = _kd(student.logits, teacher.logits, self.temperature)
        task = losses.task_loss(student.logits, batch["labels"])
        cosine = losses.cosine_hidden_loss(student.hidden[-1], teacher.hidden[-1], batch["attention_mask"])
        total = self.alpha_ce * soft + self.alpha_task * task + self.alpha_cos * cosine
        return total, {"kd": soft.item(), "task": task.item(), "cosine": cosine.item()}


class PatientKD(Objective):
    """(1 - alpha) * task loss + alpha * T^2 * KD + beta * patient loss on normalised [CLS] states of
    the matched layers (PKD-skip or PKD-last is only the layer map)."""

    needs_hidden = True
    cacheable = True

    def __init__(self, layer_map: LayerMap, alpha: float = 0.5, beta: float = 100.0, temperature: float = 10.0):
        super().__init__()
        self.layer_map, self.alpha, self.beta, self.temperature = tuple(layer_map), alpha, beta, temperature
        self.cls_layers = tuple(t for _, t in self.layer_map)

    def forward(self, student, teacher, batch):
        task = losses.task_loss(student.logits, batch["labels"])
        soft = _kd(student.logits, teacher.logits, self.temperature)
        patient = losses.patient_loss(
            [student.hidden[s][:, 0] for s, _ in self.layer_map], [teacher.hidden[t][:, 0] for _, t in self.layer_map]
        )
        total = (1 - self.alpha) * task + self.alpha * soft + self.beta * patient
        return total, {"task": task.item(), "kd": soft.item(), "patient": patient.item()}
