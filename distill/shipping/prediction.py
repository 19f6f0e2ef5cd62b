"""`predict`: a saved classifier over a user's table. The table is streamed in chunks (memory stays
flat on any size), each row is written back unchanged with the predicted label and its probability
(the predicted value, for regression), and the output appears in one rename at the end."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from data import InputError, check_columns, format_for
from data.hardware import autocast_for, resolve_precision
from data.outputs import OutputLock
from data.paths import sibling_output
from data.stopping import writing
from data.tables import check_texts_present, header_line, read_chunks, scan_table, write_rows

from ..examples.encoding import default_max_length
from ..models.loading import MADE_BY, classifier_config, load_tokenizer, open_classifier
from ..models.onnx_classifier import is_exported

log = logging.getLogger("tinydistill")

PREDICTED = ("prediction", "probability")  # the columns added to every row


@dataclass
class PredictSummary:
    output: Path
    rows: int
    seconds: float
    runtime: str  # "onnxruntime" or "pytorch <precision>"

    def describe(self) -> str:
        return f"wrote {self.rows} rows to {self.output} in {self.seconds:.1f}s ({self.runtime})"


def predict_table(
    model_dir: str | Path,
    input_path: str | Path,
    text_columns: list[str],
    out: str | Path | None = None,
    *,
    batch_size: int = 32,
    max_length: int | None = None,
    precision: str = "auto",
    chunk_rows: int = 4096,
    progress: bool = True,
) -> PredictSummary:
    """Write `out` (default INPUT_pred.EXT beside the input): the input's rows and columns, plus the
    predicted label (by name, from the model's config) and its probability. An exported folder runs on
    ONNX Runtime; a Hugging Face folder on PyTorch with `precision` (auto: bf16 where native)."""
    started = time.perf_counter()
    source = Path(input_path)
    if not source.is_file():
        raise InputError(f"{source}: no such file; give the table to predict with --input")
    target = Path(out) if out else sibling_output(source, "pred", "predict")
    target.parent.mkdir(parents=True, exist_ok=True)
    with OutputLock(target, "predict"):
        model, config, precision = _load(model_dir, precision)
        _check_texts_fit(Path(model_dir), config, text_columns)
        tokenizer = load_tokenizer(model_dir)
        length = max_length or default_max_length(pair=len(text_columns) == 2)
        fmt = format_for(source)
        scan = scan_table(source, fmt)
        temporary = target.with_name(f".{target.name}.tmp")
        rows = 0
        try:
            with (
                writing(target, "the predictions"),
                open(temporary, "w", encoding="utf-8", newline="") as handle,
                tqdm(total=scan.rows, unit="row", desc=f"predict {source.name}", disable=not progress) as bar,
            ):
                for chunk, _ in read_chunks(source, fmt, scan, chunk_rows):
                    if rows == 0:
                        _check_columns(source, chunk, text_columns)
                        handle.write(("\ufeff" if scan.bom else "") + header_line([*chunk.columns, *PREDICTED], fmt))
                    check_texts_present(source, chunk, text_columns, rows)
                    texts = [chunk[c].fillna("").astype(str).tolist() for c in text_columns]
                    predicted, probability = _predict(model, tokenizer, texts, config, length, batch_size, precision)
                    write_rows(chunk.assign(prediction=predicted, probability=probability), handle, fmt, header=False)
                    rows += len(chunk)
                    bar.update(len(chunk))
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    if scan.ragged_lines:
        log.warning(f"{source}: skipped {len(scan.ragged_lines)} ragged rows: lines {scan.ragged_lines[:20]}")
    runtime = f"pytorch {precision}" if precision else "onnxruntime"
    return PredictSummary(target, rows, time.perf_counter() - started, runtime)


def _load(path, precision: str):
    """(model, config, PyTorch precision): ONNX Runtime for an exported folder (precision None, the graph
    has its own), else PyTorch on the CPU in `precision` resolved."""
    folder, config = classifier_config(path, fix=MADE_BY)
    model = open_classifier(folder, config)
    return model, config, None if is_exported(folder) else resolve_precision(precision, torch.device("cpu"))


def _check_texts_fit(folder: Path, config, text_columns: list[str]) -> None:
    """A model trained on sentence pairs needs two text columns, one trained on single texts one."""
    if not 1 <= len(text_columns) <= 2:
        raise InputError("give one --text-col (single texts) or two (sentence pairs)")
    expected = getattr(config, "tinydistill_texts", None)
    if expected and expected != len(text_columns):
        kind = {1: "single texts", 2: "sentence pairs"}
        raise InputError(
            f"{folder} was trained on {kind[expected]}, and {len(text_columns)} --text-col "
            f"{'was' if len(text_columns) == 1 else 'were'} given; give {expected}"
        )


def _check_columns(source: Path, chunk, text_columns: list[str]) -> None:
    check_columns(source, list(chunk.columns), list(text_columns), "--text-col")
    taken = [name for name in PREDICTED if name in chunk.columns]
    if taken:
        raise InputError(f"{source}: already has a {taken[0]!r} column; rename it, predict adds its own")


def _predict(model, tokenizer, texts, config, length: int, batch_size: int, precision: str | None):
    """Label names and probabilities (regression: the value and None) for one chunk's texts."""
    autocast = autocast_for("cpu", precision)
    logits = []
    for start in range(0, len(texts[0]), batch_size):
        batch = tokenizer(
            *[column[start : start + batch_size] for column in texts],
            truncation=True,
            max_length=length,
            padding=True,
            return_tensors="pt",
        )
        inputs = {k: v for k, v in batch.items() if k in tokenizer.model_input_names}
        with torch.inference_mode(), autocast:
            logits.append(model(**inputs).logits.float())
    scores = torch.cat(logits)
    if config.num_labels == 1:
        return scores[:, 0].tolist(), [None] * len(scores)
    probabilities = scores.softmax(dim=-1)
    best = probabilities.argmax(dim=-1)
    names = [config.id2label.get(int(i), str(int(i))) for i in best]
    return names, probabilities.max(dim=-1).values.tolist()
