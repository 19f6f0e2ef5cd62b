"""Augmentation throughput: tinydistill's batched augmenter vs the published one-forward-per-word loop.

Both run the same TinyBERT rule on the same real MRPC sentences with the same BERT-base-sized
masked-LM (12 layers, hidden 768, real uncased vocabulary, random weights: speed does not depend on
the weights) and the same generated 100,000-word x 300-d vector file. Each measurement runs in its
own process, so peak memory (RSS of the process and its workers, sampled) is its own.

    python -m bench.augment_bench                 # about 8 minutes on 2 cores (first run: +3 to build files)
    python -m bench.augment_bench --examples 6    # a quick look
    python -m bench.augment_bench --only long-budget long-unbounded rte-budget rte-unbounded

The long-text modes (one 5,000-word text; 24 RTE-like pairs) run at augment's defaults instead, with
and without the masked-LM token budget: they measure what a user's long texts cost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import ROOT, PeakMemory, in_child

WORK = ROOT / "bench" / "_work"
MODEL = WORK / "bert-base-random-mlm"
VECTORS = WORK / "vectors-100k-300d.txt"


def prepare() -> None:
    """Build the BERT-base-sized masked-LM and the 100k x 300 vector file once."""
    import numpy as np
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    from augment import DEFAULT_MLM, SHARED_VECTORS

    WORK.mkdir(parents=True, exist_ok=True)
    if not (MODEL / "config.json").is_file():
        torch.manual_seed(0)
        tokenizer = AutoTokenizer.from_pretrained(DEFAULT_MLM)
        BertForMaskedLM(BertConfig(vocab_size=tokenizer.vocab_size)).save_pretrained(MODEL)
        tokenizer.save_pretrained(MODEL)
    if not VECTORS.is_file():
        real = [line.split(" ", 1)[0] for line in open(SHARED_VECTORS, encoding="utf-8")]
        rng = np.random.default_rng(0)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        made = {"".join(rng.choice(letters, 9)) for _ in range(90_000)} - set(real)
        words = real + sorted(made)[: 100_000 - len(real)]
        values = rng.standard_normal((len(words), 300)).astype(np.float32)
        with open(VECTORS, "w", encoding="utf-8") as out:
            for word, row in zip(words, values):
                out.write(word + " " + " ".join(f"{v:.5f}" for v in row) + "\n")


def sample_input(examples: int) -> Path:
    """The first `examples` rows of the real MRPC train.tsv (two sentences each)."""
    from data import SHARED_DIR

    lines = (SHARED_DIR / "data" / "glue" / "MRPC" / "train.tsv").read_text(encoding="utf-8-sig").splitlines()
    path = WORK / f"mrpc{examples}.tsv"
    path.write_text("\n".join(lines[: examples + 1]) + "\n", encoding="utf-8")
    return path


def _config(n: int, k: int, p: float, **more):
    from augment import AugmentConfig

    return AugmentConfig.of(n=n, k=k, p=p, mlm=str(MODEL), glove=str(VECTORS), dtype="fp32", device="cpu", **more)


def long_input(kind: str, words: int) -> tuple[Path, list[str]]:
    """Real MRPC sentences joined into long texts: one text of `words` words ("long"), or 24 RTE-like
    pairs, a premise of five sentences and a one-sentence hypothesis ("rte")."""
    from data import SHARED_DIR, read_table

    sentences = read_table(SHARED_DIR / "data" / "glue" / "MRPC" / "train.tsv")["#1 String"].tolist()
    if kind == "long":
        text, i = [], 0
        while len(text) < words:
            text += sentences[i].split()
            i += 1
        path = WORK / f"long{words}.tsv"
        path.write_text("text\n" + " ".join(text[:words]) + "\n", encoding="utf-8")
        return path, ["text"]
    path = WORK / "rte-like.tsv"
    rows = [" ".join(sentences[6 * i : 6 * i + 5]) + "\t" + sentences[6 * i + 5] for i in range(24)]
    path.write_text("premise\thypothesis\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path, ["premise", "hypothesis"]


def run_long(kind: str, words: int, n: int, k: int, p: float, budget: int) -> tuple[float, int]:
    """augment_file on long texts at augment's defaults (the demo masked-LM, the default vectors, `auto`
    precision) but for the masked-LM token budget per call; seconds and sentences."""
    from augment import AugmentConfig, augment_file

    path, columns = long_input(kind, words)
    config = AugmentConfig.of(n=n, k=k, p=p, max_batch_tokens=budget)
    started = time.perf_counter()
    augment_file(path, WORK / f"out-{kind}.tsv", columns, config, progress=False)
    return time.perf_counter() - started, (1 if kind == "long" else 48)


def run_ours(path: Path, n: int, k: int, p: float) -> float:
    """The augmenter on every row, models already loaded (loading excluded, as for the baseline)."""
    from augment import Augmenter
    from data import read_table

    augmenter = Augmenter(_config(n, k, p))
    frame = read_table(path)
    started = time.perf_counter()
    augmenter.augment_frame(frame, ["#1 String", "#2 String"])
    return time.perf_counter() - started


def run_file(path: Path, n: int, k: int, p: float, jobs: int) -> float:
    """`augment_file` end to end: reading, model loading in every worker, writing."""
    from augment import augment_file

    rows = sum(1 for _ in open(path)) - 1
    started = time.perf_counter()
    augment_file(
        path,
        WORK / f"out-{jobs}.tsv",
        ["#1 String", "#2 String"],
        _config(n, k, p),
        jobs=jobs,
        shard_rows=max(1, rows // (4 * jobs)),
        progress=False,
    )
    return time.perf_counter() - started


def run_plain(path: Path, n: int, k: int, p: float) -> float:
    """The published algorithm's cost: one batch-1 forward with logits at every position per word,
    a full argsort of the vocabulary; for split words a float64 dot over all vectors and a full sort."""
    import numpy as np
    import torch
    from gensim.models import KeyedVectors
    from transformers import AutoTokenizer, BertForMaskedLM

    from augment import split_words
    from data import read_table

    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model = BertForMaskedLM.from_pretrained(MODEL).eval()
    vectors = KeyedVectors.load_word2vec_format(str(VECTORS), binary=False, no_header=True)
    matrix = vectors.vectors.astype(np.float64)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    frame = read_table(path)
    texts = frame["#1 String"].tolist() + frame["#2 String"].tolist()
    rng = random.Random(0)
    started = time.perf_counter()  # loading is excluded here but included for ours: favours the baseline
    for text in texts:
        words = split_words(text)
        tokens, candidates = words.tokens, {}
        for i, word in enumerate(tokens):
            if not words.replaceable()[i]:
                continue
            pieces = tokenizer.tokenize(word)
            if len(pieces) == 1:
                masked = tokens[:i] + [tokenizer.mask_token] + tokens[i + 1 :]
                inputs = tokenizer(" ".join(masked), " ".join(tokens), return_tensors="pt")
                at = inputs["input_ids"][0].tolist().index(tokenizer.mask_token_id)
                with torch.no_grad():
                    logits = model(**inputs).logits
                best = torch.argsort(logits[0, at], descending=True)[:k].tolist()
                candidates[i] = [w for w in tokenizer.convert_ids_to_tokens(best) if not w.startswith("##")]
            elif word.lower() in vectors.key_to_index:
                row = vectors.key_to_index[word.lower()]
                scores = matrix @ matrix[row]
                scores[row] = -np.inf
                candidates[i] = [vectors.index_to_key[j] for j in np.argsort(-scores)[:k]]
        for _ in range(n):
            copy = list(tokens)
            for i, options in candidates.items():
                choice = rng.choice(options) if options else tokens[i]
                if rng.random() < p:
                    copy[i] = choice
            " ".join(copy)
    return time.perf_counter() - started


MODES = {
    "plain": "published loop: batch-1 forward per word, full logits, full sorts (models loaded)",
    "batched": "tinydistill Augmenter.augment_frame, 1 process (models loaded)",
    "file-jobs1": "tinydistill augment_file, 1 worker, end to end incl. model loading",
    "file-jobs2": "tinydistill augment_file, 2 workers x 1 thread, end to end incl. model loading",
    "long-budget": "one long text (--long-words), augment's defaults (demo masked-LM, --max-batch-tokens 8192)",
    "long-unbounded": "the same text, no token budget (64 windows per call)",
    "rte-budget": "24 RTE-like pairs (5-sentence premises), augment's defaults (pair context, 8192 tokens per call)",
    "rte-unbounded": "the same pairs, no token budget (64 rows per call)",
}


def measure(mode: str, examples: int, n: int, k: int, p: float, words: int = 5000) -> dict:
    """Run one mode in this process (called in a child process by main)."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    path = sample_input(examples)
    memory = PeakMemory()
    sentences = 2 * examples
    if mode.startswith(("long", "rte")):
        kind, bound = mode.split("-")
        seconds, sentences = run_long(kind, words, n, k, p, 8192 if bound == "budget" else 10**9)
    elif mode == "plain":
        seconds = run_plain(path, n, k, p)
    elif mode == "batched":
        seconds = run_ours(path, n, k, p)
    else:
        seconds = run_file(path, n, k, p, jobs=int(mode[-1]))
    return {"mode": mode, "seconds": seconds, "sentences": sentences, "peak_rss_mb": memory.stop() / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=24, help="MRPC examples (2 sentences each)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each mode; medians are reported")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--k", type=int, default=15)
    parser.add_argument("--p", type=float, default=0.4)
    parser.add_argument("--long-words", type=int, default=5000, help="words of the long-text case")
    parser.add_argument("--only", nargs="*", choices=list(MODES), help="run these modes only")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.examples, args.n, args.k, args.p, args.long_words)))
        return
    prepare()
    subprocess.run(
        [sys.executable, "-c", f"from glove import load_vectors; import sys; load_vectors({str(VECTORS)!r})"],
        check=True,
        cwd=ROOT,
    )  # warm the vector cache
    results: dict[str, list[dict]] = {}
    for _ in range(args.repeats):
        for mode in args.only or MODES:  # interleaved, so drift hits all modes alike
            results.setdefault(mode, []).append(
                in_child(
                    "bench.augment_bench",
                    "--worker",
                    mode,
                    "--examples",
                    str(args.examples),
                    "--n",
                    str(args.n),
                    "--k",
                    str(args.k),
                    "--p",
                    str(args.p),
                    "--long-words",
                    str(args.long_words),
                )
            )
    base = statistics.median(r["sentences"] / r["seconds"] for r in results["plain"]) if "plain" in results else None
    print(
        f"{args.examples * 2} MRPC sentences, N={args.n}, K={args.k}, p={args.p}, fp32 (long-text modes: augment's "
        f"defaults, --dtype auto), {os.cpu_count()} cores, median of {args.repeats}"
    )
    print("| mode | sentences/s (seconds) | peak RSS MB | vs plain | what |\n|---|---:|---:|---:|---|")
    for mode, runs in results.items():
        rate = statistics.median(r["sentences"] / r["seconds"] for r in runs)
        rss = statistics.median(r["peak_rss_mb"] for r in runs)
        versus = f"{rate / base:.2f}x" if base else "-"
        seconds = statistics.median(r["seconds"] for r in runs)
        print(f"| {mode} | {rate:.2f} ({seconds:.0f} s) | {rss:.0f} | {versus} | {MODES[mode]} |")


if __name__ == "__main__":
    main()
