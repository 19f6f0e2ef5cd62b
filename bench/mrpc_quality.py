"""The MRPC quality study: which 2x student to ship, and what augmentation buys, on the real MRPC dev set.

Selection is honest: every run keeps the checkpoint that scores best on a fixed held-out 10% of the
training examples (never trained on, their augmented copies left out too), and the dev set only
reports. The teacher (the pretrained MiniLM encoder, 6 layers, width 384) is chosen the same way among
learning rates; recipes for a 2x student are compared on the held-out slice; the rows that carry a
claim (gold labels alone, KD without and with augmentation, the chosen recipe) get 3 seeds (mean and
sample standard deviation), the others one seed (marked).

"Gain kept" = (student - majority) / (teacher - majority): the share of what the teacher learned
beyond predicting the majority class that the student keeps, on accuracy and on F1.

    python bench/mrpc_quality.py                        # everything not yet finished in --work
    python bench/mrpc_quality.py --max-minutes 60       # start no new run after 60 minutes, then render
    python bench/mrpc_quality.py --render-only          # the table from the finished runs
    python bench/mrpc_quality.py --rows tinybert_aug_glove --max-minutes 1   # one run of that row

Every run is a folder in --work (bench/_work/mrpc_quality, not committed: rerunning this script
reproduces it), reused once finished (delete it to redo it); the results are rendered after every
finished run, so an interrupted study keeps its figures. Writes bench/results/mrpc_quality.json (rows),
mrpc_quality_runs.json (runs, selection, timings), mrpc_quality.md, mrpc_dev_f1.png and mrpc_speed.png,
and the tables into docs/results.md (--results-page) between its `mrpc-quality` and `mrpc-paired` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from augment import AugmentConfig, augment_file  # noqa: E402
from bench.quality_tables import (  # noqa: E402
    finished,
    held_out,
    load_json,
    majority_row,
    markdown_table,
    paired_markdown,
    plot_curves,
    plot_speed,
    quality_row,
    render_into_page,
    seed_of,
    speed_key,
)
from data import SHARED_DIR, format_for, read_table  # noqa: E402
from data.hardware import resolve_device, resolve_precision  # noqa: E402
from distill import (  # noqa: E402
    HOLDOUT_SEED,
    DistillSettings,
    TrainSettings,
    base_encoder,
    build_student,
    cpu_speed,
    distill,
    export_model,
    finetune,
    general_distill,
    glue_task_data,
    load_classifier,
    load_teacher,
    load_tokenizer,
    max_length_for,
    predict,
)

RESULTS = ROOT / "bench" / "results"
EVAL_STEPS = 40
CLAIM_SEEDS = (42, 43, 44)
TEACHER_LRS = (3e-5, 5e-5, 1e-4)
TEACHER_EPOCHS = 5.0  # the best checkpoint on the held-out slice is kept, so more epochs cost time, not quality
# The compute-matched budget, in training examples (the demo's): TinyBERT stage 1 and stage 2 see
# 23,074 and 11,537 examples, with or without augmentation (6.3 and 3.1 epochs of the plain rows).
INTERMEDIATE_EXAMPLES, PREDICTION_EXAMPLES = 23_074, 11_537
ALONE_LR = 1e-4  # gold labels alone, a pruned student: a higher rate than fine-tuning a full model
GD_STEPS = 1000  # a short general distillation: 32,000 sentences of MRPC+STS-B+SST-2 train text


@dataclass(frozen=True)
class Recipe:
    """One row's way of making a model: gold labels alone (`alone`: shape and init) or a distillation
    `method`, on `data` (plain, aug = the demo masked-LM's augmentation, aug_glove = GloVe neighbours
    for every word), with a budget in examples; `seeds` runs of it."""

    data: str = "plain"
    method: DistillSettings | None = None
    alone: tuple[str, str] | None = None
    examples: tuple[int, int] = (INTERMEDIATE_EXAMPLES, PREDICTION_EXAMPLES)
    epochs: float | None = None  # instead of `examples` (DistilBERT, PKD: their published 3 epochs)
    stage_epochs: tuple[float, float] | None = None  # instead of `examples`: TinyBERT's stages 1 and 2, in epochs
    seeds: tuple[int, ...] = (42,)
    claim: str = ""


def tinybert(student: str, **more) -> DistillSettings:
    return DistillSettings(method="tinybert", student=student, **more)


RECIPES = {  # in the order they run: the rows that decide the others first
    "student_alone": Recipe(alone=("4L-312", "teacher-pruned"), seeds=CLAIM_SEEDS, claim="alone"),
    "tinybert_noaug": Recipe(method=tinybert("4L-312"), seeds=CLAIM_SEEDS, claim="KD without augmentation"),
    "tinybert_aug": Recipe("aug", tinybert("4L-312"), seeds=CLAIM_SEEDS, claim="KD with augmentation"),
    "tinybert_3l384_aug": Recipe("aug", tinybert("3L-384"), claim="recipe candidate"),
    "distilbert_3l384": Recipe(method=DistillSettings(method="distilbert", student="3L-384"), epochs=3.0),
    # The epoch-matched budget (the published protocol, reduced to fit): one epoch of each TinyBERT stage
    # over the row's data, so the augmented row sees about 18x the examples; alone gets the same 2 epochs.
    "student_alone_epochs": Recipe(alone=("4L-312", "teacher-pruned"), epochs=2.0, seeds=CLAIM_SEEDS, claim="alone"),
    "tinybert_noaug_epochs": Recipe(
        method=tinybert("4L-312"), stage_epochs=(1.0, 1.0), seeds=CLAIM_SEEDS, claim="KD without augmentation"
    ),
    "tinybert_aug_epochs": Recipe(
        "aug", tinybert("4L-312"), stage_epochs=(1.0, 1.0), seeds=CLAIM_SEEDS, claim="KD with augmentation"
    ),
    "tinybert_aug_filter": Recipe("aug", tinybert("4L-312", filter_teacher=True), seeds=CLAIM_SEEDS),
    "tinybert_aug_glove": Recipe("aug_glove", tinybert("4L-312")),
    "distilbert": Recipe(method=DistillSettings(method="distilbert", student="4L-384"), epochs=3.0),
    "pkd_skip": Recipe(
        method=DistillSettings(method="pkd", student="4L-384", options={"pkd_strategy": "skip"}), epochs=3.0
    ),
    "student_alone_teacher_init": Recipe(alone=("4L-384", "teacher-lowest"), epochs=3.0),
    "tinybert_gd_aug": Recipe("aug", tinybert("general")),
}


# Row pairs whose order is a claim ("KD + augmentation > KD > alone", at each budget), compared seed by seed
CLAIMED_ORDER = (
    ("tinybert_aug", "tinybert_noaug"),
    ("tinybert_noaug", "student_alone"),
    ("tinybert_aug_epochs", "tinybert_noaug_epochs"),
    ("tinybert_noaug_epochs", "student_alone_epochs"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--augmented", help="augment's train_aug.tsv for MRPC, demo masked-LM (default: make one)")
    parser.add_argument("--work", default=str(ROOT / "bench" / "_work" / "mrpc_quality"))
    parser.add_argument("--results-page", default=str(ROOT / "docs" / "results.md"))
    parser.add_argument("--max-minutes", type=float, default=None, help="start no new run after this long")
    parser.add_argument("--render-only", action="store_true", help="render the finished runs; train nothing")
    parser.add_argument(
        "--rows", nargs="+", choices=list(RECIPES), metavar="ROW", help="train only these rows (default: all)"
    )
    args = parser.parse_args()
    study = Study(Path(args.work), args)
    study.run()


class Study:
    def __init__(self, work: Path, args):
        self.work, self.args = work, args
        self.work.mkdir(parents=True, exist_ok=True)
        self.started = time.perf_counter()
        self.plain = glue_task_data("MRPC")
        self.base = TrainSettings(batch_size=32, eval_steps=EVAL_STEPS, select="holdout", holdout=0.1)
        self.seconds = load_json(self.work / "seconds.json")

    def time_left(self) -> bool:
        limit = self.args.max_minutes
        return not self.args.render_only and (limit is None or time.perf_counter() - self.started < 60 * limit)

    def run(self) -> None:
        teacher = self.teacher()
        if teacher is None:
            return
        for name, recipe in RECIPES.items():
            if self.args.rows and name not in self.args.rows:
                continue
            for seed in recipe.seeds:
                if not finished(self.work / f"{name}-{seed}") and self.time_left():
                    self.make(name, recipe, seed, teacher)
                    self.render(teacher)
        self.render(teacher, measure=not self.args.render_only)
        print(f"wall time of this invocation: {(time.perf_counter() - self.started) / 60:.1f} min")

    def teacher(self) -> Path | None:
        """The learning rate whose best checkpoint on the held-out slice scores highest."""
        encoder = base_encoder()
        for lr in TEACHER_LRS:
            run = self.work / f"teacher-lr{lr:g}"
            if not finished(run) and self.time_left():
                settings = replace(self.base, epochs=TEACHER_EPOCHS, lr=lr, seed=42)
                self.timed(run, lambda: finetune(self.plain, encoder, run, settings))
        done = [self.work / f"teacher-lr{lr:g}" for lr in TEACHER_LRS if finished(self.work / f"teacher-lr{lr:g}")]
        return max(done, key=lambda run: held_out(run)["accuracy"]) if len(done) == len(TEACHER_LRS) else None

    def data(self, name: str):
        if name == "plain":
            return self.plain
        if name == "aug":
            path = Path(self.args.augmented or self.work / "train_aug.tsv")
            config = AugmentConfig(n=20)
        else:
            path, config = self.work / "train_aug_glove.tsv", AugmentConfig.of(n=20, mlm=None)
        if not path.is_file():
            t0 = time.perf_counter()
            columns = list(self.plain.spec.text_columns)
            fmt = format_for(self.plain.train_path)
            augment_file(self.plain.train_path, path, columns, config, fmt=fmt, label_column="Quality")
            self.seconds[f"augment {name}"] = time.perf_counter() - t0
        return replace(self.plain, train_path=path)

    def make(self, name: str, recipe: Recipe, seed: int, teacher: Path) -> None:
        run = self.work / f"{name}-{seed}"
        data, settings = self.data(recipe.data), replace(self.base, seed=seed)
        rows = len(read_table(data.train_path))
        if recipe.alone:
            shape, init = recipe.alone
            epochs = recipe.epochs or sum(recipe.examples) / rows
            lr = ALONE_LR if init == "teacher-pruned" else 5e-5
            self.timed(run, lambda: _alone(data, teacher, shape, init, run, replace(settings, epochs=epochs, lr=lr)))
            return
        method = recipe.method
        if method.student == "general":
            method = replace(method, student=str(self.general()))
        if recipe.epochs:
            settings = replace(settings, epochs=recipe.epochs)
        else:
            stage_one, stage_two = recipe.stage_epochs or (examples / rows for examples in recipe.examples)
            method = replace(method, options={**method.options, "intermediate_epochs": stage_one})
            settings = replace(settings, epochs=stage_two)
        self.timed(run, lambda: distill(data, teacher, run, settings, method))

    def general(self) -> Path:
        general = self.work / "general"
        if not (general / "general_report.json").is_file():
            t0 = time.perf_counter()
            settings = replace(self.base, max_steps=GD_STEPS, eval_steps=None, lr=1e-4, select="last")
            general_distill(base_encoder(), gd_corpus(self.work / "gd_corpus.txt"), general, settings, student="4L-312")
            self.seconds["general distillation"] = time.perf_counter() - t0
        return general

    def timed(self, run: Path, make) -> None:
        started = time.perf_counter()
        make()
        self.seconds[run.name] = time.perf_counter() - started
        (self.work / "seconds.json").write_text(json.dumps(self.seconds, indent=1))

    def render(self, teacher: Path, measure: bool = False) -> None:
        """Rows from every finished run; CPU speeds per model shape, measured side by side when `measure`
        (else the last measured ones)."""
        runs = {
            name: [self.work / f"{name}-{seed}" for seed in recipe.seeds if finished(self.work / f"{name}-{seed}")]
            for name, recipe in RECIPES.items()
        }
        runs = {name: paths for name, paths in runs.items() if paths}
        settings = {name: _recipe_settings(RECIPES[name]) for name in runs}
        chosen = chosen_recipe(runs)
        if chosen:  # the held-out slice's pick also gets a row as shipped
            runs[f"{chosen}_int8"] = [self.shipped(path) for path in runs[chosen]]
            settings[f"{chosen}_int8"] = {**settings[chosen], "shipped": "cli.py export: ONNX int8, ONNX Runtime"}
        speeds_file, paired_file = self.work / "speeds.json", self.work / "paired.json"
        if measure:
            models = {"teacher": teacher, "teacher int8": self.shipped(teacher)}
            speeds = _speeds(self.plain, {**models, **{speed_key(p[0]): p[0] for p in runs.values()}})
            speeds_file.write_text(json.dumps(speeds, indent=1))
            paired_file.write_text(json.dumps(self.paired(teacher, runs), indent=1))
        speeds, paired = load_json(speeds_file), load_json(paired_file) or []
        majority = majority_row(self.plain)
        teacher_row = quality_row("teacher", [teacher], speeds, majority, None, _teacher_settings(self.work, teacher))
        rows = [majority, teacher_row]
        rows += [
            quality_row(name, paths, speeds, majority, teacher_row, settings[name]) for name, paths in runs.items()
        ]
        table, pairs = markdown_table(rows), paired_markdown(paired, CLAIM_SEEDS)
        _write_results(rows, runs, self.seconds, speeds, paired, table + "\n" + pairs)
        render_into_page(Path(self.args.results_page), "mrpc-quality", table)
        render_into_page(Path(self.args.results_page), "mrpc-paired", pairs)
        print(table + "\n" + pairs, flush=True)

    def paired(self, teacher: Path, runs: dict[str, list[Path]]) -> list[dict]:
        """Each claimed order, seed by seed, on the same dev and held-out examples: the accuracy difference
        and its paired standard error sqrt(b + c) / n (b, c: examples only one of the two gets right). The
        seed spread leaves out the sampling error of a fixed 408- or 367-pair slice; this measures it."""
        tokenizer, length = load_tokenizer(teacher), max_length_for(self.plain, None)
        _, held = self.plain.holdout_split(self.base.holdout, HOLDOUT_SEED)
        slices = {
            "dev": self.plain.encode(self.plain.dev_paths[0], tokenizer, length),
            "held-out": self.plain.encode(self.plain.train_path, tokenizer, length).subset(held),
        }
        right: dict[tuple[Path, str], np.ndarray] = {}  # a run takes part in up to two claims: scored once

        def scored(run: Path) -> None:
            if (run, "dev") not in right:
                model = load_teacher(run, self.plain.scheme)
                for name, examples in slices.items():
                    right[run, name] = predict(model, examples).argmax(-1) == examples.labels.numpy()

        found = []
        for better, worse in CLAIMED_ORDER:
            seeds = {seed_of(run): run for run in runs.get(worse, [])}
            for first in runs.get(better, []):
                second = seeds.get(seed_of(first))
                if second is None:
                    continue
                scored(first), scored(second)
                for name in slices:
                    one, other = right[first, name], right[second, name]
                    only_first, only_second = int((one & ~other).sum()), int((other & ~one).sum())
                    found.append(
                        {
                            "claim": f"{better} > {worse}",
                            "seed": seed_of(first),
                            "slice": name,
                            "examples": len(one),
                            "difference": (only_first - only_second) / len(one),
                            "paired_se": (only_first + only_second) ** 0.5 / len(one),
                            "only_first_right": only_first,
                            "only_second_right": only_second,
                        }
                    )
        return found

    def shipped(self, run: Path) -> Path:
        """The run's model as `cli.py export` ships it (ONNX int8), checked and scored on dev by the export."""
        folder = run.parent / f"{run.name}-int8"
        if not (folder / "export.json").is_file():
            dev_set = self.plain.encode(self.plain.dev_paths[0], load_tokenizer(run), max_length_for(self.plain, None))
            export_model(run, dev_set, self.plain.spec.metrics, folder)
        return folder


def chosen_recipe(runs: dict[str, list[Path]]) -> str | None:
    """The recipe the held-out slice picks: the best mean held-out accuracy among the rows with every
    claim seed (one seed is not compared with three)."""
    complete = {name: paths for name, paths in runs.items() if len(paths) == len(CLAIM_SEEDS)}
    if not complete:
        return None
    return max(complete, key=lambda name: statistics.mean(held_out(path)["accuracy"] for path in complete[name]))


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
        path.write_text("\n".join(line for line in lines if line) + "\n")
    return path


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


def _speeds(task, models: dict[str, Path]) -> dict[str, dict]:
    """CPU latency (batch 1) and throughput (batch 32) of one model per shape, in PyTorch fp32 or as
    shipped (ONNX Runtime int8), on the same real dev pairs, one after another in this process (medians of 9)."""
    tokenizer = load_tokenizer(models["teacher"])
    pairs = task.encode(task.dev_paths[0], tokenizer, 128)
    speeds = {}
    for name, path in models.items():
        model = load_classifier(path, task.scheme)
        speeds[name] = {**cpu_speed(model, pairs, repeats=9), "params": model.num_parameters()}
    return speeds


def _teacher_settings(work: Path, chosen: Path) -> dict:
    candidates = {f"lr {lr:g}": held_out(work / f"teacher-lr{lr:g}")["accuracy"] for lr in TEACHER_LRS}
    return {
        "model": f"MiniLM-L6-H384 fine-tuned {TEACHER_EPOCHS:g} epochs, batch 32, max length 128, best checkpoint "
        "on the held-out slice",
        "chosen": chosen.name,
        "held_out_accuracy_by_lr": candidates,
    }


def _recipe_settings(recipe: Recipe) -> dict:
    described = {
        "data": {
            "plain": "train.tsv",
            "aug": "train_aug.tsv (demo masked-LM + 400k GloVe, N=20)",
            "aug_glove": "train_aug_glove.tsv (--mlm none: 400k GloVe for every word, N=20)",
        }[recipe.data]
    }
    if recipe.alone:
        described.update(student=recipe.alone[0], init=recipe.alone[1], objective="task cross-entropy")
    else:
        asked = asdict(recipe.method)
        asked.update(asked.pop("options"))
        described.update({k: v for k, v in asked.items() if v not in (None, False, "auto") and k != "layer_map"})
    if recipe.epochs:
        described["epochs"] = recipe.epochs
    elif recipe.alone:
        described["examples"] = {"one stage": sum(recipe.examples)}
    elif recipe.stage_epochs:
        described["epochs"] = {"stage 1": recipe.stage_epochs[0], "stage 2": recipe.stage_epochs[1]}
    else:
        described["examples"] = {"stage 1": recipe.examples[0], "stage 2": recipe.examples[1]}
    if recipe.claim:
        described["claim"] = recipe.claim
    return described


def _write_results(rows, runs, seconds, speeds, paired, markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mrpc_quality.json").write_text(json.dumps(rows, indent=2) + "\n")
    common = {
        "task": "MRPC (GLUE train 3,668 pairs, of which 367 held out for selection; dev 408 pairs)",
        "selection": "best held-out accuracy of the evaluations (every 40 steps); dev only reports",
        "precision": resolve_precision("auto", resolve_device("auto")) + " autocast for training (auto); CPU "
        "speeds in fp32, batch 32, one model per shape",
        "batch_size": 32,
        "max_seq_length": 128,
    }
    result = {"common": common, "seconds": seconds, "cpu": speeds, "selection": _selections(runs), "paired": paired}
    (RESULTS / "mrpc_quality_runs.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "mrpc_quality.md").write_text(markdown)
    plot_curves(runs, RESULTS / "mrpc_dev_f1.png")
    if speeds:
        plot_speed(speeds, RESULTS / "mrpc_speed.png")


def _selections(runs) -> dict:
    return {
        path.name: json.loads((path / "report.json").read_text())["selection"]
        for paths in runs.values()
        for path in paths
        if finished(path)
    }


if __name__ == "__main__":
    main()
