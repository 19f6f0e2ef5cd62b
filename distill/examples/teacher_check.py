"""Is the teacher worth distilling? A teacher no better than answering the dev set's most common class (a
fine-tune that failed: too few epochs or a poor learning rate on a small hard task) would spend the
distillation's minutes teaching a student to guess. The check runs before any of them are spent and
the report records it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .encoding import LabelledExamples
from .predictions import predict, score


@dataclass(frozen=True)
class TeacherCheck:
    """The teacher's dev figure against the floor of a model that learnt nothing: the majority class's
    accuracy (for regression, no correlation). "Clearly above" means by more than two standard errors
    of that floor on this many dev examples."""

    metric: str
    teacher: float
    floor: float
    margin: float
    examples: int

    @property
    def clearly_above(self) -> bool:
        return self.teacher - self.floor > self.margin

    def warning(self, teacher_path, *, fallback: bool) -> str:
        """What the user sees: the figures, and what to try (`fallback`: the teacher distill fine-tuned)."""
        floor = "the majority class" if self.metric == "accuracy" else "no correlation"
        remedy = (
            f"move {teacher_path} away and run again with more --teacher-epochs or another --teacher-lr, or give "
            "a better teacher with --teacher"
            if fallback
            else "fine-tune it for more epochs or at another learning rate (`finetune --epochs/--lr`), or give "
            "another with --teacher"
        )
        return (
            f"the teacher {teacher_path} is not clearly better than {floor} on dev: {self.metric} "
            f"{self.teacher:.4f} against {self.floor:.4f} on {self.examples:,} examples (clearly better: by "
            f"more than {self.margin:.3f}, two standard errors). A student learns only what its teacher "
            f"knows: {remedy}"
        )

    def record(self) -> dict:
        return {**asdict(self), "clearly_above": self.clearly_above}


CHECKED_EXAMPLES = 1000  # a larger dev set is sampled: enough to tell a teacher from a guess, in seconds


def check_teacher(teacher, dev_set: LabelledExamples, device="cpu") -> TeacherCheck:
    """The teacher's dev accuracy (correlation for regression) against the floor, in fp32, on the dev set
    or a fixed sample of CHECKED_EXAMPLES of it."""
    if len(dev_set) > CHECKED_EXAMPLES:
        dev_set = dev_set.subset(sorted(np.random.default_rng(0).choice(len(dev_set), CHECKED_EXAMPLES, replace=False)))
    outputs = predict(teacher.to(device), dev_set, device=device)
    labels, n = dev_set.labels.numpy(), len(dev_set)
    metric = "pearson" if outputs.shape[1] == 1 else "accuracy"
    figure = float(score(outputs, labels, (metric,))[metric])
    if metric == "pearson":
        return TeacherCheck(metric, figure, 0.0, 2 / math.sqrt(n), n)
    majority = float(np.bincount(labels).max() / n)
    return TeacherCheck(metric, figure, majority, 2 * math.sqrt(majority * (1 - majority) / n), n)
