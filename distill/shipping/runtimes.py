"""The speed/quality frontier of one classifier: the same model in PyTorch fp32, PyTorch bf16 autocast
(where the CPU computes bf16 natively) and ONNX Runtime fp32 and int8, each with its dev metrics, CPU
latency and throughput, and size on disk, so that users pick what to ship for their CPU."""

from __future__ import annotations

import tempfile
from pathlib import Path

from data.hardware import autocast_for, cpu_has_native_bf16

from ..examples.encoding import LabelledExamples, LabelScheme
from ..examples.predictions import EVAL_BATCH_SIZE, predict, score
from ..models.loading import load_classifier
from .export import export_model
from .speed import cpu_speed, weights_mb


def frontier(
    model_dir: str | Path, dev_set: LabelledExamples, metric_names, scheme: LabelScheme, *, repeats: int = 9
) -> list[dict]:
    """One row per runtime and precision of the Hugging Face classifier in `model_dir`, measured one after
    the other here (the ONNX folders are exported into a temporary folder and discarded; their dev
    figures are the ones `export` computed while checking them)."""
    precisions = ("fp32", "bf16") if cpu_has_native_bf16() else ("fp32",)
    rows, model = [], load_classifier(model_dir, scheme)
    for precision in precisions:
        with autocast_for("cpu", precision):
            dev = score(predict(model, dev_set, batch_size=EVAL_BATCH_SIZE), dev_set.labels.numpy(), metric_names)
        rows.append(_row(model_dir, model, "pytorch", precision, dev, dev_set, repeats))
    with tempfile.TemporaryDirectory() as work:
        for quantize, precision in (("none", "fp32"), ("int8", "int8")):
            shipped = Path(work) / quantize
            record = export_model(model_dir, dev_set, metric_names, shipped, quantize=quantize)
            model = load_classifier(shipped, scheme)
            rows.append(_row(shipped, model, "onnx", precision, record["dev"]["onnx"], dev_set, repeats))
    return rows


def _row(folder, model, runtime: str, precision: str, dev: dict, dev_set, repeats: int) -> dict:
    """The row of one runtime and precision: its dev figures and its CPU speed, timed here."""
    with autocast_for("cpu", precision if runtime == "pytorch" else None):  # ONNX Runtime's precision is its graph's
        speed = cpu_speed(model, dev_set, repeats=repeats)
    return {
        "runtime": runtime,
        "precision": precision,
        "dev": dev,
        "ms_batch1": speed["latency_ms_batch1"],
        "ex_per_s_batch32": speed["examples_per_s_batch32"],
        "disk_mb": weights_mb(folder),
    }
