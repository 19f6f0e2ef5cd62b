"""`evaluate` a saved model, `export` it to ONNX (int8), `predict` a user's table with it."""

from __future__ import annotations

import json

import click

from data.hardware import PRECISION_HELP, PRECISIONS
from distill import (
    QUANTIZATIONS,
    DataFlags,
    TrainSettings,
    describe_export,
    evaluate_model,
    export_for_task,
    predict_table,
)

from .common import user_errors
from .options import flag_named, out_flag, settings_from, with_flags
from .task_flags import BATCH_SIZE, FRONTIER, MAX_LENGTH, QUIET, data_flags

MODEL_HELP = "A folder made by finetune, distill, static or export."


@click.command("evaluate")
@click.option(
    "--model",
    required=True,
    help="A saved sequence-classification folder (teacher or student), one made by `static`, or one made by `export` "
    "(ONNX Runtime).",
)
@with_flags([*data_flags(augmented=False), BATCH_SIZE, flag_named(TrainSettings, "device"), FRONTIER])
@user_errors
def evaluate_command(model, max_length, batch_size, device, frontier, **opts):
    """Dev metrics (every dev file; MNLI matched and mismatched apart), parameters, disk size and CPU
    latency/throughput of a saved model."""
    task = settings_from(DataFlags, opts).load()
    result = evaluate_model(
        task, model, max_length=max_length, batch_size=batch_size, device=device, with_frontier=frontier
    )
    click.echo(json.dumps(result, indent=2))


@click.command("export")
@click.option("--model", required=True, help="A sequence-classification folder made by finetune, distill or static.")
@with_flags(
    [
        out_flag(
            "The exported folder (model.onnx, tokenizer, config, export.json). Default: beside --model, "
            "MODEL-int8 (or MODEL-onnx with --quantize none).",
            folder=True,
        )
    ]
)
@click.option(
    "--quantize",
    type=click.Choice(QUANTIZATIONS),
    default="int8",
    show_default=True,
    help="int8: ONNX Runtime's dynamic quantization, per channel, after its BERT fusions (smallest and, on most "
    "CPUs, fastest); none: the fused fp32 graph.",
)
@with_flags(data_flags(augmented=False))
@user_errors
def export_command(model, out, quantize, max_length, **opts):
    """Export a classifier to ONNX for ONNX Runtime: fp32 logits are checked against PyTorch on 64 dev
    examples (max difference under 1e-3), and the dev metric of the shipped graph is printed beside
    PyTorch's. The dev set is the task's (--task/--data-dir, or your own --train/--dev)."""
    task = settings_from(DataFlags, opts).load()
    record = export_for_task(model, task, out, quantize=quantize, max_length=max_length)
    click.echo(describe_export(record), err=True)


@click.command("predict")
@click.option("--model", required=True, help=MODEL_HELP)
@click.option(
    "--input", "input_path", required=True, type=click.Path(dir_okay=False), help="Your table: .tsv, .csv or .jsonl."
)
@click.option(
    "--text-col",
    "text_columns",
    multiple=True,
    required=True,
    help="The text column; twice for sentence pairs (as the model was trained).",
)
@with_flags(
    [
        out_flag(
            "Output table, same format as the input. Default: INPUT_pred.EXT beside it (runs/predict/ when read-only).",
            folder=False,
        ),
        MAX_LENGTH,
        BATCH_SIZE,
    ]
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="auto",
    show_default=True,
    help=f"For a PyTorch folder: {PRECISION_HELP}. An exported folder runs on ONNX Runtime as exported.",
)
@with_flags([QUIET])
@user_errors
def predict_command(model, input_path, text_columns, out, max_length, batch_size, precision, quiet):
    """Predict every row of a table: the rows come back unchanged with two columns added, `prediction`
    (the label's name, or the value for regression) and `probability`; streamed in chunks, written in
    one rename at the end."""
    batching = {"batch_size": batch_size, "max_length": max_length}
    summary = predict_table(
        model, input_path, list(text_columns), out, **batching, precision=precision, progress=not quiet
    )
    click.echo(summary.describe(), err=True)
