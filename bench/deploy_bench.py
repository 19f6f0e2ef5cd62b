"""The speed/quality frontier of shipping: teacher and student in PyTorch fp32, PyTorch bf16 autocast
(where the CPU computes bf16 natively), ONNX fp32 and ONNX int8, on the real MRPC dev set.

    python bench/deploy_bench.py                       # the demo's models (make demo first)
    python bench/deploy_bench.py --teacher T --student S

Every row: dev accuracy and F1, batch-1 latency (ms) and batch-32 throughput (examples/s) as medians of
repeated timings, weights on disk; all rows measured one after the other in one process. Writes
bench/results/deploy.json and deploy.png (dev accuracy against batch-1 latency).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from data.hardware import cpu_has_native_bf16  # noqa: E402
from distill import (  # noqa: E402
    cpu_speed,
    export_model,
    glue_task_data,
    load_classifier,
    load_tokenizer,
    predict,
    score,
    weights_mb,
)

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


def measure(role: str, folder: Path, runtime: str, precision: str, task, repeats: int) -> dict:
    model = load_classifier(folder, task.scheme)
    dev = task.encode(task.dev_paths[0], load_tokenizer(folder), 128)
    reduced = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else nullcontext()
    with reduced:
        metrics = score(predict(model, dev, batch_size=32), dev.labels.numpy(), task.spec.metrics)
        speed = cpu_speed(model, dev, repeats=repeats)
    return {
        "model": role,
        "runtime": runtime,
        "precision": precision,
        "acc": metrics["accuracy"],
        "f1": metrics["f1"],
        "ms_batch1": speed["latency_ms_batch1"],
        "ex_per_s_batch32": speed["examples_per_s_batch32"],
        "disk_mb": weights_mb(folder),
    }


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for row in rows:
        marker = "o" if row["model"] == "student" else "s"
        axis.scatter(row["ms_batch1"], row["acc"], marker=marker)
        axis.annotate(f"{row['model']} {row['runtime']} {row['precision']}", (row["ms_batch1"], row["acc"]), fontsize=7)
    axis.set(xlabel="CPU latency at batch 1 (ms, median)", ylabel="MRPC dev accuracy", title="speed/quality frontier")
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
    precisions = ["fp32", "bf16"] if cpu_has_native_bf16() else ["fp32"]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for role, folder in (("teacher", Path(args.teacher)), ("student", Path(args.student))):
            dev = task.encode(task.dev_paths[0], load_tokenizer(folder), 128)
            for precision in precisions:
                rows.append(measure(role, folder, "pytorch", precision, task, args.repeats))
            for quantize, precision in (("none", "fp32"), ("int8", "int8")):
                shipped = Path(work) / f"{role}-{quantize}"
                export_model(folder, dev, task.spec.metrics, shipped, quantize=quantize)
                rows.append(measure(role, shipped, "onnx", precision, task, args.repeats))
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
