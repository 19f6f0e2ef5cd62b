"""What a distillation method is: its own options (with the published defaults), the student it makes
by default and how that student starts, the layer map it reads, and the stages it trains, each stage
with its budget and the objective built from the shared losses and taps.

A method answers questions; it runs nothing. `jobs.plan.plan_distillation` asks them once, up front,
and the answers become the run's `DistillPlan`, which `jobs.distillation` executes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from data import InputError

from ..settings import LOOP_EPOCHS, LOOP_LR, TrainSettings
from . import layer_maps
from .layer_maps import LayerMap
from .objectives import Objective


@dataclass(frozen=True)
class StagePlan:
    """One training stage, resolved: what it trains, for how long, at what learning rate, where."""

    name: str  # the method's name for the stage ("intermediate", "prediction", "distilbert"...)
    description: str  # its progress bar and log lines
    epochs: float  # max_steps, when given, ends the stage first
    lr: float
    max_steps: int | None
    folder: str  # "" for the run folder itself; a stage before the last trains in a subfolder
    scored: bool  # evaluated on dev (and the held-out slice) as it trains

    def settings(self, base: TrainSettings) -> TrainSettings:
        """The run's training settings with this stage's budget."""
        return replace(base, epochs=self.epochs, lr=self.lr, max_steps=self.max_steps)


@dataclass(frozen=True)
class PlanContext:
    """What a method's answers may depend on: the teacher's and the student's shapes (layers, width,
    heads), the user's --layer-map, and the run's training settings."""

    teacher_layers: int
    teacher_width: int
    teacher_heads: int
    student_layers: int
    student_width: int
    student_heads: int
    layer_map: str | None
    settings: TrainSettings


class Method:
    """Subclass, set `name`, `summary` and `Options` (a frozen dataclass declared with
    `data.options.setting`), implement `stages` and `objective`, and register it with
    `distill.methods.register`."""

    name: str = ""
    summary: str = ""  # one line for `distill --help`
    Options: type = object
    default_init: str = "teacher-pruned"  # how a shape-built student starts (see models.INITS)
    same_width: bool = False  # compares student and teacher states directly: the student needs its width

    def default_student(self, teacher_layers: int, teacher_width: int, teacher_heads: int) -> str:
        """The shape `--student auto` stands for: half the teacher's layers at its width."""
        return f"{max(1, teacher_layers // 2)}L-{teacher_width}"

    def init(self, student_width: int, teacher_width: int) -> str:
        """How a shape-built student starts when --student-init is auto."""
        return self.default_init

    def check_options(self, given: dict) -> None:
        """Refuse option values that contradict each other, as the user gave them (before defaults)."""

    def check(self, options, context: PlanContext) -> None:
        """Refuse what this method cannot do with these shapes and options (before any model loads
        beyond the teacher's config)."""
        if self.same_width and context.student_width != context.teacher_width:
            raise InputError(
                f"--method {self.name} compares student and teacher states directly, so the student needs "
                f"the teacher's width {context.teacher_width} (got {context.student_width}); use e.g. "
                f"--student {max(1, context.teacher_layers // 2)}L-{context.teacher_width}, or --method tinybert "
                "for a narrower student"
            )

    def layer_map(self, options, context: PlanContext) -> LayerMap | None:
        """Which teacher layer each student layer learns from (None: the method matches no layers)."""
        return layer_maps.resolve(context.layer_map, context.student_layers, context.teacher_layers)

    def imitated_layers(self, layer_map: LayerMap | None, context: PlanContext) -> list[int] | None:
        """The teacher layers (0-based) a pruned student starts from; None: evenly spread ones."""
        return None

    def stages(self, options, context: PlanContext) -> list[StagePlan]:
        raise NotImplementedError

    def objective(self, stage: StagePlan, options, layer_map: LayerMap | None, student, teacher) -> Objective:
        raise NotImplementedError

    def untrained_head(self, options) -> str | None:
        """A note for the report when the run leaves the student's task head untrained."""
        return None


def given_or(value, default):
    """The user's value where given, else the default (None means not given; 0 is a value)."""
    return default if value is None else value


def single_stage(name: str, settings: TrainSettings, *, description: str = "", scored: bool = True) -> list[StagePlan]:
    """One stage in the run folder with the run's own budget (the loop's defaults filled); scored unless
    there is nothing to score (general distillation). `description` defaults to the name."""
    epochs, lr = given_or(settings.epochs, LOOP_EPOCHS), given_or(settings.lr, LOOP_LR)
    return [StagePlan(name, description or name, epochs, lr, settings.max_steps, "", scored)]
