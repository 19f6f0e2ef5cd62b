"""Drawing augmented copies: each candidate word replaced with probability p by a uniform choice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .candidates import TextCandidates


def draw_replacements(candidates: TextCandidates, n: int, p: float, rng: np.random.Generator) -> list[dict[int, str]]:
    """N independent draws over one text: word index -> chosen candidate, for the words replaced."""
    indices = list(candidates.options)
    replace = rng.random((n, len(indices))) < p
    picks = rng.random((n, len(indices)))
    sizes = np.asarray([len(candidates.options[i]) for i in indices])
    chosen = (picks * sizes).astype(np.int64) if len(indices) else picks.astype(np.int64)
    return [
        {i: candidates.options[i][c] for i, c, r in zip(indices, row_choice, row_replace) if r}
        for row_choice, row_replace in zip(chosen, replace)
    ]


@dataclass(frozen=True)
class Variant:
    """One augmented copy of an example: its texts, and per text the words replaced (index -> new word)."""

    texts: tuple[str, ...]
    replaced: tuple[dict[int, str], ...]


def draw_variants(columns: list[TextCandidates], n: int, p: float, rng: np.random.Generator) -> list[Variant]:
    """Up to N distinct variants of one example, each column drawn in the same copy j, so that
    variant j pairs text A's j-th draw with text B's j-th draw. Copies equal to the original or to
    an earlier copy are dropped."""
    draws = [draw_replacements(column, n, p, rng) for column in columns]
    original = tuple(column.words.text for column in columns)
    seen, variants = {original}, []
    for j in range(n):
        texts = tuple(column.words.render(draw[j]) for column, draw in zip(columns, draws))
        if texts not in seen:
            seen.add(texts)
            variants.append(Variant(texts, tuple(draw[j] for draw in draws)))
    return variants
