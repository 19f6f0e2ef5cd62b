"""Shipping a classifier: an ONNX graph in a folder of its own, with the tokenizer and config beside
it, so that it loads with no network and no PyTorch model code.

The graph is exported from eager attention (ONNX Runtime fuses Attention, SkipLayerNorm and
EmbedLayerNorm only in that form), fused by ONNX Runtime's BERT optimizer, and for int8 quantized
dynamically per channel after the fusions. Before the folder is put in place its fp32 logits are
checked against PyTorch's on real examples; for int8 the dev metric is recomputed.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification

from data import InputError
from data.paths import content_digest
from data.stopping import writing

from ..examples.encoding import LabelledExamples
from ..examples.predictions import EVAL_BATCH_SIZE, predict, score
from ..examples.task_data import TaskData, max_length_for
from ..models.loading import classifier_config, load_tokenizer
from ..models.onnx_classifier import ONNX_FILE, OnnxClassifier, is_exported
from ..models.static import StaticClassifier, is_static
from ..runs import files

log = logging.getLogger("tinydistill")

PARITY_TOLERANCE = 1e-3  # max |ONNX fp32 - PyTorch| on logits
QUANTIZATIONS = ("int8", "none")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def default_export_folder(model_dir: str | Path, quantize: str) -> Path:
    """Beside the model: DIR-int8 or DIR-onnx."""
    return Path(f"{Path(model_dir)}-{'int8' if quantize == 'int8' else 'onnx'}")


def export_model(
    model_dir: str | Path,
    dev_set: LabelledExamples,
    metric_names,
    out: str | Path | None = None,
    *,
    quantize: str = "int8",
    parity_examples: int = 64,
) -> dict:
    """Export the sequence classifier in `model_dir` to ONNX in `out` (default beside it), check it on
    `dev_set`, and return what export.json records (fused operators, parity, dev metrics)."""
    if quantize not in QUANTIZATIONS:
        raise InputError(f"--quantize must be int8 or none, got {quantize!r}")
    model_dir = Path(model_dir)
    if is_exported(model_dir):
        raise InputError(f"{model_dir}: already an exported ONNX folder; export the folder it came from")
    out = Path(out or default_export_folder(model_dir, quantize))
    model = _eager_classifier(model_dir)
    tokenizer = load_tokenizer(model_dir)
    sample = dev_set.subset(range(min(parity_examples, len(dev_set))))
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        writing(out, "the exported model"),
        tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as work,
    ):
        work = Path(work)
        fused, operators = _export_fused(model, sample, work)
        parity = _parity(model, fused, sample)
        shipped = fused if quantize == "none" else _quantized(fused, work / "int8.onnx")
        folder = work / "folder"
        folder.mkdir()
        shutil.copy(shipped, folder / ONNX_FILE)
        tokenizer.save_pretrained(folder)
        model.config.save_pretrained(folder)
        record = {
            "source": {"path": str(model_dir), "sha256": content_digest(model_dir)},
            "quantize": quantize,
            "fused_operators": operators,
            "parity": {"examples": len(sample), "max_abs_logit_difference": parity, "tolerance": PARITY_TOLERANCE},
            "dev": _dev_change(model, OnnxClassifier(folder), dev_set, metric_names),
            "onnxruntime": version("onnxruntime"),
        }
        (folder / files.EXPORT_RECORD).write_text(json.dumps(record, indent=2))
        if out.exists():
            shutil.rmtree(out)
        folder.rename(out)
    log.info(f"exported {model_dir} -> {out} ({quantize}); fused operators: {_said(operators)}")
    return {"folder": str(out), **record}


def export_for_task(
    model_dir: str | Path, task: TaskData, out: str | Path | None = None, *, quantize: str = "int8", max_length=None
) -> dict:
    """`export_model` checked on the task's first dev file (its parity sample and dev metrics)."""
    dev = task.encode(task.dev_paths[0], load_tokenizer(model_dir), max_length_for(task, max_length))
    return export_model(model_dir, dev, task.spec.metrics, out, quantize=quantize)


def describe_export(record: dict) -> str:
    """What an export did, in the lines `export` prints: where, parity, the dev change, how to run it."""
    change = ", ".join(
        f"{name} {record['dev']['pytorch'][name]:.4f} -> {value:.4f}" for name, value in record["dev"]["onnx"].items()
    )
    parity = record["parity"]
    return (
        f"exported to {record['folder']} ({record['quantize']}); parity with PyTorch: max logit difference "
        f"{parity['max_abs_logit_difference']:.1e} on {parity['examples']} examples; dev {change}\n"
        f"run it: python cli.py predict --model {record['folder']} --input FILE --text-col COLUMN"
    )


def _eager_classifier(model_dir: Path):
    """The model with eager attention, the form ONNX Runtime's BERT fusions recognise (a static model has
    no attention: it is exported as it is)."""
    classifier_config(model_dir, "--model", "Export a folder made by finetune, distill or static")
    if is_static(model_dir):
        return StaticClassifier.load(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, local_files_only=True, attn_implementation="eager"
    )
    return model.eval()


def int8_graph(model, sample: LabelledExamples, work: Path) -> Path:
    """The model (eager attention) as the fused, int8-quantized ONNX graph `export` ships, in `work`; no
    parity check (for timing a shape, as `--speedup` does, random weights will do)."""
    fused, _ = _export_fused(model, sample, work)
    return _quantized(fused, work / "int8.onnx")


def _export_fused(model, sample: LabelledExamples, work: Path) -> tuple[Path, dict]:
    """Export with dynamic batch and sequence axes, then fuse with ONNX Runtime's BERT optimizer (a static
    model has nothing to fuse)."""
    from onnxruntime.transformers import optimizer

    batch = sample.collate([sample[i] for i in range(min(2, len(sample)))])
    names = [name for name in _INPUTS if name in batch]
    axes = {name: {0: "batch", 1: "sequence"} for name in names} | {"logits": {0: "batch"}}
    plain = work / "fp32.onnx"
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing: parity below checks the result
        torch.onnx.export(
            model,
            tuple(batch[name] for name in names),
            str(plain),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    if isinstance(model, StaticClassifier):
        return plain, {}
    config = model.config
    optimized = optimizer.optimize_model(
        str(plain), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    )
    fused = work / "fused.onnx"
    optimized.save_model_to_file(str(fused))
    operators = {name: count for name, count in optimized.get_fused_operator_statistics().items() if count}
    return fused, operators


def _parity(model, graph: Path, sample: LabelledExamples) -> float:
    """Max |ONNX - PyTorch| over the sample's logits; refused above the tolerance."""
    reference = predict(model, sample, batch_size=16)
    exported = predict(OnnxClassifier.from_graph(graph), sample, batch_size=16)
    difference = float(np.abs(reference - exported).max())
    if difference > PARITY_TOLERANCE:
        raise InputError(
            f"the exported graph's logits differ from PyTorch's by up to {difference:.2e} on {len(sample)} "
            f"examples (tolerance {PARITY_TOLERANCE:g}); nothing was written. Please report this model's config"
        )
    return difference


def _quantized(fused: Path, target: Path) -> Path:
    """Dynamic int8 quantization of the fused graph's weights, per output channel."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # It advises shape pre-processing on the root logger at every call; DefaultTensorType below stands
    # in for that, so the advice is held back rather than printed to every user of `export`.
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(fused),
            str(target),
            per_channel=True,
            weight_type=QuantType.QInt8,
            # the fused operators live in ONNX Runtime's own domain, where shape inference finds no types
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    return target


def _dev_change(model, shipped: OnnxClassifier, dev_set: LabelledExamples, metric_names) -> dict:
    """The dev metrics of PyTorch and of the shipped graph, side by side, in `evaluate`'s batches (int8
    activations are quantized per batch, so its figures depend a little on how rows are batched)."""
    labels = dev_set.labels.numpy()
    pytorch = score(predict(model, dev_set, batch_size=EVAL_BATCH_SIZE), labels, metric_names)
    onnx = score(predict(shipped, dev_set, batch_size=EVAL_BATCH_SIZE), labels, metric_names)
    return {"pytorch": pytorch, "onnx": onnx, "change": {name: onnx[name] - pytorch[name] for name in metric_names}}


def _said(operators: dict) -> str:
    return ", ".join(f"{name} {count}" for name, count in operators.items()) or "none"
