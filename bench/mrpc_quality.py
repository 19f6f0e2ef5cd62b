"""The MRPC quality table: what each way of making a 4-layer student buys, on the real MRPC dev set.

Teacher: the pretrained MiniLM encoder (6 layers, width 384) fine-tuned on MRPC. Rows: the majority
class; the teacher; a student trained on gold labels alone; TinyBERT task distillation without and
with augmentation, and after a short general distillation; DistilBERT; PKD-skip. Students of the
same shape get the same number of training examples, so rows differ in method, not in compute.
TinyBERT students (4L-312) start from the teacher pruned to their width (the default init); DistilBERT
and PKD students (4L-384) from teacher layers, as published.

    python bench/mrpc_quality.py                     # about 75 minutes on 2 cores (figures in README)
    python bench/mrpc_quality.py --teacher runs/demo/teacher --augmented runs/demo/train_aug.tsv
    python bench/mrpc_quality.py --seeds 42,43,44    # mean and spread over seeds (3x the student time)

Finished runs in --work are reused (delete a run folder to redo it). Writes
bench/results/mrpc_quality.json, mrpc_quality.md, mrpc_dev_f1.png and mrpc_speed.png, and renders the
table into README.md between its `mrpc-quality` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from augment import AugmentConfig, augment_file  # noqa: E402
from data import (  # noqa: E402
    SHARED_DIR,  # noqa: E402
    compute_metrics,
    format_for,
    read_table,
)
from data.hardware import resolve_device, resolve_precision  # noqa: E402
from distill import (  # noqa: E402
    DistillSettings,
    TrainSettings,
    base_encoder,
    build_student,
    cpu_speed,
    default_init,
    distill,
    finetune,
    general_distill,
    glue_task_data,
    load_teacher,
    load_tokenizer,
)

RESULTS = ROOT / "bench" / "results"
TINY, WIDE = "4L-312", "4L-384"  # TinyBERT's 4-layer shape; the teacher's width (DistilBERT, PKD init from it)
LAYER_MAP = "2,3,5,6"  # student layer m -> teacher layer ceil(1.5 m): 6 is not a multiple of 4
# The TinyBERT budget in training examples, the demo's: 0.3 and 0.15 of a pass over its 76,915
# augmented rows (6.3 and 3.1 epochs of the 3,668 plain ones).
INTERMEDIATE_EXAMPLES, PREDICTION_EXAMPLES = 23_074, 11_537
GD_STEPS = 1000  # general distillation: 32,000 sentences (the paper: 3 epochs of English Wikipedia)
ALONE_LR = 1e-4  # gold labels alone, the TinyBERT student: a higher rate than fine-tuning a full model
EVAL_STEPS = 40
TEACHER_SHAPE = SimpleNamespace(hidden_size=384)  # MiniLM-L6-H384: what default_init asks of the teacher


def gd_corpus(path: Path) -> Path:
    """Plain in-domain English for a short general distillation: the sentences of MRPC train (no
    labels), STS-B train and SST-2 train, one per line; no dev sentence."""
    if not path.is_file():
        glue = SHARED_DIR / "data" / "glue"
        lines = []
        for task, columns in (
            ("MRPC", ["#1 String", "#2 String"]),
            ("STS-B", ["sentence1", "sentence2"]),
            ("SST-2", ["sentence"]),
        ):
            frame = read_table(glue / task / "train.tsv")
            lines += [text.strip() for column in columns for text in frame[column].astype(str)]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(line for line in lines if line) + "\n")
    return path


def finished(run: Path) -> bool:
    return (run / "report.json").is_file()


def timed(run: Path, make) -> float:
    """Run `make()` unless `run` already finished; the seconds it took (as recorded when reused)."""
    marker = run / "bench_seconds.txt"
    if finished(run) and marker.is_file():
        return float(marker.read_text())
    started = time.perf_counter()
    make()
    seconds = time.perf_counter() - started
    marker.write_text(f"{seconds:.1f}")
    return seconds


def dev_metrics(run: Path) -> dict:
    """The saved (best) model's dev accuracy and F1, from the run's report."""
    report = json.loads((run / "report.json").read_text())
    model = report["models"].get("student") or report["models"]["model"]
    return model["dev"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", help="a finished MRPC fine-tune of the MiniLM encoder (default: make one)")
    parser.add_argument("--augmented", help="augment's train_aug.tsv for MRPC (default: make one, N = 20)")
    parser.add_argument("--seeds", default="42", help="comma-separated student seeds (default 42)")
    parser.add_argument("--work", default=str(ROOT / "bench" / "_work" / "mrpc_quality"))
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args()
    work, seeds = Path(args.work), [int(s) for s in args.seeds.split(",")]
    work.mkdir(parents=True, exist_ok=True)
    started, seconds = time.perf_counter(), {}
    plain = glue_task_data("MRPC")
    # selection on dev, as GLUE dev results are usually reported (optimistic for every row alike)
    base = TrainSettings(batch_size=32, eval_steps=EVAL_STEPS, seed=42, select="dev")
    teacher, aug = _prepare(args, work, plain, base, seconds)
    variants, alone = _recipes(plain, aug, work / "general")
    runs = _run_all(work, seeds, plain, teacher, base, variants, alone, seconds)
    speeds = _speeds(plain, teacher, {name: paths[0] for name, paths in runs.items()})
    rows = [
        majority_row(plain),
        _row(
            "teacher",
            [teacher],
            speeds,
            {"model": "MiniLM-L6-H384 fine-tuned, 3 epochs, lr 5e-5, batch 32, max length 128"},
        ),
    ]
    settings = _settings(len(read_table(aug.train_path)), variants, alone, seeds, args)
    rows += [_row(name, paths, speeds, settings[name]) for name, paths in runs.items()]
    table = _write_results(rows, seconds, settings, speeds, runs)
    _render_into_readme(Path(args.readme), table)
    print(table)
    print(f"wall time of this invocation: {(time.perf_counter() - started) / 60:.1f} min")


def _prepare(args, work: Path, plain, base: TrainSettings, seconds: dict):
    """The teacher, the augmented training set and the general-distillation student, each made only
    when not given or not already in --work."""
    encoder = base_encoder()
    teacher = Path(args.teacher or work / "teacher")
    if not args.teacher:
        seconds["teacher"] = timed(teacher, lambda: finetune(plain, encoder, teacher, replace(base, eval_steps=None)))
    augmented = Path(args.augmented or work / "train_aug.tsv")
    if not args.augmented and not augmented.is_file():
        t0 = time.perf_counter()
        augment_file(
            plain.train_path,
            augmented,
            list(plain.spec.text_columns),
            AugmentConfig(n=20),
            fmt=format_for(plain.train_path),
            label_column=plain.spec.label_column,
        )
        seconds["augment"] = time.perf_counter() - t0
    general = work / "general"
    if not (general / "general_report.json").is_file():
        t0 = time.perf_counter()
        general_distill(
            encoder,
            gd_corpus(work / "gd_corpus.txt"),
            general,
            replace(base, max_steps=GD_STEPS, eval_steps=GD_STEPS, lr=1e-4),
            student=TINY,
            layer_map=LAYER_MAP,
        )
        seconds["general distillation"] = time.perf_counter() - t0
    return teacher, replace(plain, train_path=augmented)


def _recipes(plain, aug, general: Path):
    """Distillation variants (name -> data, recipe, training settings beyond the base) and students
    trained on gold labels alone (name -> shape, init, settings)."""
    aug_rows = len(read_table(aug.train_path))

    def epochs(examples: int, data) -> float:
        return examples / (aug_rows if data is aug else 3668)

    def tinybert(data, student):
        return DistillSettings(
            method="tinybert",
            student=student,
            layer_map=LAYER_MAP,
            intermediate_epochs=epochs(INTERMEDIATE_EXAMPLES, data),
        ), dict(epochs=epochs(PREDICTION_EXAMPLES, data))

    variants = {
        "tinybert_noaug": (plain, *tinybert(plain, TINY)),
        "tinybert_aug": (aug, *tinybert(aug, TINY)),
        "tinybert_gd_aug": (aug, *tinybert(aug, str(general))),
        "distilbert": (plain, DistillSettings(method="distilbert", student=WIDE), dict(epochs=3.0)),
        "pkd_skip": (
            plain,
            DistillSettings(method="pkd", pkd_strategy="skip", student=WIDE, layer_map=LAYER_MAP),
            dict(epochs=3.0),
        ),
    }
    alone = {  # gold labels only: the TinyBERT student (same init, same example budget), and the
        # DistilBERT/PKD student (the teacher's lowest layers) with theirs
        "student_alone": (
            TINY,
            "teacher-pruned",
            dict(epochs=(INTERMEDIATE_EXAMPLES + PREDICTION_EXAMPLES) / 3668, lr=ALONE_LR),
        ),
        "student_alone_teacher_init": (WIDE, "teacher-lowest", dict(epochs=3.0)),
    }
    return variants, alone


def _run_all(work: Path, seeds, plain, teacher: Path, base: TrainSettings, variants, alone, seconds) -> dict:
    """Every row for every seed (finished runs reused); row name -> its run folders."""
    runs: dict[str, list[Path]] = {}
    for seed in seeds:
        for name, (shape, init, extra) in alone.items():
            run = work / f"{name}-{seed}"
            seconds[f"{name}-{seed}"] = timed(
                run, lambda: _alone(plain, teacher, shape, init, run, replace(base, seed=seed, **extra))
            )
            runs.setdefault(name, []).append(run)
        for name, (data, recipe, extra) in variants.items():
            run = work / f"{name}-{seed}"
            seconds[f"{name}-{seed}"] = timed(
                run, lambda: distill(data, teacher, run, replace(base, seed=seed, **extra), recipe)
            )
            runs.setdefault(name, []).append(run)
    return runs


def _write_results(rows, seconds, settings, speeds, runs) -> str:
    """bench/results: the rows (JSON), everything about the runs (JSON), the table (Markdown), plots."""
    total = sum(seconds.values())
    result = {"rows": rows, "seconds": seconds, "total_seconds": total, "settings": settings["common"], "cpu": speeds}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mrpc_quality.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / "mrpc_quality_runs.json").write_text(json.dumps(result, indent=2) + "\n")
    table = _markdown(rows, seconds, total)
    (RESULTS / "mrpc_quality.md").write_text(table)
    _plot_curves(runs, RESULTS / "mrpc_dev_f1.png")
    _plot_speed(speeds, RESULTS / "mrpc_speed.png")
    return table


def _alone(task, teacher: Path, shape: str, init: str, run: Path, settings: TrainSettings) -> None:
    """A student of this shape and initialisation, fine-tuned on gold labels alone."""
    import torch

    torch.manual_seed(settings.seed)
    start = run / "initial"
    tokenizer = load_tokenizer(teacher)
    examples = task.encode(task.train_path, tokenizer, 128)
    build_student(shape, load_teacher(teacher, task.scheme), task.scheme, init, calibration=examples).save_pretrained(
        start
    )
    tokenizer.save_pretrained(start)
    finetune(task, start, run, settings)


def _speeds(task, teacher: Path, students: dict[str, Path]) -> dict[str, dict]:
    """CPU latency (batch 1) and throughput (batch 32) of every model on the same real dev pairs,
    measured one after another in this process (medians of 9)."""
    tokenizer = load_tokenizer(teacher)
    dev = task.encode(task.dev_paths[0], tokenizer, 128)
    speeds = {}
    for name, path in {"teacher": teacher, **students}.items():
        model = load_teacher(path, task.scheme)
        speeds[name] = {**cpu_speed(model, dev, repeats=9), "params": model.num_parameters()}
    return speeds


def majority_row(task) -> dict:
    labels = read_table(task.dev_paths[0])["Quality"].astype(int).to_numpy()
    metrics = compute_metrics(("accuracy", "f1"), np.ones_like(labels), labels)
    return {
        "name": "majority",
        "f1": metrics["f1"],
        "acc": metrics["accuracy"],
        "params": None,
        "cpu_speedup": None,
        "settings": "predict 'paraphrase' (label 1) for every dev pair",
    }


def _row(name: str, paths: list[Path], speeds: dict, settings) -> dict:
    dev = [dev_metrics(path) for path in paths]
    f1s, accs = [d["f1"] for d in dev], [d["accuracy"] for d in dev]
    row = {
        "name": name,
        "f1": statistics.mean(f1s),
        "acc": statistics.mean(accs),
        "params": speeds[name]["params"],
        "cpu_speedup": speeds[name]["examples_per_s_batch32"] / speeds["teacher"]["examples_per_s_batch32"],
        "settings": settings,
    }
    if len(paths) > 1:
        row.update(f1_std=statistics.stdev(f1s), acc_std=statistics.stdev(accs), seeds=len(paths))
    return row


def _settings(aug_rows, variants, alone, seeds, args) -> dict:
    common = {
        "task": "MRPC (GLUE train 3,668 pairs; dev 408 pairs)",
        "teacher": args.teacher or "fine-tuned here",
        "augmented": f"{args.augmented or 'made here'}: {aug_rows} rows (N=20, p=0.4, K=15, pair context, "
        "demo masked-LM, augment's default vectors; its manifest says which)",
        "batch_size": 32,
        "max_seq_length": 128,
        "precision": resolve_precision("auto", resolve_device("auto")) + " autocast for training (auto); CPU "
        "speeds in fp32",
        "seeds": seeds,
        "eval_every_steps": EVAL_STEPS,
        "selection": "best dev F1 of the evaluations (as GLUE dev results are usually reported)",
        "layer_map": LAYER_MAP,
        "general_distillation": f"{TINY} pruned from the pretrained (not fine-tuned) MiniLM "
        f"encoder, then {GD_STEPS} steps x 32 sentences of MRPC+STS-B+SST-2 train text, lr 1e-4: a SHORT GD, "
        "not the paper's 3 epochs of Wikipedia",
        "init": "TinyBERT rows: teacher-pruned (default); tinybert_gd_aug: the GD student",
    }
    described = {"common": common}
    for name, (data, method, extra) in variants.items():
        chosen = {k: v for k, v in asdict(method).items() if v != getattr(DistillSettings(), k) or k == "method"}
        chosen["init"] = method.init or (
            default_init(method, TEACHER_SHAPE)
            if method.student in (TINY, WIDE)
            else "the student folder's own weights"
        )
        described[name] = {
            **chosen,
            "data": "train_aug.tsv" if data.train_path.name.endswith("aug.tsv") else "train.tsv",
            **extra,
            "lr": "3e-5 (stage 2), 5e-5 (stage 1)" if method.method == "tinybert" else 5e-5,
        }
    for name, (shape, init, extra) in alone.items():
        described[name] = {
            "student": shape,
            "init": init,
            "objective": "task cross-entropy",
            "data": "train.tsv",
            "lr": 5e-5,
            **extra,
        }
    return described


def _markdown(rows, seconds, total) -> str:
    lines = ["| row | dev F1 | dev accuracy | parameters | CPU speed-up (batch 32) |", "|---|---:|---:|---:|---:|"]
    for row in rows:
        spread = lambda key: f" ± {row[key + '_std']:.3f}" if key + "_std" in row else ""  # noqa: E731
        params = f"{row['params'] / 1e6:.1f}M" if row["params"] else "-"
        speed = f"{row['cpu_speedup']:.2f}x" if row["cpu_speedup"] else "-"
        lines.append(
            f"| {row['name']} | {row['f1']:.3f}{spread('f1')} | {row['acc']:.3f}{spread('acc')} | {params} | {speed} |"
        )
    lines += [
        "",
        "Minutes per step: "
        + ", ".join(f"{k} {v / 60:.1f}" for k, v in seconds.items())
        + f"; total {total / 60:.0f} min.",
    ]
    return "\n".join(lines) + "\n"


def _plot_curves(runs: dict[str, list[Path]], png: Path) -> None:
    """Dev F1 against training steps of the final stage, one line per variant (first seed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for name, paths in runs.items():
        records = [json.loads(line) for line in (paths[0] / "metrics.jsonl").open() if line.strip()]
        points = [(r["step"], r["dev"]["f1"]) for r in records if "dev" in r]
        if points:
            axis.plot(*zip(*points), marker=".", label=name)
    axis.set(title="MRPC dev F1 during training (final stage)", xlabel="optimizer step (batch 32)", ylabel="dev F1")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(png, dpi=100)
    plt.close(figure)


def _plot_speed(speeds: dict[str, dict], png: Path) -> None:
    """CPU throughput at batch 32 and latency at batch 1 per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(speeds)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.barh(names, [speeds[n]["examples_per_s_batch32"] for n in names])
    left.set(title="CPU throughput, batch 32 (examples/s)")
    right.barh(names, [speeds[n]["latency_ms_batch1"] for n in names], color="tab:orange")
    right.set(title="CPU latency, batch 1 (ms)")
    right.set_yticklabels([])
    figure.tight_layout()
    figure.savefig(png, dpi=100)
    plt.close(figure)


def _render_into_readme(readme: Path, table: str) -> None:
    start, end = "<!-- mrpc-quality:start -->", "<!-- mrpc-quality:end -->"
    text = readme.read_text()
    if start in text and end in text:
        head, rest = text.split(start, 1)
        readme.write_text(head + start + "\n" + table + end + rest.split(end, 1)[1])


if __name__ == "__main__":
    main()
