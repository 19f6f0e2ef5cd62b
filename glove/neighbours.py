"""Nearest neighbours by cosine over unit vectors: batched matrix products and a top-K selection."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from gensim.models import KeyedVectors

SCORE_FLOATS = 2**24  # one batch's score matrix, batch x vocabulary: 64 MB, whatever the vocabulary


class NeighbourIndex:
    """Answers "which K words are closest to this one", many words at a time, with a per-word cache.

    `allowed` says which vocabulary words may be returned (e.g. alphabetic ones); the query word
    itself never is.
    """

    def __init__(
        self, vectors: KeyedVectors, k: int, *, allowed: Callable[[str], bool] | None = None, batch_size: int = 256
    ):
        self.vectors, self.k = vectors, k
        self.batch_size = max(1, min(batch_size, SCORE_FLOATS // max(1, len(vectors))))
        self.words = np.asarray(vectors.index_to_key, dtype=object)
        keep = (
            np.fromiter((allowed(w) for w in vectors.index_to_key), bool, len(self.words))
            if allowed
            else np.ones(len(self.words), bool)
        )
        self._penalty = torch.as_tensor(np.where(keep, 0.0, -np.inf).astype(np.float32))
        self._cache: dict[str, list[str]] = {}

    def __contains__(self, word: str) -> bool:
        return word in self.vectors.key_to_index

    def neighbours(self, words: Sequence[str]) -> dict[str, list[str]]:
        """The K nearest allowed words of each known word, nearest first; unknown words get []."""
        wanted = {w for w in words if w not in self._cache}
        known = [w for w in wanted if w in self.vectors.key_to_index]
        for w in wanted.difference(known):
            self._cache[w] = []
        for start in range(0, len(known), self.batch_size):
            self._search(known[start : start + self.batch_size])
        return {w: self._cache[w] for w in words}

    def _search(self, batch: list[str]) -> None:
        """torch's top-K keeps no more than the score matrix in memory (argpartition's index matrix
        would be twice its size: over 1 GB at 400,000 words)."""
        rows = np.fromiter((self.vectors.key_to_index[w] for w in batch), np.int64, len(batch))
        scores = torch.from_numpy(self.vectors.vectors[rows] @ self.vectors.vectors.T)
        scores += self._penalty
        scores[torch.arange(len(rows)), torch.from_numpy(rows)] = -torch.inf
        best, top = scores.topk(min(self.k, scores.shape[1] - 1), dim=1)
        for word, ids, ok in zip(batch, top.numpy(), torch.isfinite(best).numpy()):
            self._cache[word] = self.words[ids[ok]].tolist()
