"""Flags shared by the commands that read a task's data or run a saved model (finetune, distill,
evaluate, export, predict): the data flags come from `distill.DataFlags`; these few are the
commands' own parameters."""

from __future__ import annotations

import click

from distill import EVAL_BATCH_SIZE, DataFlags

from .options import flags_of

MAX_LENGTH = click.Option(
    ["--max-seq-length", "max_length"],
    type=click.IntRange(min=8),
    default=None,
    help="Word pieces per example. Default: 128 for pairs, 64 for single sentences.",
)
BATCH_SIZE = click.Option(
    ["--batch-size", "batch_size"],
    type=click.IntRange(min=1),
    default=EVAL_BATCH_SIZE,
    show_default=True,
    help="Examples per batch.",
)
FRONTIER = click.Option(
    ["--frontier"],
    is_flag=True,
    help="Also measure the model in every runtime and precision: PyTorch fp32 and bf16 (where the CPU has it), "
    "ONNX Runtime fp32 and int8 (dev metrics, CPU latency and throughput, disk): what to ship for this CPU. "
    "A minute or two more.",
)
RESUME = click.Option(["--resume"], is_flag=True, help="Continue the interrupted run in --out from its checkpoint.")
OVERWRITE = click.Option(
    ["--overwrite"],
    is_flag=True,
    help="Replace what --out holds even when it is a finished result (without it, a finished result made with "
    "other settings is refused, and one made with these settings is reported done at once).",
)
QUIET = click.Option(["--quiet"], is_flag=True, help="No progress bar.")


def data_flags(*, augmented: bool) -> list[click.Option]:
    """The flags naming a task's data; `augmented` adds --aug/--aug-file (commands that train)."""
    return [*flags_of(DataFlags, skip=() if augmented else ("aug", "aug_file")), MAX_LENGTH]
