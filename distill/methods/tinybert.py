"""TinyBERT task distillation (Jiao et al., 2020): stage 1 matches the teacher's embeddings, hidden
states (through learned width projections) and pre-softmax attention scores layer by layer; stage 2
trains the student on the teacher's soft targets. A student narrower than its teacher is welcome."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from data import InputError
from data.options import setting

from . import losses
from .base import Method, PlanContext, StagePlan, given_or
from .layer_maps import LayerMap
from .objectives import Objective
from .registry import register

# Epochs of (stage 1, stage 2) when none are given: one epoch each, the budget the MRPC quality study
# found sufficient (docs/results.md, epoch-matched rows), or the published 10 + 3 (hours on a CPU).
BUDGETS = {"study": (1.0, 1.0), "published": (10.0, 3.0)}
PREDICTION_LR = 3e-5  # stage 2, as published
STAGES = ("intermediate", "prediction", "both")
# What the MRPC quality study (docs/results.md) chose on its held-out slice for a 6-layer teacher:
# 4 layers of width 312, pruned from the teacher, over 2x its CPU speed.
SIX_LAYER_SHAPE = (4, 312)
UNTRAINED_HEAD = (
    "--stage intermediate trains the student's layers only: its task head is untrained, so its dev figures are "
    "not those of a finished student; run --stage prediction on it next"
)


@dataclass(frozen=True)
class TinyBertOptions:
    stage: str = setting(
        "both",
        "Stage(s): intermediate = the layer-wise objective (TinyBERT: embedding, hidden-state and attention "
        "MSE; MiniLM: attention and value relations); prediction = soft cross-entropy on logits.",
        choices=STAGES,
    )
    budget: str = setting(
        "study",
        "Epochs of each stage when --intermediate-epochs/--epochs do not say: study = 1 + 1, one epoch per stage, "
        "what the MRPC quality study found sufficient (docs/results.md); published = TinyBERT's 10 + 3, hours on a "
        "CPU over augmented data.",
        choices=tuple(BUDGETS),
    )
    intermediate_epochs: float | None = setting(
        None,
        "Stage 1 epochs. Default: --budget's (1, or 10 published), capped by --max-steps; given explicitly, stage 1 "
        "runs exactly these epochs. --epochs overrides it for --stage intermediate alone.",
        minimum=0,
    )
    intermediate_lr: float = setting(
        5e-5, "Stage 1 learning rate (--lr overrides it for --stage intermediate alone).", minimum=0
    )
    temperature: float = setting(1.0, "Softmax temperature of the soft targets.", minimum=0)


class TinyBertIntermediate(Objective):
    """Stage 1: embedding MSE + hidden-state MSE through learned width projections (one per matched
    layer) + pre-softmax attention MSE, padding excluded."""

    needs = frozenset({"hidden", "scores"})

    def __init__(self, layer_map: LayerMap, student_width: int, teacher_width: int, channels: list[int] | None = None):
        """`channels`: for a student pruned from the teacher, the teacher channel each student channel
        was cut from; the projections then start as that selection instead of random weights."""
        super().__init__()
        self.layer_map = tuple(layer_map)
        self.projections = nn.ModuleList(
            nn.Linear(student_width, teacher_width) for _ in range(len(self.layer_map) + 1)
        )
        if channels is not None and len(channels) == student_width and max(channels) < teacher_width:
            with torch.no_grad():
                for projection in self.projections:
                    projection.weight.zero_()
                    projection.weight[channels, range(student_width)] = 1.0
                    projection.bias.zero_()

    @classmethod
    def between(cls, student, teacher, layer_map: LayerMap) -> TinyBertIntermediate:
        """The objective for these models; a pruned student's projections start as its channel selection."""
        channels = getattr(student.config, "pruned_hidden_channels", None)
        return cls(layer_map, student.config.hidden_size, teacher.config.hidden_size, channels)

    def forward(self, student, teacher, batch):
        mask = batch["attention_mask"]
        embedding = losses.masked_mse(self.projections[0](student.hidden[0]), teacher.hidden[0], mask)
        hidden = sum(
            losses.masked_mse(project(student.hidden[s]), teacher.hidden[t], mask)
            for project, (s, t) in zip(self.projections[1:], self.layer_map)
        )
        attention = sum(
            losses.attention_mse(student.scores[s - 1], teacher.scores[t - 1], mask) for s, t in self.layer_map
        )
        total = embedding + hidden + attention
        return total, {"embedding": embedding.item(), "hidden": hidden.item(), "attention": attention.item()}


class TinyBertPrediction(Objective):
    """Stage 2: soft cross-entropy against the teacher's logits at temperature T (MSE to the teacher's
    output for regression; never the gold labels)."""

    cacheable = True

    def __init__(self, temperature: float = 1.0):
        super().__init__()
        self.temperature = temperature

    def forward(self, student, teacher, batch):
        if student.logits.shape[-1] == 1:
            loss = losses.mse(student.logits, teacher.logits)
        else:
            weights = self.soft_weights(teacher.logits)
            loss = losses.soft_cross_entropy(student.logits, teacher.logits, self.temperature, weights)
        return loss, {"prediction": loss.item()}


@register
class TinyBert(Method):
    name = "tinybert"
    summary = "layer-wise (intermediate) then prediction distillation; any student width"
    stage_one_label = "intermediate layers"
    Options = TinyBertOptions

    def default_student(self, teacher_layers: int, teacher_width: int, teacher_heads: int) -> str:
        """From a 6-layer teacher wider than 312 (when 312 splits into its heads): 4L-312, the MRPC
        study's pick; otherwise half the teacher's layers at its width."""
        layers, width = SIX_LAYER_SHAPE
        if teacher_layers == 6 and teacher_width > width and width % teacher_heads == 0:
            return f"{layers}L-{width}"
        return super().default_student(teacher_layers, teacher_width, teacher_heads)

    def init(self, student_width: int, teacher_width: int) -> str:
        """Pruned from the teacher, unless the student is wider than the teacher (then random, as published)."""
        return "random" if student_width > teacher_width else "teacher-pruned"

    def check_options(self, given: dict) -> None:
        stage_one = [name for name in ("intermediate_epochs", "intermediate_lr") if name in given]
        if given.get("stage") == "prediction" and stage_one:
            raise InputError(f"--stage prediction runs no stage 1: drop {', '.join(_flags(stage_one))}")

    def imitated_layers(self, layer_map: LayerMap | None, context: PlanContext) -> list[int] | None:
        """A pruned student starts from exactly the teacher layers it will imitate (half the initial
        attention loss of evenly spread ones)."""
        return [t - 1 for _, t in layer_map]

    def stages(self, options: TinyBertOptions, context: PlanContext) -> list[StagePlan]:
        run, plans = context.settings, []
        stage_one_epochs, stage_two_epochs = BUDGETS[options.budget]
        if options.stage in ("intermediate", "both"):
            epochs = options.intermediate_epochs or stage_one_epochs
            if options.stage == "both":  # --epochs and --lr are stage 2's; explicit stage-1 epochs are not capped
                capped = None if options.intermediate_epochs is not None else run.max_steps
                budget = (epochs, options.intermediate_lr, capped)
            else:
                budget = (given_or(run.epochs, epochs), given_or(run.lr, options.intermediate_lr), run.max_steps)
            folder = "intermediate" if options.stage == "both" else ""
            plans.append(
                StagePlan("intermediate", f"{self.name} stage 1 ({self.stage_one_label})", *budget, folder, False)
            )
        if options.stage in ("prediction", "both"):
            budget = (given_or(run.epochs, stage_two_epochs), given_or(run.lr, PREDICTION_LR), run.max_steps)
            plans.append(StagePlan("prediction", f"{self.name} stage 2 (prediction)", *budget, "", True))
        return plans

    def objective(self, stage: StagePlan, options: TinyBertOptions, layer_map, student, teacher) -> Objective:
        if stage.name == "intermediate":
            return TinyBertIntermediate.between(student, teacher, layer_map)
        return TinyBertPrediction(options.temperature)

    def untrained_head(self, options: TinyBertOptions) -> str | None:
        return UNTRAINED_HEAD if options.stage == "intermediate" else None


def _flags(names) -> list[str]:
    return [f"--{name.replace('_', '-')}" for name in names]
