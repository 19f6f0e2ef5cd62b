"""The three jobs a user runs, each one use of the run template: `finetune` makes a teacher, `distill`
distils it into a student by the run's resolved plan, `general_distill` teaches a student on plain
text first. The plan is where a distillation's method, student, layer map and stages are decided."""

from .distillation import distill
from .finetune import ensure_teacher, finetune, teacher_folder
from .general import general_distill
from .plan import DistillPlan, plan_distillation
from .static import fit_static_baseline

__all__ = [
    "distill",
    "ensure_teacher",
    "finetune",
    "teacher_folder",
    "general_distill",
    "DistillPlan",
    "plan_distillation",
    "fit_static_baseline",
]
