"""TinyBERT data augmentation: masked-LM candidates for one-piece words, GloVe neighbours for the
rest, N copies with each word replaced with probability p; any table, any number of workers."""

from .augmenter import DEFAULT_MLM, SHARED_VECTORS, AugmentConfig, Augmenter, default_vectors
from .dataset import augment_dataset, preview_dataset
from .masked_lm import MaskedLM
from .preview import Preview
from .runner import AugmentSummary, augment_file
from .words import split_words

__all__ = [
    "DEFAULT_MLM",
    "SHARED_VECTORS",
    "default_vectors",
    "AugmentConfig",
    "Augmenter",
    "MaskedLM",
    "AugmentSummary",
    "augment_dataset",
    "preview_dataset",
    "Preview",
    "augment_file",
    "split_words",
]
