"""What an augmentation source must provide, so that the runner, `--resume`, the manifest, the preview
and the summary work for any of them (the TinyBERT word substitution, a paraphraser, back-translation).

A source is stateless and cheap: it names itself, declares its own settings (`Options`, a frozen
dataclass of `data.options.setting` fields, from which the command line builds its flags), and says
what decides its output. `open` loads its models once and returns a `Copier`, which turns table
chunks into copies; that object is kept per worker process and serves every shard.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import ClassVar, Protocol, Sequence


@dataclass(frozen=True)
class Copy:
    """One augmented copy of a row: its texts (one per text column), and, where the source knows which
    words it changed, the same texts with each change shown as [old→new] (for people, never files)."""

    texts: tuple[str, ...]
    marked: tuple[str, ...] | None = None


@dataclass
class Copies:
    """A chunk's copies: for each row, its copies (at most n; the runner drops any equal to the row or
    to an earlier copy), and counts for the run summary (summed over shards; ints only)."""

    rows: list[list[Copy]]
    counts: Counter = field(default_factory=Counter)


class Copier(Protocol):
    """A source with its models loaded."""

    def copies(self, texts: list[list[str]], rows: Sequence[int], *, n: int, seed: int, marks: bool = False) -> Copies:
        """Copies of a chunk. `texts[j][i]` is text column j of the chunk's row i, and `rows[i]` that
        row's 0-based number in its file: row i must draw from randomness seeded by (seed, rows[i])
        alone, so that the output does not depend on how the file was cut into shards or spread over
        workers, and the preview shows the copies the run writes. `marks`: fill `Copy.marked`."""


class Source:
    """Base class of augmentation sources; subclasses set `name`, `summary` and `Options` and
    implement `open`. Registered with `augment.sources.register`."""

    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for --help
    Options: ClassVar[type]
    # why a row can get fewer than n copies, for the run summary
    fewer_copies: ClassVar[str] = "the source found no more distinct copies"

    def check(self, options) -> None:
        """Raise InputError for settings that cannot work (before anything is loaded or written)."""

    def settle(self, options) -> tuple[object, list[str]]:
        """The options with every default that depends on this machine named (e.g. which vector file),
        and one line per model or file the run will use, for the log."""
        return options, []

    def open(self, options) -> Copier:
        """Load the models the options name; the result serves every chunk of a run."""
        raise NotImplementedError

    def batch_shaped(self, options) -> bool:
        """Whether the copies' bytes depend on how rows are batched (--shard-rows, the source's own batch
        settings) and on the machine's kernels: true of a model computing in reduced precision, where
        near-tied candidates swap places with the batch's shape. Such settings then decide the bytes (the
        fingerprint holds them and the kernels; --resume refuses a change), else they only pace a run."""
        return False

    def fingerprint(self, options) -> dict:
        """Everything that decides the copies, JSON-able: files and models by content digest, not by
        name, and what `auto` settings resolved to here. A resumed run reuses finished shards only
        when this is unchanged. The default (every option, as given) suits sources that read no files."""
        return {**asdict(options), **self.resolved(options)}

    def resolved(self, options) -> dict:
        """What settings left to the machine (`auto`) became here, for the manifest's settings."""
        return {}

    def facts(self, options) -> dict:
        """The models and files the source read, by content, as entries of the manifest."""
        return {}

    def count_lines(self, counts: dict) -> list[str]:
        """The source's own lines of the run summary, from its counts."""
        return []
