"""The augmenter: a config's source loaded once, then any number of table chunks in -> each row followed
by its distinct copies out, whatever the source. The runner keeps one per worker process; the preview
uses one for its sample."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from .config import AugmentConfig
from .sources import Copy, Source


@dataclass(frozen=True)
class Example:
    """One row's texts and its distinct copies."""

    original: tuple[str, ...]
    copies: list[Copy]


class Augmenter:
    """Loads the config's source (its models) once; `source` overrides the registry's entry of that
    name (the runner hands its workers the very object it looked up)."""

    def __init__(self, config: AugmentConfig, source: Source | None = None):
        config = config.settled()[0]
        config.validate()
        self.config, self.source = config, source or config.plugin
        self.copier = self.source.open(config.options)

    def augment_frame(
        self, frame: pd.DataFrame, text_columns: list[str], first_row: int = 0
    ) -> tuple[pd.DataFrame, Counter]:
        """Each row followed by its distinct copies; other columns (the label) copied.

        Row r draws as row `first_row + r` of its file, so the output does not depend on how the table
        was cut into chunks or spread over workers.
        """
        examples, counts = self.examples(frame, text_columns, range(first_row, first_row + len(frame)))
        rows, columns_out = [], {c: [] for c in text_columns}
        for r, example in enumerate(examples):
            for texts in [example.original] + [copy.texts for copy in example.copies]:
                rows.append(r)
                for c, text in zip(text_columns, texts):
                    columns_out[c].append(text)
        out = frame.iloc[rows].reset_index(drop=True)
        for c in text_columns:
            out[c] = columns_out[c]
        counts.update(rows_in=len(frame), rows_out=len(out))
        return out, counts

    def examples(
        self, frame: pd.DataFrame, text_columns: list[str], row_numbers: Sequence[int], *, marks: bool = False
    ) -> tuple[list[Example], Counter]:
        """Every row's distinct copies (at most n: none equal to the row or to an earlier copy); row i
        draws as row `row_numbers[i]` of its file (the copies `augment` writes for it, wherever the row is
        augmented: a shard, a preview sample). `marks`: the source's [old→new] marks, where it has them."""
        texts = [frame[c].fillna("").astype(str).tolist() for c in text_columns]
        made = self._copies(texts, list(row_numbers), marks)
        counts, examples = Counter(made.counts), []
        for r, copies in enumerate(made.rows):
            original = tuple(column[r] for column in texts)
            seen, kept = {original}, []
            for copy in copies:
                copy = Copy(tuple(copy.texts), copy.marked)
                if len(copy.texts) != len(texts):
                    raise RuntimeError(f"source {self.source.name!r} gave a copy of {len(copy.texts)} texts")
                if copy.texts not in seen and len(kept) < self.config.n:
                    seen.add(copy.texts)
                    kept.append(copy)
            examples.append(Example(original, kept))
            counts["copies"] += len(kept)
            counts["examples_with_fewer_copies"] += len(kept) < self.config.n
        return examples, counts

    def _copies(self, texts: list[list[str]], rows: list[int], marks: bool):
        made = self.copier.copies(texts, rows, n=self.config.n, seed=self.config.seed, marks=marks)
        if len(made.rows) != len(rows):
            raise RuntimeError(f"source {self.source.name!r} gave copies for {len(made.rows)} of {len(rows)} rows")
        return made
