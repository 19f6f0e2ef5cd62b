"""Student shapes ("4L-312") and configs built on the teacher's config and vocabulary, and the teacher
layers a student may start from (DistilBERT: alternate layers, PKD: the lowest ones)."""

from __future__ import annotations

import re

from transformers import PretrainedConfig, PreTrainedModel

from data import InputError

from ..methods.layer_maps import evenly_spaced
from .static import CONFIG_KEY

_SHAPE = re.compile(r"^(\d+)L-(\d+)$", re.IGNORECASE)


def parse_shape(shape: str) -> tuple[int, int] | None:
    """ "4L-312" -> (4 layers, hidden 312); None when `shape` is not a shape (then it is a folder)."""
    found = _SHAPE.match(shape.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def shape_name(config) -> str:
    """A model's shape as reports name it: "4L-312" (layers, width), or "static-256" for a static model."""
    if hasattr(config, CONFIG_KEY):
        return f"static-{config.hidden_size}"
    return f"{config.num_hidden_layers}L-{config.hidden_size}"


def student_config(teacher: PretrainedConfig, layers: int, hidden: int) -> PretrainedConfig:
    """The teacher's config (vocabulary, positions, labels, head count) at a smaller depth and width;
    the feed-forward width keeps the teacher's ratio to the hidden width."""
    heads = teacher.num_attention_heads
    if hidden % heads:
        raise InputError(
            f"student width {hidden} is not divisible by the teacher's {heads} attention heads; "
            f"pick a multiple of {heads} (e.g. {hidden - hidden % heads or heads})"
        )
    config = teacher.__class__.from_dict(teacher.to_dict())
    ratio = teacher.intermediate_size / teacher.hidden_size
    config.num_hidden_layers, config.hidden_size = layers, hidden
    config.intermediate_size = int(round(hidden * ratio))
    return config


def alternate_layers(student_layers: int, teacher_layers: int) -> list[int]:
    """DistilBERT's choice: every (N / M)-th teacher layer from the bottom (0-based); when M does not
    divide N, the mirror image of the evenly spaced layer map (a 4-layer student of a 6-layer teacher:
    0, 1, 3, 4, where the map is 2, 3, 5, 6)."""
    return [teacher_layers - t for t in reversed(evenly_spaced(student_layers, teacher_layers))]


def lowest_layers(student_layers: int, teacher_layers: int) -> list[int]:
    """Patient KD's choice: the teacher's first M layers (0-based)."""
    if student_layers > teacher_layers:
        raise InputError(f"a {student_layers}-layer student is deeper than its {teacher_layers}-layer teacher")
    return list(range(student_layers))


def copy_teacher_layers(student: PreTrainedModel, teacher: PreTrainedModel, teacher_layers: list[int]) -> None:
    """Copy the embeddings and teacher layer teacher_layers[i] into student layer i (same width)."""
    s, t = student.base_model, teacher.base_model
    if student.config.hidden_size != teacher.config.hidden_size:
        raise InputError(
            f"initialising from teacher layers needs the teacher's width "
            f"({teacher.config.hidden_size}), the student has {student.config.hidden_size}; "
            f"use a shape such as {len(teacher_layers)}L-{teacher.config.hidden_size}"
        )
    s.embeddings.load_state_dict(t.embeddings.state_dict())
    for i, j in enumerate(teacher_layers):
        s.encoder.layer[i].load_state_dict(t.encoder.layer[j].state_dict())
