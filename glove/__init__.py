"""Word vectors: loading any GloVe/word2vec/gensim file once, and batched nearest-neighbour search.
It stands on `data` alone (errors, cache folder)."""

from .loading import VectorFileError, cache_path, load_vectors, packaged_glove
from .neighbours import NeighbourIndex

__all__ = ["VectorFileError", "cache_path", "load_vectors", "packaged_glove", "NeighbourIndex"]
