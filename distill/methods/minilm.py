"""MiniLM-style task distillation (Wang et al., 2020): stage 1 transfers the self-attention of one
teacher layer to the student's last layer as relations, the attention distributions and the value
relation (softmax of scaled value-value dot products), both compared by KL per head; stage 2 trains on
the teacher's soft targets, as TinyBERT's. Relations are length x length, so the student may be far
narrower than its teacher (no width projection to learn); it needs the teacher's head count, which
every shape built here keeps."""

from __future__ import annotations

from dataclasses import dataclass

from data import InputError
from data.options import setting

from . import layer_maps, losses
from .base import PlanContext
from .layer_maps import LayerMap
from .objectives import Objective
from .registry import register
from .tinybert import TinyBert, TinyBertOptions, TinyBertPrediction


@dataclass(frozen=True)
class MiniLmOptions(TinyBertOptions):
    """TinyBERT's stages, budgets and temperature, and the layer whose relations are transferred."""

    relation_layer: int | None = setting(
        None,
        "MiniLM: the teacher layer whose relations the student's last layer learns. Default: the teacher's last "
        "(MiniLMv2 found an upper-middle layer better for large teachers).",
        minimum=1,
    )


class MiniLmRelations(Objective):
    """Stage 1: KL of the attention distributions + KL of the value relations, student layer s against
    teacher layer t (the one pair of the layer map), padding excluded."""

    needs = frozenset({"scores", "values"})

    def __init__(self, layer_map: LayerMap):
        super().__init__()
        ((self.student_layer, self.teacher_layer),) = layer_map

    def forward(self, student, teacher, batch):
        mask, s, t = batch["attention_mask"], self.student_layer - 1, self.teacher_layer - 1
        attention = losses.relation_kl(student.scores[s], teacher.scores[t], mask)
        value = losses.relation_kl(
            losses.value_relation(student.values[s]), losses.value_relation(teacher.values[t]), mask
        )
        return attention + value, {"attention_relation": attention.item(), "value_relation": value.item()}


@register
class MiniLm(TinyBert):
    """TinyBERT's two stages and budgets, with relations instead of layer-wise states in stage 1."""

    name = "minilm"
    summary = "attention and value relations of one layer, then prediction; any student width"
    stage_one_label = "attention and value relations"
    Options = MiniLmOptions

    def check(self, options: MiniLmOptions, context: PlanContext) -> None:
        super().check(options, context)
        if context.student_heads != context.teacher_heads:
            raise InputError(
                f"--method minilm compares attention per head: the student needs the teacher's "
                f"{context.teacher_heads} heads (it has {context.student_heads})"
            )
        if options.relation_layer is not None and options.relation_layer > context.teacher_layers:
            raise InputError(
                f"--relation-layer {options.relation_layer}: the teacher has {context.teacher_layers} layers"
            )

    def layer_map(self, options: MiniLmOptions, context: PlanContext) -> LayerMap:
        if context.layer_map:
            raise InputError("--method minilm matches one layer: name the teacher's with --relation-layer")
        return ((context.student_layers, options.relation_layer or context.teacher_layers),)

    def imitated_layers(self, layer_map: LayerMap | None, context: PlanContext) -> list[int] | None:
        """A pruned student starts from evenly spread teacher layers ending at the top, as TinyBERT's."""
        return [t - 1 for _, t in layer_maps.uniform(context.student_layers, context.teacher_layers)]

    def objective(self, stage, options: MiniLmOptions, layer_map, student, teacher) -> Objective:
        if stage.name == "intermediate":
            return MiniLmRelations(layer_map)
        return TinyBertPrediction(options.temperature)
