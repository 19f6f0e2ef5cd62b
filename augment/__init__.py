"""TinyBERT data augmentation: masked-LM candidates for one-piece words, GloVe neighbours for the
rest, N copies with each word replaced with probability p; any table, any number of workers."""

from .augmenter import DEFAULT_MLM, DEFAULT_VECTORS, AugmentConfig, Augmenter
from .dataset import augment_dataset
from .masked_lm import MaskedLM
from .runner import AugmentSummary, augment_file

__all__ = [
    "DEFAULT_MLM",
    "DEFAULT_VECTORS",
    "AugmentConfig",
    "Augmenter",
    "MaskedLM",
    "AugmentSummary",
    "augment_dataset",
    "augment_file",
]
