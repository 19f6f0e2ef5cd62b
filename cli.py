"""tinydistill command line: a thin layer over the library (`augment.augment_file`, ...).

Each command parses and checks its flags, calls one library function, and turns known input
errors into one clear message with exit status 2.
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download at run time

import click  # noqa: E402

from augment import DEFAULT_MLM, DEFAULT_VECTORS, AugmentConfig, augment_file  # noqa: E402
from data import InputError, augmented_train_path, find_task_dir, format_for, get_task  # noqa: E402
from glove import VectorFileError  # noqa: E402


def user_errors(command):
    """Known bad input -> 'error: ...' on stderr and exit 2, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (InputError, VectorFileError) as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)
    return wrapper


@click.group()
def main():
    """tinydistill: small, fast BERT models for text classification, offline."""


@main.command()
@click.option("--task", default=None, help="GLUE task (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, "
              "WNLI). Default: MRPC, unless --input is given.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="GLUE folder holding TASK/train.tsv (or the task folder itself). "
                   "Default: $GLUE_DIR, else ../shared/data/glue.")
@click.option("--input", "input_path", type=click.Path(dir_okay=False), default=None,
              help="Your own table instead of a GLUE task: .tsv (no quoting, as GLUE), .csv or .jsonl.")
@click.option("--text-col", multiple=True, help="With --input: a text column to augment; repeat it for "
              "sentence pairs (--text-col question --text-col answer).")
@click.option("--label-col", default=None, help="With --input: the label column (checked, copied unchanged).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Output file. Default: train_aug.tsv beside a GLUE train.tsv (runs/glue/TASK/ when that "
              "folder is read-only), else INPUT_aug.EXT beside --input.")
@click.option("--n", default=20, show_default=True, type=click.IntRange(min=1),
              help="Augmented copies drawn per example (duplicates dropped).")
@click.option("--p", default=0.4, show_default=True, type=click.FloatRange(0, 1),
              help="Chance that each candidate word is replaced in a copy.")
@click.option("--k", default=15, show_default=True, type=click.IntRange(min=1),
              help="Candidates per word (masked-LM top-K or K nearest GloVe neighbours).")
@click.option("--mlm", default=None, help="Local Hugging Face masked-LM folder, or 'none' for GloVe "
              f"candidates for every word. Default: {DEFAULT_MLM}")
@click.option("--glove", default=None, type=click.Path(dir_okay=False), help="Word vectors: GloVe text, "
              f"word2vec text/binary, or gensim .kv. Default: {DEFAULT_VECTORS}")
@click.option("--context", default="pair", show_default=True, type=click.Choice(["pair", "single"]),
              help="Masked-LM input: 'pair' = masked sentence + original sentence (TinyBERT), "
                   "'single' = masked sentence alone (about 2x faster).")
@click.option("--dtype", default="auto", show_default=True, type=click.Choice(["auto", "fp32", "bf16", "fp16"]),
              help="Masked-LM precision; auto = bf16 where the CPU/GPU computes it natively, else fp32.")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA if present), cpu, cuda, cuda:1...")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1),
              help="Masked sentences per model call.")
@click.option("--max-seq-length", default=None, type=click.IntRange(min=8),
              help="Cap on the masked-LM input length; longer texts are cut to a window around the "
                   "masked word. Default: the model's maximum.")
@click.option("--jobs", default=1, show_default=True, type=int,
              help="Parallel worker processes (-1 = one per core); each uses cores/jobs threads. "
                   "Output is identical for any value.")
@click.option("--seed", default=42, show_default=True, type=int, help="Random seed; same seed, same bytes.")
@click.option("--shard-rows", default=128, show_default=True, type=click.IntRange(min=1),
              help="Input rows per shard (unit of work, of progress and of --resume).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run with the same settings, "
              "reusing its finished shards.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def augment(task, data_dir, input_path, text_col, label_col, out, n, p, k, mlm, glove, context, dtype,
            device, batch_size, max_seq_length, jobs, seed, shard_rows, resume, quiet):
    """TinyBERT data augmentation: write train_aug.tsv (or your table + _aug).

    Every example is kept and followed by up to N distinct copies. In each copy, every replaceable
    word (alphabetic, not a stop word) is replaced with probability p by a random candidate: masked-LM
    predictions for words that are one word piece, GloVe neighbours for words of several pieces.
    For sentence pairs, copy j of an example pairs text A's draw j with text B's draw j.
    """
    if input_path and task:
        raise InputError("give either --task (a GLUE task) or --input (your own file), not both")
    if input_path:
        if not text_col:
            raise InputError(f"{input_path}: say which column holds the text with --text-col COLUMN")
        source = Path(input_path)
        fmt, columns, label = format_for(source), list(text_col), label_col
        target = Path(out) if out else source.with_name(f"{source.stem}_aug{source.suffix}")
    else:
        spec = get_task(task or "MRPC")
        source = find_task_dir(spec, data_dir) / spec.train_file
        fmt, columns, label = format_for(source, spec.column_names), list(spec.text_columns), spec.label_column
        target = Path(out) if out else augmented_train_path(source.parent)
    config = AugmentConfig(
        n=n, p=p, k=k, seed=seed, context=context, dtype=dtype, device=device, batch_size=batch_size,
        max_length=max_seq_length, glove=glove or str(DEFAULT_VECTORS),
        mlm=None if (mlm or "").lower() == "none" else (mlm or str(DEFAULT_MLM)))
    click.echo(f"augmenting {source} -> {target}\n  masked-LM: {config.mlm or 'none (GloVe for every word)'}"
               f"\n  vectors: {config.glove}", err=True)
    summary = augment_file(source, target, columns, config, fmt=fmt, label_column=label, jobs=jobs,
                           resume=resume, shard_rows=shard_rows, progress=not quiet)
    _print_summary(summary)


def _print_summary(summary) -> None:
    counts = summary.counts
    lines = [f"wrote {summary.rows_out} rows ({summary.rows_in} examples + augmented copies) to "
             f"{summary.output} in {summary.seconds:.1f}s"]
    if summary.resumed_shards:
        lines.append(f"resumed: reused {summary.resumed_shards} of {summary.shards} finished shards")
    if summary.ragged_lines:
        shown = ", ".join(map(str, summary.ragged_lines[:20]))
        more = f" and {len(summary.ragged_lines) - 20} more" if len(summary.ragged_lines) > 20 else ""
        lines.append(f"skipped {len(summary.ragged_lines)} ragged rows (wrong number of fields), "
                     f"lines {shown}{more}")
    if counts.get("empty_texts"):
        lines.append(f"kept {counts['empty_texts']} empty texts unchanged")
    if counts.get("cut_windows"):
        lines.append(f"{counts['cut_windows']} masked words were in texts longer than the model's window: "
                     "their masked-LM input was cut to a window around the word")
    lines.append(f"candidates: {counts.get('masked_lm_words', 0)} words from the masked-LM, "
                 f"{counts.get('vector_words', 0)} from vectors ({counts.get('words_without_vectors', 0)} "
                 "of these not in the vectors: left unchanged)")
    click.echo("\n".join(lines), err=True)


if __name__ == "__main__":
    main()
