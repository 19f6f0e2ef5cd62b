"""Teacher-scored augmentation: word replacement can carry a copy across the decision boundary (a
paraphrase whose verb was replaced may no longer be one), and distilling on it teaches the student
the teacher's view of a text whose gold label no longer holds. The teacher scores every row once;
copies that it puts in another class than their original example are dropped."""

from __future__ import annotations

import numpy as np

from .encoding import LabelledExamples
from .predictions import teacher_logits


def teacher_agreeing_rows(
    teacher, examples: LabelledExamples, owners: list[int], *, device, precision: str, progress: bool = True
) -> tuple[list[int], dict]:
    """The rows to keep (every original, and the copies the teacher classes as their original), and
    the counts for the report. `owners[i]` is the original example of row i; each example's first row
    is the original itself (augment writes it first)."""
    progress_label = "teacher scores the copies" if progress else None
    predicted = teacher_logits(teacher, examples, device=device, precision=precision, progress=progress_label).argmax(1)
    owners = np.asarray(owners)
    first_row = np.full(owners.max() + 1, -1)
    first_row[owners[::-1]] = np.arange(len(owners))[::-1]  # the first row of each example: its original
    originals = first_row[owners] == np.arange(len(owners))
    agrees = predicted == predicted[first_row[owners]]
    kept = np.flatnonzero(agrees | originals)
    copies = int((~originals).sum())
    dropped = len(owners) - len(kept)
    facts = {
        "copies": copies,
        "dropped": dropped,
        "dropped_share": dropped / copies if copies else 0.0,
        "precision": precision,
        "rule": "an augmented copy is dropped when the teacher's class for it differs from its class for the original",
    }
    return kept.tolist(), facts
