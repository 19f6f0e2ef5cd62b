"""One resolved plan per distillation run: the method and its options, the student's shape and how it
starts, the layer map and every stage's budget, decided once before any training, printed, recorded in
each stage's settings.json and then executed as it stands. Nothing later re-derives any of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from transformers import AutoConfig

from data import InputError

from .. import methods
from ..methods import PlanContext, StagePlan
from ..methods.layer_maps import LayerMap
from ..models.shapes import parse_shape
from ..settings import STUDENT_INITS, DistillSettings, TrainSettings
from ..shipping.speedup import SpeedChoice


@dataclass(frozen=True)
class DistillPlan:
    """Everything a run will do, resolved (see the module docstring)."""

    method: str
    options: dict  # every option of the method, defaults filled
    student: str  # the shape built (4L-312) or the folder loaded
    student_auto: bool  # the shape is what --student auto stands for
    layers: int
    width: int
    init: str | None  # None: a folder student keeps its own weights
    layer_map: LayerMap | None
    layer_map_given: bool
    imitated_layers: list[int] | None  # teacher layers (0-based) a pruned student starts from
    stages: tuple[StagePlan, ...]
    filter_teacher: bool
    balance_classes: bool
    teacher_shape: str
    speed: dict | None = None  # the --speedup choice: asked, shape, measured ratio, timings

    @property
    def shape_built(self) -> bool:
        return self.init is not None

    def record(self) -> dict:
        """The plan as settings.json records it (JSON types only)."""
        record = asdict(self)
        record["layer_map"] = [list(pair) for pair in self.layer_map] if self.layer_map else None
        record["stages"] = [asdict(stage) for stage in self.stages]
        return record

    def describe(self) -> str:
        """What the run will do, in the lines printed before the first step."""
        student = f"student: {self.student}"
        if self.student_auto:
            student += f" (--student auto for {self.method} from a {self.teacher_shape} teacher)"
        lines = [f"{student}; {self.init or 'its own weights'}" + ("" if self.init is None else " start")]
        if self.speed:
            lines.append(SpeedChoice(**self.speed).describe())
        if self.layer_map:
            pairs = ", ".join(f"{s}->{t}" for s, t in self.layer_map)
            default = "" if self.layer_map_given else " (default, evenly spaced)"
            lines.append(f"layer map (student -> teacher layer): {pairs}{default}")
        for number, stage in enumerate(self.stages, 1):
            budget = f"{stage.epochs:g} epochs" + (f", at most {stage.max_steps:,} steps" if stage.max_steps else "")
            where = f" in {stage.folder}/" if stage.folder else ""
            lines.append(f"stage {number}/{len(self.stages)}: {stage.description}, {budget} at lr {stage.lr:g}{where}")
        return "\n".join(lines)


def plan_distillation(
    recipe: DistillSettings, settings: TrainSettings, teacher_config, *, speed: SpeedChoice | None = None
) -> DistillPlan:
    """Resolve the recipe against the teacher's shape: every default the method fills, every check it
    makes; `speed`, what `speedup.shape_for_speedup` chose for --speedup, names the student."""
    method = methods.get(recipe.method)
    options = methods.options_for(method, recipe.options)
    teacher = (teacher_config.num_hidden_layers, teacher_config.hidden_size, teacher_config.num_attention_heads)
    student = method.default_student(*teacher) if recipe.student == "auto" else recipe.student
    student = speed.shape if speed else student
    layers, width, heads = _student_shape(student, teacher[2])
    init = _init(recipe.init, method, student, width, teacher[1])
    context = PlanContext(*teacher, layers, width, heads, recipe.layer_map, settings)
    method.check(options, context)
    layer_map = method.layer_map(options, context)
    imitated = method.imitated_layers(layer_map, context) if init == "teacher-pruned" and layer_map else None
    return DistillPlan(
        method=method.name,
        options=asdict(options),
        student=student,
        student_auto=recipe.student == "auto" and speed is None,
        layers=layers,
        width=width,
        init=init,
        layer_map=layer_map,
        layer_map_given=bool(recipe.layer_map),
        imitated_layers=imitated,
        stages=tuple(method.stages(options, context)),
        filter_teacher=recipe.filter_teacher,
        balance_classes=recipe.balance_classes,
        teacher_shape=f"{teacher[0]}L-{teacher[1]}",
        speed=asdict(speed) if speed else None,
    )


def _student_shape(student: str, teacher_heads: int) -> tuple[int, int, int]:
    """(layers, width, heads) of a shape (built with the teacher's heads), or of a student folder (from its
    config; no weights loaded)."""
    shape = parse_shape(student)
    if shape:
        return (*shape, teacher_heads)
    folder = Path(student)
    if not (folder / "config.json").is_file():
        raise InputError(f"--student {student}: neither a shape such as 4L-312 nor a model folder (no config.json)")
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    return config.num_hidden_layers, config.hidden_size, config.num_attention_heads


def _init(given: str, method, student: str, width: int, teacher_width: int) -> str | None:
    """How the student starts: a folder keeps its weights; a shape starts as asked, else as the method says."""
    if given not in STUDENT_INITS:
        raise InputError(f"--student-init must be one of {', '.join(STUDENT_INITS)}, got {given!r}")
    if parse_shape(student) is None:
        return None
    return method.init(width, teacher_width) if given == "auto" else given
