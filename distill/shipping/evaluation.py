"""`evaluate`: a saved model's dev metrics on every dev file, its size, and its CPU speed."""

from __future__ import annotations

import logging
from pathlib import Path

from data import InputError
from data.hardware import resolve_device

from ..examples.predictions import EVAL_BATCH_SIZE, evaluate
from ..examples.task_data import TaskData, max_length_for
from ..models.loading import load_classifier, load_tokenizer
from ..models.onnx_classifier import is_exported
from ..models.shapes import shape_name
from ..models.static import is_static
from .runtimes import frontier
from .speed import cpu_speed, weights_mb

log = logging.getLogger("tinydistill")


def evaluate_model(
    task: TaskData,
    model_path: str | Path,
    *,
    max_length: int | None = None,
    batch_size: int = EVAL_BATCH_SIZE,
    device: str = "auto",
    with_frontier: bool = False,
) -> dict:
    """Dev metrics on every dev file (computed on `device`; auto = CUDA when present), parameters, disk
    size and CPU speed of a saved model: a Hugging Face folder, or one made by `export` (ONNX Runtime).
    `with_frontier` adds the same model in every runtime and precision (see `frontier`)."""
    if with_frontier and (is_exported(model_path) or is_static(model_path)):
        raise InputError(f"{model_path}: --frontier measures a Hugging Face folder (a transformer's runtimes)")
    device = "cpu" if is_exported(model_path) else resolve_device(device)  # ONNX Runtime runs on the CPU
    tokenizer = load_tokenizer(model_path)
    model = load_classifier(model_path, task.scheme)
    length = max_length_for(task, max_length)
    result = {
        "model": str(model_path),
        "positive_label": task.positive_label,
        "shape": shape_name(model.config),
        "parameters": model.num_parameters(),
        "disk_mb": weights_mb(model_path),
    }
    rows, devs = {}, []
    for path in task.dev_paths:
        dev = task.encode(path, tokenizer, length)
        devs.append(dev)
        result[path.stem] = evaluate(model.to(device), dev, task.spec.metrics, batch_size=batch_size, device=device)
        rows[path.stem] = {"scored": len(dev), "skipped_lines": list(dev.skipped_lines)}
        log.info(f"{path}: scored on {len(dev)} of {len(dev) + len(dev.skipped_lines)} rows")
    result["rows"], result["cpu"] = rows, cpu_speed(model, dev)
    if with_frontier:  # on the first dev file, as every report figure (MNLI: matched)
        result["frontier"] = frontier(model_path, devs[0], task.spec.metrics, task.scheme)
    return result
