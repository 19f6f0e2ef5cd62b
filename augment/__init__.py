"""Data augmentation: every example of a table kept and followed by up to N copies, made by a source
(`augment.sources`): by default the TinyBERT rule, masked-LM candidates for one-piece words, GloVe
neighbours for the rest, each word replaced with probability p. Any table, any number of workers."""

from . import sources
from .augmenter import Augmenter
from .config import AugmentConfig
from .dataset import augment_dataset, preview_dataset
from .masked_lm import MaskedLM
from .preview import Preview
from .runner import RunSettings, augment_file
from .sources.word_substitution import DEFAULT_MLM, SHARED_VECTORS, default_vectors
from .summary import AugmentSummary
from .words import split_words

__all__ = [
    "sources",
    "DEFAULT_MLM",
    "SHARED_VECTORS",
    "default_vectors",
    "AugmentConfig",
    "Augmenter",
    "MaskedLM",
    "AugmentSummary",
    "RunSettings",
    "augment_dataset",
    "preview_dataset",
    "Preview",
    "augment_file",
    "split_words",
]
