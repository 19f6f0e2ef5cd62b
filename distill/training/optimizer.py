"""The optimizer every training run uses, in one place: the loop trains with it and the run clock times
its step, so the time estimated before a run is the time of the step the run takes."""

from __future__ import annotations

import torch
from torch import nn


def make_optimizer(trainable: nn.Module, settings) -> torch.optim.Optimizer:
    """AdamW at `settings.lr`; no weight decay on biases and norms."""
    decay = [p for p in trainable.parameters() if p.ndim > 1]
    no_decay = [p for p in trainable.parameters() if p.ndim <= 1]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=settings.lr,
    )
