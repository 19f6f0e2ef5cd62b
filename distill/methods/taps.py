"""Taps: what a distillation method reads from inside a model that its outputs do not give.

Hugging Face models return attention *probabilities*, and only with the slow eager attention; TinyBERT
needs the scores before the softmax, and MiniLM-style losses the value vectors of each head. Forward
hooks on the query/key/value projections capture those per layer while the fast SDPA attention stays
on. An objective names what it needs (`Objective.needs`); `forward.run_model` opens the taps named.
"""

from __future__ import annotations

import math

import torch
from transformers import PreTrainedModel

from data import InputError


class ProjectionTap:
    """Captures the outputs of chosen projections of every self-attention layer during a forward pass.
    Use as `with Tap(model) as tap: model(...)`, then `tap.read()`."""

    projections: tuple[str, ...] = ()  # attribute names on layer.attention.self

    def __init__(self, model: PreTrainedModel):
        try:
            attentions = [layer.attention.self for layer in model.base_model.encoder.layer]
            self._modules = [[getattr(a, name) for name in self.projections] for a in attentions]
        except AttributeError:
            raise InputError(
                f"{type(model).__name__}: attention distillation needs a BERT-style encoder "
                f"(encoder.layer[i].attention.self.{'/'.join(self.projections)})"
            ) from None
        self.heads = model.config.num_attention_heads
        self._captured: list[list[torch.Tensor | None]] = []
        self._hooks: list = []

    def __enter__(self):
        self._captured = [[None] * len(self.projections) for _ in self._modules]
        for i, modules in enumerate(self._modules):
            for slot, module in enumerate(modules):
                self._hooks.append(module.register_forward_hook(self._keep(i, slot)))
        return self

    def __exit__(self, *exc) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    def _keep(self, layer: int, slot: int):
        def hook(module, inputs, output):
            self._captured[layer][slot] = output

        return hook

    def per_head(self, projected: torch.Tensor) -> torch.Tensor:
        """[batch, length, width] -> [batch, heads, length, head size]."""
        batch, length, width = projected.shape
        return projected.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

    def read(self) -> list[torch.Tensor]:
        raise NotImplementedError


class AttentionScores(ProjectionTap):
    """Per layer, [batch, heads, length, length] pre-softmax scores q·kᵀ/√d (before mask and softmax)."""

    projections = ("query", "key")

    def read(self) -> list[torch.Tensor]:
        result = []
        for query, key in self._captured:
            q, k = self.per_head(query), self.per_head(key)
            result.append(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]))
        return result


class ValueStates(ProjectionTap):
    """Per layer, [batch, heads, length, head size] value vectors (MiniLM's value relation reads them)."""

    projections = ("value",)

    def read(self) -> list[torch.Tensor]:
        return [self.per_head(value) for (value,) in self._captured]


TAPS: dict[str, type[ProjectionTap]] = {"scores": AttentionScores, "values": ValueStates}
"""What an objective may ask for beyond logits and hidden states, by the name of the `Outputs` field."""


def check_tappable(model: PreTrainedModel, needs) -> None:
    """Refuse, before any training, a model that the taps of `needs` cannot read."""
    for name in needs:
        if name in TAPS:
            TAPS[name](model)
