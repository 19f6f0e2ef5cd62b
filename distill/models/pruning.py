"""A narrower student that starts from the teacher's own weights (width pruning, as in DynaBERT and
Minitron): the teacher's most important hidden channels, per-head attention dimensions and
feed-forward neurons are kept, importance being the mean absolute activation on real examples.

Random weights are a poor start for a small student on a small task: a 4L-312 student of a 6L-384
MiniLM teacher, randomly initialised, still predicts the majority class of MRPC after ten minutes of
TinyBERT distillation on a CPU. A pruned one starts from a network that already reads English.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from data import InputError

from ..examples.encoding import model_inputs


def _collect_importance(teacher, batches) -> dict:
    """Mean |activation| per hidden channel (all layers' outputs), per feed-forward neuron and per
    query/key/value dimension of every layer, over the real (unpadded) tokens of `batches`."""
    layers = teacher.base_model.encoder.layer
    sums: dict = {}
    tokens = 0

    def record(name):
        def hook(module, inputs, output):
            sums[name] = sums.get(name, 0) + (output.abs() * mask[..., None]).sum(dim=(0, 1)).double()

        return hook

    hooks = []
    for i, layer in enumerate(layers):
        hooks += [
            layer.attention.self.query.register_forward_hook(record(("query", i))),
            layer.attention.self.key.register_forward_hook(record(("key", i))),
            layer.attention.self.value.register_forward_hook(record(("value", i))),
            layer.intermediate.register_forward_hook(record(("ffn", i))),
        ]
    teacher.eval()
    try:
        with torch.inference_mode():
            for batch in batches:
                inputs = model_inputs(batch)
                mask = inputs["attention_mask"].float()
                out = teacher.base_model(**inputs, output_hidden_states=True)
                for hidden in out.hidden_states:
                    sums["hidden"] = sums.get("hidden", 0) + (hidden.abs() * mask[..., None]).sum(dim=(0, 1)).double()
                tokens += int(mask.sum())
    finally:
        for hook in hooks:
            hook.remove()
    return {name: total / tokens for name, total in sums.items()}


def top_channels(scores: torch.Tensor, count: int) -> torch.Tensor:
    """Indices of the `count` largest scores, in their original order (so the layout stays familiar)."""
    return torch.sort(torch.topk(scores, count).indices).values


def per_head_channels(scores: torch.Tensor, heads: int, keep: int) -> torch.Tensor:
    """The `keep` most important dimensions of every head, as flat indices into the projection."""
    size = scores.numel() // heads
    return torch.cat([h * size + top_channels(scores[h * size : (h + 1) * size], keep) for h in range(heads)])


def _copy_linear(target: nn.Linear, source: nn.Linear, rows: torch.Tensor, cols: torch.Tensor, scale: float = 1.0):
    target.weight.copy_(source.weight[rows][:, cols] * scale)
    target.bias.copy_(source.bias[rows] * scale)


def _copy_norm(target: nn.LayerNorm, source: nn.LayerNorm, channels: torch.Tensor):
    target.weight.copy_(source.weight[channels])
    target.bias.copy_(source.bias[channels])


def prune_teacher_into(student, teacher, teacher_layers: list[int], batches) -> None:
    """Fill `student` (same head count, narrower or equal width, teacher_layers[i] -> layer i) with the
    teacher's weights restricted to the most important channels measured on `batches`."""
    s_cfg, t_cfg = student.config, teacher.config
    if (
        s_cfg.num_attention_heads != t_cfg.num_attention_heads
        or s_cfg.hidden_size > t_cfg.hidden_size
        or s_cfg.intermediate_size > t_cfg.intermediate_size
    ):
        raise InputError(
            "pruning the teacher into the student needs the teacher's head count and a width "
            "no larger than the teacher's"
        )
    importance = _collect_importance(teacher, batches)
    heads = s_cfg.num_attention_heads
    head_size = s_cfg.hidden_size // heads
    hidden = top_channels(importance["hidden"], s_cfg.hidden_size)
    # The student divides scores by sqrt(its head size): rescale the queries so q.k/sqrt(d) is kept.
    query_scale = math.sqrt(head_size / (t_cfg.hidden_size // heads))
    student.config.pruned_hidden_channels = hidden.tolist()  # saved with the student: see TinyBertIntermediate
    s, t = student.base_model, teacher.base_model
    with torch.no_grad():
        for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
            if hasattr(t.embeddings, name):
                getattr(s.embeddings, name).weight.copy_(getattr(t.embeddings, name).weight[:, hidden])
        _copy_norm(s.embeddings.LayerNorm, t.embeddings.LayerNorm, hidden)
        for i, j in enumerate(teacher_layers):
            src, dst = t.encoder.layer[j], s.encoder.layer[i]
            qk = per_head_channels(importance[("query", j)] * importance[("key", j)], heads, head_size)
            v = per_head_channels(importance[("value", j)], heads, head_size)
            ffn = top_channels(importance[("ffn", j)], s_cfg.intermediate_size)
            _copy_linear(dst.attention.self.query, src.attention.self.query, qk, hidden, query_scale)
            _copy_linear(dst.attention.self.key, src.attention.self.key, qk, hidden)
            _copy_linear(dst.attention.self.value, src.attention.self.value, v, hidden)
            _copy_linear(dst.attention.output.dense, src.attention.output.dense, hidden, v)
            _copy_norm(dst.attention.output.LayerNorm, src.attention.output.LayerNorm, hidden)
            _copy_linear(dst.intermediate.dense, src.intermediate.dense, ffn, hidden)
            _copy_linear(dst.output.dense, src.output.dense, hidden, ffn)
            _copy_norm(dst.output.LayerNorm, src.output.LayerNorm, hidden)
        if getattr(s, "pooler", None) is not None and getattr(t, "pooler", None) is not None:
            _copy_linear(s.pooler.dense, t.pooler.dense, hidden, hidden)
        if (
            hasattr(student, "classifier")
            and hasattr(teacher, "classifier")
            and student.classifier.out_features == teacher.classifier.out_features
        ):
            rows = torch.arange(teacher.classifier.out_features)
            _copy_linear(student.classifier, teacher.classifier, rows, hidden)
