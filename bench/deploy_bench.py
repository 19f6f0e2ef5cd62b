"""The speed/quality frontier of shipping: teacher and student in PyTorch fp32, PyTorch bf16 autocast
(where the CPU computes bf16 natively), ONNX fp32 and ONNX int8, on the real MRPC dev set.

    python -m bench.deploy_bench                       # the demo's models (make demo first)
    python -m bench.deploy_bench --teacher T --student S

Every row: dev accuracy and F1, batch-1 latency (ms) and batch-32 throughput (examples/s) as medians of
repeated timings, weights on disk; all rows measured one after the other in one process. Writes
bench/results/deploy.json and deploy.png (dev accuracy against batch-1 latency).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.measure import ROOT
from distill import frontier, glue_task_data, load_tokenizer

RESULTS = ROOT / "bench" / "results"


def cpu_facts() -> dict:
    """The CPU's name and the instruction sets that decide which precision is fast on it."""
    flags, name = set(), "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and name == "unknown":
            name = line.split(":", 1)[1].strip()
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
    return {
        "model": name,
        "avx512_vnni": "avx512_vnni" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "amx": "amx_bf16" in flags or "amx_tile" in flags,
    }


def plot(rows: list[dict], path: Path) -> None:
    """Dev accuracy against batch-1 latency and against batch-32 throughput, one point per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for axis, key, label in (
        (axes[0], "ms_batch1", "CPU latency at batch 1 (ms, median; log scale)"),
        (axes[1], "ex_per_s_batch32", "CPU examples/s at batch 32 (median; log scale)"),
    ):
        for i, row in enumerate(rows):
            axis.scatter(row[key], row["acc"], marker="o" if row["model"] == "student" else "s")
            axis.annotate(
                f"{row['model']} {row['runtime']} {row['precision']}",
                (row[key], row["acc"]),
                xytext=(4, -12 + 8 * (i % 4)),
                textcoords="offset points",
                fontsize=7,
            )
        axis.set(xscale="log", xlabel=label)
    axes[0].set(ylabel="MRPC dev accuracy")
    figure.suptitle("speed/quality frontier: teacher (squares) and student (circles)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default=str(ROOT / "runs" / "demo" / "teacher"))
    parser.add_argument("--student", default=str(ROOT / "runs" / "demo" / "student"))
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    task = glue_task_data("MRPC")
    cpu = cpu_facts()
    rows = []
    for role, folder in (("teacher", args.teacher), ("student", args.student)):
        dev = task.encode(task.dev_paths[0], load_tokenizer(folder), 128)
        for row in frontier(folder, dev, task.spec.metrics, task.scheme, repeats=args.repeats):
            rows.append({"model": role, **row, "acc": row["dev"]["accuracy"], "f1": row["dev"]["f1"]})
            print(json.dumps(rows[-1]), flush=True)
    for row in rows:
        row["cpu"] = cpu
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "deploy.json").write_text(json.dumps(rows, indent=2))
    plot(rows, RESULTS / "deploy.png")
    print("| model | runtime | precision | dev acc | dev F1 | ms (batch 1) | examples/s (batch 32) | disk MB |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['model']} | {r['runtime']} | {r['precision']} | {r['acc']:.4f} | {r['f1']:.4f} | "
            f"{r['ms_batch1']:.2f} | {r['ex_per_s_batch32']:.1f} | {r['disk_mb']:.1f} |"
        )


if __name__ == "__main__":
    main()
