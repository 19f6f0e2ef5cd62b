"""Class shares under augmentation (--balance-classes). Word replacement moves copies across the decision
boundary one way more than the other: the MRPC teacher calls 60% of the augmented pairs not-equivalent,
against 32% of the labelled ones. A student trained on the copies takes that as the task's prior, and
where it cannot tell two classes apart it leans on it. Weighting each row's soft-target loss by
labelled share / teacher share of its class (spread over the teacher's class probabilities) moves the
classes' weighted shares towards the labelled ones (exactly there only when the teacher is sure of every
row; the shares reached are recorded). It leaves the loss's minimiser row by row where it was (a student
that matches the teacher everywhere is the same student), so only a student that cannot match it changes."""

from __future__ import annotations

import numpy as np
import torch

from data import InputError

from .encoding import LabelledExamples
from .predictions import teacher_logits

SAMPLE_ROWS = 4096  # training rows the teacher scores for its class shares (a seeded sample when more)
SAMPLE_SEED = 0
WEIGHT_RANGE = (0.1, 10.0)  # a class the teacher almost never predicts (or the labels never name) stays bounded


def class_weights(
    teacher, examples: LabelledExamples, *, device, precision: str, progress: bool = True
) -> tuple[torch.Tensor, dict]:
    """Per-class weights (labelled share / teacher's share over the training rows, within WEIGHT_RANGE) and
    the facts for the run's record. Labelled shares count the gold labels of every training row (copies
    carry their original's); the teacher's are its mean class probabilities over up to SAMPLE_ROWS of them."""
    classes = teacher.config.num_labels
    if classes < 2:
        raise InputError("--balance-classes weighs classes; a regression task has none: drop it")
    labelled = np.bincount(examples.labels.numpy(), minlength=classes) / len(examples)
    rows = np.arange(len(examples))
    if len(rows) > SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(SAMPLE_SEED).choice(rows, SAMPLE_ROWS, replace=False))
    label = "teacher's class shares" if progress else None
    logits = teacher_logits(teacher, examples.subset(rows), device=device, precision=precision, progress=label)
    probabilities = torch.softmax(torch.from_numpy(logits).float(), dim=-1).numpy()
    scored = probabilities.mean(axis=0)
    raw = labelled / np.maximum(scored, 1e-12)
    weights = np.clip(raw, *WEIGHT_RANGE)
    reached = (probabilities * (probabilities @ weights)[:, None]).mean(axis=0)  # each class's weighted share
    facts = {
        "labelled_shares": labelled.round(4).tolist(),
        "teacher_shares": scored.round(4).tolist(),
        "weights": weights.round(4).tolist(),
        "weighted_shares": (reached / reached.sum()).round(4).tolist(),
        "clipped": bool((raw != weights).any()),
        "rows_scored": len(rows),
        "precision": precision,
        "rule": "each row's soft-target loss times sum over classes of teacher probability x labelled share / "
        "teacher share",
    }
    return torch.tensor(weights, dtype=torch.float32), facts
