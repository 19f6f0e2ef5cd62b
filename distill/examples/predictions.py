"""A model's predictions over examples (dev scoring, the teacher's passes before training) and the
task's metrics from them."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from data import compute_metrics
from data.hardware import autocast_for

from .encoding import LabelledExamples, model_inputs

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
