"""Dev-set predictions and the task's metrics; CPU latency and throughput of a model."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from data import compute_metrics
from data.hardware import autocast_for
from data.paths import WEIGHT_FILES

from .features import LabelledExamples, model_inputs

TEACHER_BATCH_SIZE = 128  # rows per batch when the teacher scores the training rows before training
EVAL_BATCH_SIZE = 32  # the batches dev figures are computed in (int8 graphs quantize activations per batch)


def predict(
    model,
    dataset: LabelledExamples,
    *,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
    progress: str | None = None,
    by_length: bool = False,
) -> np.ndarray:
    """Logits for every example, in order, with the model in eval mode; `progress` names a progress bar.
    `by_length`: batches of similar length (less padding where most rows are short), put back in order."""
    if by_length:
        order = np.argsort(dataset.lengths(), kind="stable")
        sorted_logits = predict(model, dataset.subset(order), batch_size=batch_size, device=device, progress=progress)
        logits = np.empty_like(sorted_logits)
        logits[order] = sorted_logits
        return logits
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=dataset.collate)
    outputs = []
    with torch.inference_mode():
        for batch in tqdm(loader, desc=progress, unit="batch", disable=progress is None):
            inputs = {k: v.to(device) for k, v in model_inputs(batch).items()}
            outputs.append(model(**inputs).logits.float().cpu())
    return torch.cat(outputs).numpy()


def teacher_logits(teacher, dataset: LabelledExamples, *, device, precision: str, progress: str | None) -> np.ndarray:
    """The teacher's logits for every row before training (its filter, its class shares), in the run's
    precision, in batches of similar length, put back in row order."""
    with autocast_for(device, precision):
        return predict(
            teacher.to(device), dataset, batch_size=TEACHER_BATCH_SIZE, device=device, progress=progress, by_length=True
        )


def score(logits: np.ndarray, labels: np.ndarray, metric_names) -> dict[str, float]:
    """The task's metrics from logits: argmax for classes, the value itself for regression."""
    predictions = logits[:, 0] if logits.shape[1] == 1 else logits.argmax(axis=1)
    return compute_metrics(metric_names, predictions, labels)


def evaluate(model, dataset: LabelledExamples, metric_names, *, batch_size: int = 64, device="cpu") -> dict[str, float]:
    return score(predict(model, dataset, batch_size=batch_size, device=device), dataset.labels.numpy(), metric_names)


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
