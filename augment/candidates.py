"""Which words of a text get which replacement candidates (the TinyBERT rule).

A replaceable word that the masked-LM's tokenizer keeps as one piece is masked and gets the model's
top-K whole words; a word that splits into several pieces (or every word, without a masked-LM) gets
its K nearest GloVe neighbours. All texts of a shard go to each backend in one batched call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from glove import NeighbourIndex

from .masked_lm import MaskedLM
from .words import Words, split_words


@dataclass(frozen=True)
class TextCandidates:
    words: Words
    options: dict[int, list[str]]  # word index -> candidates, sorted; only words that have some


class CandidateFinder:
    def __init__(self, mlm: MaskedLM | None, neighbours: NeighbourIndex, k: int):
        self.mlm, self.neighbours, self.k = mlm, neighbours, k

    def find(self, texts: list[str]) -> tuple[list[TextCandidates], Counter]:
        """Candidates for every replaceable word of every text, plus counts for the run summary."""
        stats: Counter = Counter()
        words = [split_words(text) for text in texts]
        wanted = [np.flatnonzero(w.replaceable()) for w in words]
        stats["empty_texts"] = sum(not text.strip() for text in texts)
        found: list[dict[int, list[str]]] = [{} for _ in texts]
        by_vectors: list[tuple[int, int]] = []
        if self.mlm is None:
            by_vectors = [(t, int(i)) for t, indices in enumerate(wanted) for i in indices]
        else:
            queries, owners = [], []
            encoded = self.mlm.encode([w.tokens for w in words])
            for t, (enc, indices) in enumerate(zip(encoded, wanted)):
                if not len(indices):
                    continue
                pieces = enc.pieces_per_word(len(words[t].spans))[indices]
                first_piece = np.searchsorted(np.asarray(enc.word_ids), indices[pieces == 1])
                queries += [(t, int(p)) for p in first_piece]
                owners += [(t, int(i)) for i in indices[pieces == 1]]
                by_vectors += [(t, int(i)) for i in indices[pieces != 1]]
            predictions, stats["cut_windows"] = self.mlm.fill_masks(encoded, queries, self.k)
            for (t, i), options in zip(owners, predictions):
                found[t][i] = options
            stats["masked_lm_words"] = len(owners)
        lookups = [words[t].tokens[i].lower() for t, i in by_vectors]
        neighbours = self.neighbours.neighbours(lookups)
        for (t, i), word in zip(by_vectors, lookups):
            found[t][i] = neighbours[word]
        stats["vector_words"] = len(by_vectors)
        stats["words_without_vectors"] = sum(word not in self.neighbours for word in lookups)
        return [TextCandidates(w, _clean(w, options)) for w, options in zip(words, found)], stats


def _clean(words: Words, found: dict[int, list[str]]) -> dict[int, list[str]]:
    """Drop the word itself (in any case) and repeats; sort, so that the draw depends only on the
    candidate SET, which is stable across batchings and thread counts, not on near-tied scores."""
    tokens = words.tokens
    cleaned = {i: sorted({c for c in options if c.lower() != tokens[i].lower()}) for i, options in found.items()}
    return {i: options for i, options in cleaned.items() if options}
