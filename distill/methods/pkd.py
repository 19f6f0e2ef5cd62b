"""Patient KD (Sun et al., 2019): the task loss + soft-target KD + the patient loss, which pulls the
normalised [CLS] states of the student's intermediate layers towards chosen teacher layers (every
k-th: PKD-skip; the last ones: PKD-last). The student starts from the teacher's lowest layers."""

from __future__ import annotations

from dataclasses import dataclass

from data import InputError
from data.options import setting

from . import layer_maps, losses
from .base import Method, PlanContext, StagePlan, single_stage
from .layer_maps import LayerMap
from .objectives import Objective, kd_term
from .registry import register


@dataclass(frozen=True)
class PkdOptions:
    pkd_strategy: str = setting(
        "skip",
        "PKD: every k-th teacher layer (skip) or the last ones below the top (last).",
        choices=tuple(layer_maps.PKD_MAPS),
    )
    pkd_alpha: float = setting(0.5, "PKD: KD weight alpha (task loss gets 1 - alpha; paper's grid 0.2, 0.5, 0.7).")
    pkd_beta: float = setting(100.0, "PKD: patient-loss weight beta (paper's grid 10, 100, 500, 1000).")
    temperature: float = setting(10.0, "Softmax temperature of the soft targets (PKD's grid: 5, 10, 20).", minimum=0)


class PatientKD(Objective):
    """(1 - alpha) * task loss + alpha * T^2 * KD + beta * patient loss on normalised [CLS] states of
    the matched layers (PKD-skip or PKD-last is only the layer map)."""

    needs = frozenset({"hidden"})
    cacheable = True

    def __init__(self, layer_map: LayerMap, alpha: float = 0.5, beta: float = 100.0, temperature: float = 10.0):
        super().__init__()
        self.layer_map, self.alpha, self.beta, self.temperature = tuple(layer_map), alpha, beta, temperature
        self.cls_layers = tuple(t for _, t in self.layer_map)

    def forward(self, student, teacher, batch):
        task = losses.task_loss(student.logits, batch["labels"])
        soft = kd_term(student.logits, teacher.logits, self.temperature, self.soft_weights(teacher.logits))
        patient = losses.patient_loss(
            [student.hidden[s][:, 0] for s, _ in self.layer_map], [teacher.hidden[t][:, 0] for _, t in self.layer_map]
        )
        total = (1 - self.alpha) * task + self.alpha * soft + self.beta * patient
        return total, {"task": task.item(), "kd": soft.item(), "patient": patient.item()}


@register
class PatientKdMethod(Method):
    name = "pkd"
    summary = "Patient KD, student from the teacher's lowest layers (the teacher's width)"
    Options = PkdOptions
    default_init = "teacher-lowest"
    same_width = True

    def check(self, options: PkdOptions, context: PlanContext) -> None:
        super().check(options, context)
        if context.student_layers < 2 and not context.layer_map:
            raise InputError(
                "--method pkd needs a student of at least 2 layers: its patient loss matches "
                "student layers 1..M-1 (the top one is left to the KD loss)"
            )

    def layer_map(self, options: PkdOptions, context: PlanContext) -> LayerMap:
        default = layer_maps.PKD_MAPS[options.pkd_strategy]
        return layer_maps.resolve(context.layer_map, context.student_layers, context.teacher_layers, default=default)

    def stages(self, options: PkdOptions, context: PlanContext) -> list[StagePlan]:
        return single_stage(f"pkd-{options.pkd_strategy}", context.settings)

    def objective(self, stage, options: PkdOptions, layer_map, student, teacher) -> Objective:
        return PatientKD(layer_map, options.pkd_alpha, options.pkd_beta, options.temperature)
