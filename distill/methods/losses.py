"""Distillation losses as pure functions of tensors (no modules, no state), so each can be checked
against values computed by hand. Objectives combine them; see objectives.py.

Shapes: logits [batch, classes]; hidden states [batch, length, width]; attention scores [batch,
heads, length, length]; `mask` is the attention mask [batch, length] with 1 for real tokens.

Every loss is computed in fp32 from upcast inputs, whatever autocast is active: CPU autocast leaves
softmax and log-softmax in bf16 (CUDA's does not), which made a KL divergence come out negative.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F


def _in_fp32(loss):
    """Upcast floating tensor arguments (also inside lists) to fp32 and compute with autocast off."""

    def upcast(value):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value.float()
        if isinstance(value, (list, tuple)):
            return type(value)(upcast(v) for v in value)
        return value

    @functools.wraps(loss)
    def wrapper(*args, **kwargs):
        device = next((a.device.type for a in args if isinstance(a, torch.Tensor)), "cpu")
        with torch.autocast(device_type=device, enabled=False):
            return loss(*map(upcast, args), **{k: upcast(v) for k, v in kwargs.items()})

    return wrapper


@_in_fp32
def soft_cross_entropy(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float = 1.0,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """TinyBERT's prediction loss: cross-entropy of the student against the teacher's softened
    distribution, mean over the batch (each example's term times `weights`, when given)."""
    targets = F.softmax(teacher_logits / temperature, dim=-1)
    return _weighted_mean(-(targets * F.log_softmax(student_logits / temperature, dim=-1)).sum(-1), weights)


@_in_fp32
def kd_kl(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Hinton's KD term: T^2 * KL(teacher/T || student/T), mean over the batch (DistilBERT, PKD; each
    example's term times `weights`, when given)."""
    divergence = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=-1),
        F.softmax(teacher_logits / temperature, dim=-1),
        reduction="none",
    ).sum(-1)
    return _weighted_mean(divergence, weights) * temperature**2


def _weighted_mean(per_example: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """The batch mean of per-example terms, each times its weight (weights that average 1 over the
    training rows keep the loss's scale)."""
    return per_example.mean() if weights is None else (per_example * weights).mean()


@_in_fp32
def task_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy on gold labels, or MSE for regression (one output, float labels)."""
    if logits.shape[-1] == 1:
        return F.mse_loss(logits.squeeze(-1), labels.float())
    return F.cross_entropy(logits, labels)


@_in_fp32
def masked_mse(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE over the real tokens of [batch, length, width] states; padding does not count at all."""
    keep = mask.bool()
    return F.mse_loss(student[keep], teacher[keep])


@_in_fp32
def attention_mse(student_scores: torch.Tensor, teacher_scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE of pre-softmax attention scores over (query, key) pairs of real tokens only: padded rows and
    columns are left out (not zeroed, which would still count them). With different head counts the
    head-averaged maps are compared."""
    if student_scores.shape[1] != teacher_scores.shape[1]:
        student_scores, teacher_scores = student_scores.mean(1, keepdim=True), teacher_scores.mean(1, keepdim=True)
    pairs = (mask[:, :, None] & mask[:, None, :]).bool()  # [batch, query, key]
    pairs = pairs[:, None].expand_as(student_scores)
    return F.mse_loss(student_scores[pairs], teacher_scores[pairs])


@_in_fp32
def cosine_hidden_loss(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """DistilBERT's cosine term: mean of 1 - cos(student, teacher) over real tokens."""
    keep = mask.bool()
    return (1 - F.cosine_similarity(student[keep], teacher[keep], dim=-1)).mean()


@_in_fp32
def patient_loss(student_cls: list[torch.Tensor], teacher_cls: list[torch.Tensor]) -> torch.Tensor:
    """Patient KD: summed over matched layers, the mean squared distance between L2-normalised [CLS]
    states ([batch, width] each)."""
    return sum(
        ((F.normalize(s, dim=-1) - F.normalize(t, dim=-1)) ** 2).sum(-1).mean()
        for s, t in zip(student_cls, teacher_cls)
    )


@_in_fp32
def mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Plain MSE (a regression student against its teacher's output)."""
    return F.mse_loss(student, teacher)


@_in_fp32
def relation_kl(student_scores: torch.Tensor, teacher_scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MiniLM's relation transfer: KL(teacher || student) between the row-wise softmax distributions of
    two [batch, heads, length, length] score maps, over real keys only (padded keys get no probability),
    averaged over heads and real query rows. Attention scores give the attention distributions;
    `value_relation` scores give the value relation."""
    keys = mask[:, None, None, :].bool()
    student = student_scores.masked_fill(~keys, float("-inf")).log_softmax(-1)
    teacher = teacher_scores.masked_fill(~keys, float("-inf")).log_softmax(-1)
    divergence = (teacher.exp() * (teacher - student)).masked_fill(~keys, 0.0).sum(-1)  # [batch, heads, query]
    return divergence[mask[:, None, :].bool().expand_as(divergence)].mean()


@_in_fp32
def value_relation(values: torch.Tensor) -> torch.Tensor:
    """Scaled dot products between the value vectors of each head: [batch, heads, length, head size] ->
    [batch, heads, length, length] scores V·Vᵀ/√d (MiniLM's value relation, before its softmax)."""
    return values @ values.transpose(-1, -2) / math.sqrt(values.shape[-1])
