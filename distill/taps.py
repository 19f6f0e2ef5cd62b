"""Pre-softmax attention scores, rebuilt from each layer's query and key projections.

Hugging Face models return attention *probabilities*, and only with the slow eager attention; TinyBERT
needs the scores before the softmax. Forward hooks on the query/key projections capture what is
needed to compute q·kᵀ/√d per head, and the fast SDPA attention stays on.
"""

from __future__ import annotations

import math

import torch
from transformers import PreTrainedModel

from data import InputError


class AttentionScores:
    """Use as `with AttentionScores(model) as taps: model(...)`, then `taps.scores()`."""

    def __init__(self, model: PreTrainedModel):
        try:
            attentions = [layer.attention.self for layer in model.base_model.encoder.layer]
            self._projections = [(a.query, a.key) for a in attentions]
        except AttributeError:
            raise InputError(
                f"{type(model).__name__}: attention distillation needs a BERT-style encoder "
                "(encoder.layer[i].attention.self.query/key)"
            ) from None
        self.heads = model.config.num_attention_heads
        self._captured: list[list[torch.Tensor]] = []
        self._hooks: list = []

    def __enter__(self) -> "AttentionScores":
        self._captured = [[None, None] for _ in self._projections]
        for i, (query, key) in enumerate(self._projections):
            self._hooks.append(query.register_forward_hook(self._keep(i, 0)))
            self._hooks.append(key.register_forward_hook(self._keep(i, 1)))
        return self

    def __exit__(self, *exc) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    def _keep(self, layer: int, slot: int):
        def hook(module, inputs, output):
            self._captured[layer][slot] = output

        return hook

    def scores(self) -> list[torch.Tensor]:
        """Per layer, [batch, heads, length, length] scores q·kᵀ/√d (before mask and softmax)."""
        result = []
        for query, key in self._captured:
            batch, length, width = query.shape
            size = width // self.heads
            q = query.view(batch, length, self.heads, size).transpose(1, 2)
            k = key.view(batch, length, self.heads, size).transpose(1, 2)
            result.append(q @ k.transpose(-1, -2) / math.sqrt(size))
        return result
