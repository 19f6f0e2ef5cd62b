"""Look before spending hours: a few random rows with the copies `augment` would write for them (the
changed words marked, where the source knows them), and what the whole run would cost, from that
sample. Nothing is written; the command line only prints `describe()`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data import InputError, TableFormat, check_columns, read_rows
from data.tables import check_texts_present

from .augmenter import Augmenter
from .config import AugmentConfig


@dataclass
class PreviewRow:
    row: int  # 1-based data row of the file (ragged rows not counted)
    original: tuple[str, ...]
    copies: list[tuple[str, ...]]  # each text with its replaced words shown as [old→new] where marked


@dataclass
class Preview:
    source: Path
    rows: int  # data rows of the file
    sample: list[PreviewRow]
    load_seconds: float  # loading the source's models (once per worker)
    sample_seconds: float  # augmenting the sample, models loaded
    replaced_share: float | None  # words replaced per copy, over the sample; None: the source counts no words

    @property
    def estimated_rows_out(self) -> int:
        """Each row plus its distinct copies, at the sample's rate of distinct copies."""
        copies = sum(len(row.copies) for row in self.sample) / max(1, len(self.sample))
        return round(self.rows * (1 + copies))

    @property
    def estimated_seconds(self) -> float:
        """One worker, from the sample's time per row. A few rows make smaller model batches than a
        shard does, so this leans high."""
        return self.load_seconds + self.sample_seconds / max(1, len(self.sample)) * self.rows

    def describe(self) -> str:
        lines = []
        for row in self.sample:
            lines.append(f"row {row.row}:")
            lines += [f"  {' || '.join(row.original)}"]
            lines += [f"  {j:>3}. {' || '.join(copy)}" for j, copy in enumerate(row.copies, 1)] or ["  (no copy)"]
        replaced = "" if self.replaced_share is None else f"; each copy replaced {self.replaced_share:.0%} of its words"
        lines.append(
            f"{len(self.sample)} of {self.rows:,} rows shown{replaced}. The full run would write about "
            f"{self.estimated_rows_out:,} rows and take about {self.estimated_seconds / 60:.0f} min with one "
            f"worker here (model loading {self.load_seconds:.0f} s, then "
            f"{self.sample_seconds / max(1, len(self.sample)):.2f} s per row in this sample). Nothing was written."
        )
        return "\n".join(lines)


def preview_file(
    input_path: str | Path,
    text_columns: list[str],
    config: AugmentConfig,
    k: int,
    *,
    fmt: TableFormat,
) -> Preview:
    """K rows drawn at random (by `config.seed`) with the copies a full run writes for them."""
    if k < 1:
        raise InputError(f"--preview takes a number of rows to show (1 or more), got {k}")
    source = Path(input_path)
    frame = read_rows(source, fmt).frame
    if frame.empty:
        raise InputError(f"{source}: no rows to augment (only a header, or nothing)")
    check_columns(source, list(frame.columns), list(text_columns), "--text-col")
    check_texts_present(source, frame, list(text_columns), 0)
    picked = np.sort(np.random.default_rng(config.seed).permutation(len(frame))[: min(k, len(frame))])
    sample = frame.iloc[picked].reset_index(drop=True)
    started = time.perf_counter()
    augmenter = Augmenter(config)
    loaded = time.perf_counter()
    examples, counts = augmenter.examples(sample, list(text_columns), picked.tolist(), marks=True)
    done = time.perf_counter()
    rows = [
        PreviewRow(int(row) + 1, ex.original, [copy.marked or copy.texts for copy in ex.copies])
        for row, ex in zip(picked, examples)
    ]
    words = counts.get("copy_words")
    share = None if words is None else counts["replaced_words"] / words if words else 0.0
    return Preview(source, len(frame), rows, loaded - started, done - loaded, share)
