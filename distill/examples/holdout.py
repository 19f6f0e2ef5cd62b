"""The training examples a run trains on, and the held-out slice of them that chooses its checkpoint
under --select holdout."""

from __future__ import annotations

import logging

from ..settings import TrainSettings
from .task_data import TaskData

log = logging.getLogger("tinydistill")

HOLDOUT_SEED = 0  # the held-out slice does not follow --seed: runs of several seeds choose on the same examples


def split_for_selection(task: TaskData, tokenizer, length: int, settings: TrainSettings):
    """The training examples, and with select="holdout" the held-out slice of the original training
    examples that chooses the checkpoint (their augmented copies are left out of training too), and the
    rows of the training file kept. The slice is the same for every seed and every run on the same
    file, so a teacher and its students, or seeds of one recipe, are chosen on the same examples."""
    train_set = task.encode(task.train_path, tokenizer, length)
    if settings.select != "holdout":
        return train_set, None, range(len(train_set))
    rows, held = task.holdout_split(settings.holdout, HOLDOUT_SEED)
    same = task.train_path == task.original_train_path
    original = train_set if same else task.encode(task.original_train_path, tokenizer, length)
    log.info(
        f"held out {len(held):,} of {len(original):,} training examples (with their augmented copies: "
        f"{len(train_set) - len(rows):,} rows) to choose the checkpoint on"
    )
    return train_set.subset(rows), original.subset(held), rows
