"""DistilBERT-style task distillation (Sanh et al., 2019): soft-target KD + the task loss + a cosine
loss between the last hidden states; the student starts from alternate teacher layers, so it keeps
the teacher's width."""

from __future__ import annotations

from dataclasses import dataclass

from data import InputError
from data.options import setting

from . import losses
from .base import Method, PlanContext, StagePlan, single_stage
from .objectives import Objective, kd_term
from .registry import register


@dataclass(frozen=True)
class DistilBertOptions:
    alpha_ce: float = setting(0.5, "DistilBERT: soft-target weight.")
    alpha_task: float = setting(0.5, "DistilBERT: gold-label weight.")
    alpha_cos: float = setting(1.0, "DistilBERT: cosine weight.")
    temperature: float = setting(2.0, "Softmax temperature of the soft targets.", minimum=0)


class DistilBert(Objective):
    """alpha_ce * T^2 * KL + alpha_task * task loss + alpha_cos * cosine loss on the last hidden states."""

    needs = frozenset({"hidden"})

    def __init__(
        self, alpha_ce: float = 0.5, alpha_task: float = 0.5, alpha_cos: float = 1.0, temperature: float = 2.0
    ):
        super().__init__()
        self.alpha_ce, self.alpha_task, self.alpha_cos, self.temperature = alpha_ce, alpha_task, alpha_cos, temperature

    def forward(self, student, teacher, batch):
        soft = kd_term(student.logits, teacher.logits, self.temperature, self.soft_weights(teacher.logits))
        task = losses.task_loss(student.logits, batch["labels"])
        cosine = losses.cosine_hidden_loss(student.hidden[-1], teacher.hidden[-1], batch["attention_mask"])
        total = self.alpha_ce * soft + self.alpha_task * task + self.alpha_cos * cosine
        return total, {"kd": soft.item(), "task": task.item(), "cosine": cosine.item()}


@register
class DistilBertMethod(Method):
    name = "distilbert"
    summary = "KD + task + cosine, student from alternate teacher layers (the teacher's width)"
    Options = DistilBertOptions
    default_init = "teacher-alternate"
    same_width = True

    def layer_map(self, options, context: PlanContext):
        if context.layer_map:
            raise InputError(
                "--layer-map does not apply to --method distilbert (its cosine loss reads the last hidden states only)"
            )
        return None

    def stages(self, options, context: PlanContext) -> list[StagePlan]:
        return single_stage("distilbert", context.settings)

    def objective(self, stage, options: DistilBertOptions, layer_map, student, teacher) -> Objective:
        return DistilBert(options.alpha_ce, options.alpha_task, options.alpha_cos, options.temperature)
