"""The order of training examples: shuffled anew each epoch from (seed, epoch) alone, and grouped by
length so that batches carry little padding."""

from __future__ import annotations

import torch
from torch.utils.data import Sampler


class EpochShuffle(Sampler):
    """A new order each epoch from (seed, epoch) alone, so a resumed run sees the same batches.

    With `lengths`, batches hold examples of similar length (padding is most of the work otherwise:
    random MRPC batches are 1.5x their real tokens): the shuffled order is cut into windows of
    `WINDOW_BATCHES` batches, each window is sorted by length and cut into batches, and the full
    batches are shuffled (a short last batch stays last, keeping every batch boundary aligned)."""

    WINDOW_BATCHES = 50

    def __init__(self, size: int, seed: int, lengths=None, batch_size: int = 1):
        self.size, self.seed, self.epoch, self.batch_size = size, seed, 0, batch_size
        self.lengths = None if lengths is None else torch.as_tensor(lengths)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1000 + self.epoch)
        order = torch.randperm(self.size, generator=generator)
        if self.lengths is None:
            return iter(order.tolist())
        batches = []
        for window in order.split(self.batch_size * self.WINDOW_BATCHES):
            ranked = window[torch.argsort(self.lengths[window], descending=True, stable=True)]
            batches += ranked.split(self.batch_size)
        short = [batches.pop()] if len(batches[-1]) < self.batch_size else []
        shuffled = [batches[i] for i in torch.randperm(len(batches), generator=generator)] + short
        return iter(torch.cat(shuffled).tolist())
