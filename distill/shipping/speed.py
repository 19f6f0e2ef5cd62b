"""How fast and how big a model is on the CPU: latency and throughput on real examples, and its
weight files' size on disk, measured the same way for every kind of model."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch

from data.paths import WEIGHT_FILES

from ..examples.encoding import LabelledExamples, model_inputs


def cpu_speed(model, dataset: LabelledExamples, *, batch_sizes=(1, 32), repeats: int = 9) -> dict[str, float]:
    """Median latency (ms per batch) and throughput (examples/s) on the CPU for real dev examples, over
    `repeats` timed runs after a warm-up; `spread_batchN` is (slowest - fastest) / median, which is wide
    on a busy machine."""
    model = model.to("cpu").eval()
    result = {}
    for size in batch_sizes:
        batch = dataset.collate([dataset[i] for i in range(min(size, len(dataset)))])
        inputs = model_inputs(batch)
        with torch.inference_mode():
            model(**inputs)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                model(**inputs)
                times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        result[f"latency_ms_batch{size}"] = 1000 * seconds
        result[f"examples_per_s_batch{size}"] = len(inputs["input_ids"]) / seconds
        result[f"spread_batch{size}"] = (max(times) - min(times)) / seconds
    return result


def weights_mb(folder) -> float:
    """The size of a model folder's weight files (safetensors, PyTorch .bin, ONNX; sharded or not)."""
    return sum(f.stat().st_size for pattern in WEIGHT_FILES for f in Path(folder).glob(pattern)) / 2**20
