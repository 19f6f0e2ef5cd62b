"""The speed/quality frontier past the int8 teacher, on MRPC and SST-2: which student to ship for which
latency, against what users get for free (the fine-tuned teacher exported as int8) and the cheapest
honest alternative (static embeddings + logistic regression, bench/static_baseline.py).

Rows: majority; teacher (PyTorch fp32); teacher int8 (ONNX Runtime, export only); students asked for 2x,
4x and 8x the int8 teacher's batch-32 throughput here (`distill --speedup`, the shape timed once and
recorded), each shipped as int8; the static baseline. Each ask's recipe is chosen on the held-out slice
at seed 42, TinyBERT's rows and the fastest students first: the class balance (`--balance-classes` or
not), the budget (compute-matched; a longer prediction stage whose teacher outputs are computed once for
every student; or that after a full first stage), the start (`--student-init`: the teacher layers
TinyBERT imitates, or the lowest ones), the shape (`--speedup`'s, the deepest of the teacher's own width
or the deepest of any width that is fast enough), then the method among METHODS at 4x. The chosen recipe
then makes every seed of every student row.
Every checkpoint is chosen on a fixed held-out slice of the training examples; dev only reports.
Speeds are measured side by side in one process at the end (ONNX Runtime or PyTorch on the CPU, real
dev examples, medians of 9).

    python bench/frontier.py                          # everything not yet finished, then render
    python bench/frontier.py --tasks SST-2 --max-minutes 60
    python bench/frontier.py --render-only            # tables, JSON and charts from the finished runs

Runs live in --work (bench/_work/frontier; MRPC's teacher and augmented set are the MRPC quality
study's, in bench/_work/mrpc_quality, made there when absent), each reused once finished. Each finished
student's figures also go at once into bench/results/frontier_runs.json (with the choices and timings):
commit it as runs finish, and a session that lost the work folder with its machine re-makes only the
teacher and the data; its report times a lost student on a random-weight stand-in of its shape. A render
writes bench/results/frontier.json (one object per row), frontier_runs.json (runs, choices, timings,
speeds), frontier_TASK.png, and the tables into docs/frontier.md between its markers. Where a task's
teacher is gone, --render-only re-draws its tables and chart from its committed rows, re-making nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from augment import AugmentConfig, augment_file  # noqa: E402
from bench.quality_tables import dev, finished, held_out, load_json, shape_of  # noqa: E402
from bench.static_baseline import StaticClassifier, fit_static, piece_vectors, static_table  # noqa: E402
from data import SHARED_DIR, InputError, format_for, read_table  # noqa: E402
from data.outputs import write_text_atomic  # noqa: E402
from distill import (  # noqa: E402
    DistillSettings,
    TaskData,
    TrainSettings,
    base_encoder,
    distill,
    evaluate,
    export_model,
    finetune,
    glue_task_data,
    load_teacher,
    load_tokenizer,
    max_length_for,
    split_for_selection,
    weights_mb,
)
from distill.checkpoint import training_seconds  # noqa: E402
from distill.speedup import Int8Timer, shape_for_speedup  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SPEEDUPS = (2.0, 4.0, 8.0)
ASKS = tuple(f"{x:g}x" for x in SPEEDUPS)  # "2x", "4x", "8x": how choices.json names them
METHODS = ("tinybert", "minilm")  # candidates, compared on the held-out slice at the 4x shape
CLAIM_SEEDS = (42, 43, 44)
# Every model made in fp32 (training and the masked-LM of the augmentation): a study spans sessions on
# different CPUs (AVX2 only, AVX-512 BF16, AMX), where `auto` would make some seeds in bf16 and others in
# fp32; fp32 is the same computation on all of them. Speeds time the shipped int8 models either way.
PRECISION = "fp32"
# Stage 1 and stage 2 learning rates. TinyBERT's published ones (5e-5, 3e-5, for 4L-312 students) left the
# first 4x student (4L-192, MRPC, seed 42) below the majority class on the held-out slice after the
# compute-matched budget (0.545): its prediction loss had barely moved. Narrow students take higher rates
# (the quality study's students trained alone used 1e-4); the published-rate run stays as a row.
STUDENT_LRS = (1e-4, 1e-4)
# How a student may start (`distill --student-init`), candidates compared per ask, and the name each gives
# its runs: TinyBERT's own start first (it stays on a tie)
START_NAMES = {"auto": "own", "teacher-lowest": "lowest"}
# Shape candidates beside `distill --speedup`'s own pick, as `shape_for_speedup` is asked for them
OTHER_SHAPES = {"wide": {"same_width": True}, "deep": {"prefer": "depth"}, "balanced": {"prefer": "balanced"}}
PUBLISHED_LRS = (5e-5, 3e-5)
# SST-2's "aug" budget: copies of the training phrases this long (6,058 of the 20,000; the dev sentences' median
# is 19 words, the phrases' 7), this many each (the file then holds about as many rows as "matched" trains on)
AUG_MIN_WORDS, AUG_COPIES = 12, 3


def _phrase(line: str) -> str:
    """A GLUE SST-2 training line's text (its label is the last column)."""
    return line.rstrip("\n").rsplit("\t", 1)[0]


@dataclass(frozen=True)
class Recipe:
    """A student recipe of the study, and the name its runs carry ("tinybert-4L-192-full-balanced-lowest"):
    everything in it that is not the default is named, so the name alone says the recipe back."""

    method: str
    shape: str
    budget: str = "matched"  # or "long", "full" (see FrontierStudy.student)
    published_lrs: bool = False
    balance: bool = False
    start: str = "auto"  # a key of START_NAMES

    @property
    def name(self) -> str:
        parts = [self.method, self.shape, None if self.budget == "matched" else self.budget]
        parts += ["published_lr" if self.published_lrs else None, "balanced" if self.balance else None]
        parts.append(None if self.start == "auto" else START_NAMES[self.start])
        return "-".join(part for part in parts if part)

    @classmethod
    def parse(cls, name: str) -> Recipe:
        method, layers, width, *variant = name.split("-")
        starts = {run_name: start for start, run_name in START_NAMES.items()}
        recipe = cls(
            method,
            f"{layers}-{width}",
            budget=next((part for part in variant if part in ("long", "full", "all", "aug")), "matched"),
            published_lrs="published_lr" in variant,
            balance="balanced" in variant,
            start=next((starts[part] for part in variant if part in starts), "auto"),
        )
        if recipe.name != name:
            raise ValueError(f"{name!r} is not a study recipe's name")
        return recipe


@dataclass(frozen=True)
class TaskStudy:
    """How one task is studied: the teacher's budget, the training data, the students' budget."""

    name: str
    teacher_lr: float
    teacher_epochs: float
    holdout: float
    eval_steps: int
    augmented: bool  # students train on `augment`'s train_aug.tsv (N=20), else on the plain train set
    train_rows: int | None  # a fixed random subsample of the training set (None: all of it)
    stage_examples: tuple[int, int] | None = None  # examples per TinyBERT/MiniLM stage ...
    stage_epochs: tuple[float, float] | None = None  # ... or epochs per stage
    label_column: str = "label"
    # The budget candidates, chosen per shape on the held-out slice (seed 42): "matched" is the stage sizes
    # above; "long" the prediction stage for long_second_epochs (its teacher outputs computed once for every
    # student: distill/teacher_store.py), eval every eval_steps_long; "full" that after a first stage of
    # full_first_epochs (the quality study's 4L-312 student went from 74% to 95% of the gain with one full
    # pass of each stage); "all" (a subsampled task) as many examples per stage as "matched", drawn from every
    # training row of the task, the teacher's own subsample and the rows it never saw (FrontierStudy.all_rows);
    # "aug" (an unaugmented task) as many, drawn from the training rows and augmented copies of the longer ones
    # (FrontierStudy.long_augmented)
    budgets: tuple[str, ...] = ("matched",)
    long_second_epochs: float | None = None
    eval_steps_long: int | None = None
    full_first_epochs: float | None = None
    starts: tuple[str, ...] = tuple(START_NAMES)  # the start candidates (keys of START_NAMES)


TASKS = {
    # The MRPC quality study's teacher (its learning rate was chosen there on the held-out slice) and its
    # compute-matched budget: 23,074 + 11,537 examples of the augmented set per stage.
    "MRPC": TaskStudy(
        "MRPC",
        1e-4,
        5.0,
        0.1,
        40,
        True,
        None,
        stage_examples=(23_074, 11_537),
        label_column="Quality",
        # "matched" lost to "long" at every ask, by 4 to 5 held-out points, with the first teacher (whose run
        # folders were lost; its scores stay in choices.json under budget_holdout_acc_first_teacher)
        budgets=("long", "full"),
        long_second_epochs=1.0,
        eval_steps_long=120,
        full_first_epochs=1.0,
        # TinyBERT's own start only: it beat the lowest layers at every SST-2 ask (by 0.2 to 1.2 held-out points),
        # and the 2.5 hours a comparison takes here go to the shape candidates and the seeds
        starts=("auto",),
    ),
    # SST-2: 20,000 of the 67,349 training phrases (seed 0), not augmented, to fit a 2-core CPU; 2 + 2
    # epochs of them for the students, or as many examples drawn from all the phrases.
    "SST-2": TaskStudy(
        "SST-2", 5e-5, 2.0, 0.05, 100, False, 20_000, stage_epochs=(2.0, 2.0), budgets=("matched", "all", "aug")
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--work", default=str(ROOT / "bench" / "_work" / "frontier"))
    parser.add_argument("--quality-work", default=str(ROOT / "bench" / "_work" / "mrpc_quality"))
    parser.add_argument("--page", default=str(ROOT / "docs" / "frontier.md"))
    parser.add_argument("--max-minutes", type=float, default=None, help="start no new run after this long")
    parser.add_argument("--render-only", action="store_true", help="render the finished runs; train nothing")
    args = parser.parse_args()
    logging.basicConfig(format="%(message)s")
    logging.getLogger("tinydistill").setLevel(logging.INFO)  # the runs' plans and time estimates
    started = time.perf_counter()

    def time_left() -> bool:
        limit = args.max_minutes
        return not args.render_only and (limit is None or time.perf_counter() - started < 60 * limit)

    studies = [
        FrontierStudy(TASKS[name], Path(args.work) / name, Path(args.quality_work), time_left) for name in args.tasks
    ]
    for seeds in (CLAIM_SEEDS[:1], CLAIM_SEEDS):  # a first seed of every row of every task, then all of them
        for study in studies:
            study.run(seeds)
    for study in studies:
        study.render(Path(args.page), measure=not args.render_only)
    print(f"wall time of this invocation: {(time.perf_counter() - started) / 60:.1f} min")


class FrontierStudy:
    def __init__(self, spec: TaskStudy, work: Path, quality_work: Path, time_left):
        self.spec, self.work, self.quality_work, self.time_left = spec, work, quality_work, time_left
        self.work.mkdir(parents=True, exist_ok=True)
        self.plain = self._plain_task()
        self.base = TrainSettings(
            batch_size=32, eval_steps=spec.eval_steps, select="holdout", holdout=spec.holdout, precision=PRECISION
        )
        # What the last render or finished run committed (bench/results/frontier_runs.json): a work folder lost
        # with its machine starts again from its choices, timings and finished runs' figures, not from scratch
        committed = load_json(RESULTS / "frontier_runs.json").get(spec.name, {})
        self.choices = load_json(self.work / "choices.json") or committed.get("choices", {})
        self.seconds = {**committed.get("seconds", {}), **load_json(self.work / "seconds.json")}
        self.records: dict[str, dict] = committed.get("runs", {})  # saved with the choices (see save)
        self.committed_speeds = committed.get("speeds", {})  # a render that measures nothing reuses them

    # -- making the models --------------------------------------------------------------------------

    def run(self, seeds: tuple[int, ...]) -> None:
        """Teacher, its int8 export, the static baseline and the shapes; with the first seed alone, the
        candidates of each choice (class balance, budget, start, shape, method: each chosen on the held-out
        slice at seed 42, in that order); with all seeds, the chosen recipe's student for each ask. A choice recorded
        in choices.json stays, whatever was chosen after it (the record says what each was chosen with)."""
        teacher = self.teacher()
        if teacher is None:
            return
        self.timed("teacher int8", lambda: self.shipped(teacher))
        self.timed("static", self.static)
        if not self.time_left():
            return
        self.shapes(teacher)  # timed and recorded before any student
        if seeds == CLAIM_SEEDS[:1]:
            self.rates(teacher)
            for choose in (self.balance, self.budget, self.start, self.shape, self.shape_budget):
                for ask in reversed(ASKS):  # the fastest students first: the most evidence per hour
                    choose(teacher, ask)
            self.method(teacher)
            return
        for seed in seeds:
            method = self.method(teacher)
            for ask in ASKS:
                balance, start = self.balance(teacher, ask), self.start(teacher, ask)
                budget, shape = self.shape_budget(teacher, ask), self.shape(teacher, ask)
                if method and shape and budget and start and balance is not None and self.time_left():
                    self.student(teacher, method, shape, seed, budget=budget, balance=balance, start=start)

    def teacher_path(self) -> Path:
        if self.spec.name == "MRPC":  # the quality study's run of the same recipe, made there if absent
            return self.quality_work / f"teacher-lr{self.spec.teacher_lr:g}"
        return self.work / "teacher"

    def teacher(self) -> Path | None:
        run = self.teacher_path()
        if not finished(run) and self.time_left():
            settings = replace(self.base, epochs=self.spec.teacher_epochs, lr=self.spec.teacher_lr, seed=42)
            self.timed("teacher", lambda: finetune(self.plain, base_encoder(), run, settings))
        return run if finished(run) else None

    def shipped(self, run: Path) -> Path:
        """The run's model as `cli.py export` ships it (ONNX int8), scored on dev by the export."""
        folder = run.parent / f"{run.name}-int8"
        if not (folder / "export.json").is_file():
            export_model(run, self.dev_set(run), self.plain.spec.metrics, folder)
        return folder

    def shapes(self, teacher: Path) -> dict[str, str]:
        """`distill --speedup X`'s shape for each X, timed once here and recorded (a rerun keeps them)."""
        if "shapes" not in self.choices:
            config = load_teacher(teacher, self.plain.scheme).config
            with Int8Timer() as timer:  # each shape's graph built once for the three asks
                sample = self.dev_set(teacher)
                found = {f"{x:g}x": shape_for_speedup(x, config, sample, throughput=timer) for x in SPEEDUPS}
            self.choices["shapes"] = {name: choice.shape for name, choice in found.items()}
            self.choices["shape_timing"] = {name: choice.describe() for name, choice in found.items()}
            self.save()
        return self.choices["shapes"]

    def other_shapes(self, teacher: Path, kind: str) -> dict[str, str | None]:
        """For each ask, the shape `distill --speedup` picks when asked as OTHER_SHAPES[kind] says ("wide": the
        deepest of the teacher's own width, whose layers start as whole teacher layers; "deep": the deepest of
        any width; "balanced": the most layers x width), None when none is fast enough: shape candidates beside
        its own pick. Timed once, recorded."""
        if f"{kind}_shapes" not in self.choices:
            config = load_teacher(teacher, self.plain.scheme).config
            found, timing = {}, {}
            with Int8Timer() as timer:
                sample = self.dev_set(teacher)
                for ask, x in zip(ASKS, SPEEDUPS):
                    try:
                        choice = shape_for_speedup(x, config, sample, **OTHER_SHAPES[kind], throughput=timer)
                    except InputError as refusal:
                        found[ask], timing[ask] = None, str(refusal)
                    else:
                        found[ask], timing[ask] = choice.shape, choice.describe()
            self.choices[f"{kind}_shapes"], self.choices[f"{kind}_shape_timing"] = found, timing
            self.save()
        return self.choices[f"{kind}_shapes"]

    def rates(self, teacher: Path) -> None:
        """The evidence behind STUDENT_LRS: the 4x shape's TinyBERT student (seed 42, matched budget) at the
        published stage rates and at STUDENT_LRS, scored on the held-out slice once and recorded."""
        if "lrs_holdout_acc" not in self.choices and self.time_left():
            shape = self.shapes(teacher)["4x"]
            runs = {"published": self.student(teacher, METHODS[0], shape, 42, lrs=PUBLISHED_LRS),
                    "study": self.student(teacher, METHODS[0], shape, 42)}  # fmt: skip
            self.choices["lrs_holdout_acc"] = {name: self.held_out_acc(run) for name, run in runs.items()}
            self.save()

    def balance(self, teacher: Path, ask: str) -> bool | None:
        """For this ask, whether `--balance-classes` (teacher classes weighed towards the labelled shares)
        scores better on the held-out slice: TinyBERT students of `distill --speedup`'s shape at the task's
        first budget, seed 42, with and without; None until both have run. Off for unaugmented data (the
        teacher's shares there are the labelled ones, near enough). Recorded by shape."""
        if not self.spec.augmented:
            return False
        shape, chosen = self.shapes(teacher)[ask], self.choices.setdefault("balance", {})
        if shape not in chosen:
            if not self.time_left():
                return None
            budget = self.spec.budgets[0]
            runs = [self.student(teacher, METHODS[0], shape, 42, budget=budget, balance=on) for on in (False, True)]
            scores = [self.held_out_acc(run) for run in runs]
            chosen[shape] = scores[1] > scores[0]
            self.choices.setdefault("balance_holdout_acc", {})[shape] = dict(zip(("off", "on"), scores))
            self.save()
        return chosen[shape]

    def budget(self, teacher: Path, ask: str, shape: str | None = None) -> str | None:
        """For this ask, the budget candidate whose TinyBERT student of `distill --speedup`'s shape (or `shape`;
        seed 42, the ask's balance, TinyBERT's own start, or for `shape` the ask's start) scores best on the
        held-out slice; None until each has run. The scores are read from the runs (each reused once finished)
        and recorded by shape, the choice kept once every candidate has a score: a candidate added later is run
        and compared with the others."""
        candidates = self.spec.budgets
        if len(candidates) == 1:
            return candidates[0]
        picked = self.shapes(teacher)[ask]
        shape, balance = shape or picked, self.balance(teacher, ask)
        recorded = self.choices.get("budget_holdout_acc", {}).get(shape, {})
        if set(recorded) == set(candidates):  # every candidate compared: a lost run is not re-made to say it again
            return self.choices["budget"][shape]
        start = "auto" if shape == picked else self.start(teacher, ask)  # the start is chosen at the budget
        if balance is None or start is None:
            return None
        scores = {}
        for budget in candidates:
            recipe = dict(budget=budget, balance=balance, start=start)
            run = self.run_path(METHODS[0], shape, 42, **recipe)
            if not self.made(run) and not self.time_left():
                return None
            scores[budget] = self.held_out_acc(self.student(teacher, METHODS[0], shape, 42, **recipe))
        best = max(candidates, key=scores.get)
        self.choices.setdefault("budget_holdout_acc", {})[shape] = scores  # new: a candidate had no score
        self.choices.setdefault("budget", {})[shape] = best
        self.save()
        return best

    def shape_budget(self, teacher: Path, ask: str) -> str | None:
        """The budget this ask's students are made at: the budget candidates compared again at the ask's chosen
        shape, when that is not `--speedup`'s (where the budget was chosen, before the shape): a budget that
        suits one shape need not suit another (MRPC 2x: 2L-384 tied the long and full budgets, 0.763 and 0.760
        held-out; 4L-312, chosen at the long one, scored 0.801 there and 0.831 at the full one)."""
        shape = self.shape(teacher, ask)
        return None if shape is None else self.budget(teacher, ask, shape)

    def start(self, teacher: Path, ask: str) -> str | None:
        """For this ask, how the student starts (`distill --student-init`): TinyBERT's own start (the teacher
        layers its layer map imitates: a 1-layer student is the teacher's top layer on the embeddings) or the
        teacher's lowest layers (PKD's start: the student first computes what the teacher's first layers do),
        each cut to the student's width; whichever TinyBERT student of `distill --speedup`'s shape (seed 42,
        the ask's balance and budget) scores better on the held-out slice; None until both have run. Recorded
        by shape. A task with one start candidate takes it, untried."""
        if len(self.spec.starts) == 1:
            return self.spec.starts[0]
        shape, balance, budget = self.shapes(teacher)[ask], self.balance(teacher, ask), self.budget(teacher, ask)
        chosen = self.choices.setdefault("start", {})
        if shape not in chosen:
            if balance is None or budget is None or not self.time_left():
                return None
            recipe = dict(budget=budget, balance=balance)
            scores = {start: self.held_out_acc(self.student(teacher, METHODS[0], shape, 42, **recipe, start=start))
                      for start in self.spec.starts}  # fmt: skip
            chosen[shape] = max(scores, key=scores.get)  # the method's own start on a tie: listed first
            self.choices.setdefault("start_holdout_acc", {})[shape] = scores
            self.save()
        return chosen[shape]

    def shape(self, teacher: Path, ask: str) -> str | None:
        """For this ask, `distill --speedup`'s shape or one of the other candidates (see other_shapes), whichever
        TinyBERT student (seed 42, the ask's budget, balance and start) scores best on the held-out slice; None
        until known. Recorded with the candidates' scores: a candidate added later (a new kind) is run and
        compared with the recorded scores, which stand (their runs are not made again), except where the
        candidate's run at the ask's current recipe is made: a score recorded before the budget or balance was
        re-chosen would compare a candidate at an old recipe with one at the new."""
        picked = self.shapes(teacher)[ask]
        others = [self.other_shapes(teacher, kind)[ask] for kind in OTHER_SHAPES]
        candidates = list(dict.fromkeys(shape for shape in (picked, *others) if shape))
        if len(candidates) == 1:
            return picked
        chosen = self.choices.setdefault("shape", {})
        recorded = self.choices.get("shape_holdout_acc", {}).get(ask, {})
        budget, balance, start = self.budget(teacher, ask), self.balance(teacher, ask), self.start(teacher, ask)
        recipe = dict(budget=budget, balance=balance, start=start)
        known = budget is not None and balance is not None and start is not None
        runs = {shape: self.run_path(METHODS[0], shape, 42, **recipe) for shape in candidates} if known else {}
        scores = {**recorded, **{shape: self.held_out_acc(run) for shape, run in runs.items() if self.made(run)}}
        missing = [shape for shape in candidates if shape not in scores]
        if missing and (not known or not self.time_left()):
            return None
        for shape in missing:
            scores[shape] = self.held_out_acc(self.student(teacher, METHODS[0], shape, 42, **recipe))
        if scores != recorded or ask not in chosen:
            chosen[ask] = max(scores, key=scores.get)
            self.choices.setdefault("shape_holdout_acc", {})[ask] = scores
            self.save()
        return chosen[ask]

    def method(self, teacher: Path) -> str | None:
        """The method whose 4x student (seed 42, its chosen shape, budget, balance and start) scores best on the
        held-out slice (None until each has run)."""
        if "method" not in self.choices:
            shape, balance = self.shape(teacher, "4x"), self.balance(teacher, "4x")
            budget = self.shape_budget(teacher, "4x")
            start = self.start(teacher, "4x")
            if shape is None or budget is None or not self.time_left():
                return None
            recipe = dict(budget=budget, balance=balance, start=start)
            runs = {name: self.student(teacher, name, shape, 42, **recipe) for name in METHODS}
            scores = {name: self.held_out_acc(run) for name, run in runs.items()}
            self.choices["method"] = max(scores, key=scores.get)
            self.choices["method_holdout_acc"] = scores
            self.save()
        return self.choices["method"]

    def student(
        self,
        teacher: Path,
        method: str,
        shape: str,
        seed: int,
        lrs=None,
        budget: str = "matched",
        balance=False,
        start: str = "auto",
    ) -> Path:
        """A student of this shape by this method, at STUDENT_LRS (or `lrs`: then named for them), at the
        task's budget (or `budget` "long": TaskStudy.long_second_epochs; "full": that after a first stage of
        TaskStudy.full_first_epochs; named for it), with `distill --balance-classes` when `balance` (named),
        starting as `distill --student-init` says (named when not the method's own)."""
        run = self.run_path(method, shape, seed, lrs, budget, balance, start)
        if run.name in self.records and not finished(run):
            return run  # made and recorded by an earlier session: its folder went with that machine
        if not finished(run):
            data = self.training_data(budget)
            rows = len(read_table(data.train_path))
            first, second = self.spec.stage_epochs or (n / rows for n in self.spec.stage_examples)
            if budget in ("all", "aug") and self.spec.stage_epochs:  # the examples "matched" takes, from more rows
                first, second = (epochs * len(read_table(self.plain.train_path)) / rows for epochs in (first, second))
            first_lr, second_lr = lrs or STUDENT_LRS
            options = {"intermediate_epochs": first, "intermediate_lr": first_lr}
            recipe = DistillSettings(method=method, student=shape, init=start, options=options, balance_classes=balance)
            settings = replace(self.base, epochs=second, lr=second_lr, seed=seed)
            if budget in ("long", "full"):
                settings = replace(settings, epochs=self.spec.long_second_epochs, eval_steps=self.spec.eval_steps_long)
            if budget == "full":
                options["intermediate_epochs"] = self.spec.full_first_epochs
            carried = training_seconds(run)  # what an interrupted invocation had checkpointed
            self.timed(run.name, lambda: distill(data, teacher, run, settings, recipe, resume=True), carried)
        self.timed(f"{run.name} int8", lambda: self.shipped(run))
        self.record(run)
        return run

    def run_path(self, method: str, shape: str, seed: int, lrs=None, budget="matched", balance=False, start="auto"):
        """Where `student` keeps this recipe's run (see Recipe), one folder per seed."""
        recipe = Recipe(method, shape, budget, published_lrs=lrs is not None, balance=balance, start=start)
        return self.work / f"{recipe.name}-{seed}"

    def static(self) -> None:
        """The static baseline, fitted once (the regression's L2 chosen on the held-out slice)."""
        path = self.work / "static.pt"
        if path.is_file():
            return
        encoder = base_encoder()
        tokenizer = load_tokenizer(encoder)
        length = max_length_for(self.plain, None)
        train_set, holdout_set, _ = split_for_selection(self.plain, tokenizer, length, self.base)
        special = tokenizer.all_special_ids
        table = static_table(piece_vectors(encoder, tokenizer), [train_set.fields["input_ids"]], special)
        pair = len(self.plain.spec.text_columns) == 2
        fit = fit_static(table, special, pair, self.plain.scheme.num_outputs, train_set, holdout_set)
        dev_set = self.plain.encode(self.plain.dev_paths[0], tokenizer, length)
        record = {
            "l2": fit.l2,
            "holdout_acc_by_l2": fit.holdout_acc_by_l2,
            "dev": evaluate(fit.model, dev_set, self.plain.spec.metrics),
            "pair": pair,
        }
        torch.save({"state": fit.model.state_dict(), "record": record, "special": special}, path)

    def load_static(self) -> tuple[StaticClassifier, dict]:
        saved = torch.load(self.work / "static.pt")
        table = saved["state"]["table.weight"].numpy()
        model = StaticClassifier(table, saved["special"], saved["record"]["pair"], self.plain.scheme.num_outputs)
        model.load_state_dict(saved["state"])
        return model.eval(), saved["record"]

    # -- data ---------------------------------------------------------------------------------------

    def _plain_task(self):
        if self.spec.train_rows is None:
            return glue_task_data(self.spec.name)
        folder = self.work / "glue" / self.spec.name
        if not (folder / "train.tsv").is_file():  # the same subsample on every machine: a seeded choice of lines
            folder.mkdir(parents=True, exist_ok=True)
            header, lines, chosen = self._source_lines()
            write_text_atomic(folder / "train.tsv", header + "".join(lines[i] for i in chosen))
            (folder / "dev.tsv").write_bytes((SHARED_DIR / "data" / "glue" / self.spec.name / "dev.tsv").read_bytes())
        return glue_task_data(self.spec.name, folder.parent)

    def _source_lines(self) -> tuple[str, list[str], list[int]]:
        """The task's GLUE training file (header, lines) and the lines of its seeded subsample, in order."""
        source = SHARED_DIR / "data" / "glue" / self.spec.name / "train.tsv"
        header, *lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        return header, lines, sorted(np.random.default_rng(0).permutation(len(lines))[: self.spec.train_rows])

    def all_rows(self) -> TaskData:
        """The "all" budget's training data: every training row of the task, laid out as `augment` lays out its
        copies, each subsample row (the teacher's training data) followed by the rows that come after it in
        the GLUE file (those before the first, after the first): so the held-out slice is the same examples
        as the subsample's, and no row of the task outside the subsample can be one of them. A row whose text is
        a subsample row's is left out (it would be a held-out example, or a second copy)."""
        path = self.work / "glue-all" / self.spec.name / "train.tsv"
        if not path.is_file():
            header, lines, chosen = self._source_lines()
            taken = {_phrase(lines[i]) for i in chosen}
            owner = np.maximum(np.searchsorted(chosen, np.arange(len(lines)), side="right") - 1, 0)
            after = [[] for _ in chosen]
            for index, line in enumerate(lines):
                if _phrase(line) not in taken:
                    after[owner[index]].append(line)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, header + "".join(lines[i] + "".join(rest) for i, rest in zip(chosen, after)))
        return replace(self.plain, train_path=path)

    def long_augmented(self) -> TaskData:
        """The "aug" budget's training data: the subsample, each phrase of at least AUG_MIN_WORDS words followed by
        AUG_COPIES copies from `augment` (the demo masked-LM): sentence-length transfer data, where the training
        phrases are far shorter than the dev sentences. Copies follow their phrase, so the held-out slice and
        its copies stay out of training as with MRPC's augmented set."""
        folder = self.work / "glue-aug" / self.spec.name
        path = folder / "train.tsv"
        if not path.is_file():
            header, *lines = self.plain.train_path.read_text(encoding="utf-8").splitlines(keepends=True)
            long = [line for line in lines if len(_phrase(line).split()) >= AUG_MIN_WORDS]
            folder.mkdir(parents=True, exist_ok=True)
            write_text_atomic(folder / "long.tsv", header + "".join(long))
            config = AugmentConfig.of(n=AUG_COPIES, dtype=PRECISION)
            columns, fmt = list(self.plain.spec.text_columns), format_for(self.plain.train_path)
            made = folder / "long_aug.tsv"
            self.timed(
                "augment",
                partial(augment_file, folder / "long.tsv", made, columns, config, fmt=fmt, label_column="label"),
            )
            augmented = replace(self.plain, train_path=made, original_train_path=folder / "long.tsv")
            owners, _ = augmented.example_of_each_row()
            copies = [[] for _ in long]  # each long phrase's lines in the augmented file: itself, then its copies
            for owner, line in zip(owners, made.read_text(encoding="utf-8").splitlines(keepends=True)[1:]):
                copies[owner].append(line)
            if [group[0] for group in copies] != long:
                raise RuntimeError(f"{made}: its originals are not {folder / 'long.tsv'}'s lines, byte for byte")
            following, long_lines = iter(copies), set(long)
            merged = ("".join(next(following)) if line in long_lines else line for line in lines)
            write_text_atomic(path, header + "".join(merged))
        return replace(self.plain, train_path=path)

    def training_data(self, budget: str = "matched"):
        if budget == "all":
            return self.all_rows()
        if budget == "aug":
            return self.long_augmented()
        if not self.spec.augmented:
            return self.plain
        path = self.quality_work / "train_aug.tsv"  # the quality study's augmented set (demo masked-LM, N=20)
        if not path.is_file():
            self.quality_work.mkdir(parents=True, exist_ok=True)
            columns, fmt = list(self.plain.spec.text_columns), format_for(self.plain.train_path)
            label = self.spec.label_column
            self.timed(
                "augment",
                lambda: augment_file(
                    self.plain.train_path,
                    path,
                    columns,
                    AugmentConfig.of(n=20, dtype=PRECISION),
                    fmt=fmt,
                    label_column=label,
                ),
            )
        return replace(self.plain, train_path=path)

    def dev_set(self, model: Path):
        return self.plain.encode(self.plain.dev_paths[0], load_tokenizer(model), max_length_for(self.plain, None))

    # -- bookkeeping --------------------------------------------------------------------------------

    def timed(self, name: str, make, carried: float = 0.0) -> None:
        """Record how long `make` took, plus `carried` seconds an earlier, interrupted invocation spent on it."""
        started = time.perf_counter()
        make()
        if name not in self.seconds and time.perf_counter() - started > 1:  # reused work is not timed again
            self.seconds[name] = carried + time.perf_counter() - started
            (self.work / "seconds.json").write_text(json.dumps(self.seconds, indent=1))

    def made(self, run: Path) -> bool:
        """Whether a student run is finished here or was recorded by an earlier session."""
        return finished(run) or run.name in self.records

    def held_out_acc(self, run: Path) -> float:
        """A student run's accuracy on the held-out slice: from its folder, else from its record."""
        return held_out(run)["accuracy"] if finished(run) else self.records[run.name]["holdout_acc"]

    def record(self, run: Path) -> None:
        """A finished, shipped student run's figures, recorded (and committed with the study's results) so that a
        later session that lost the folder still has them: held-out and dev (the int8 export's) figures, shape,
        size, and the dev accuracy of the teacher it learned from (a teacher re-made by the same recipe can
        differ)."""
        if run.name not in self.records:
            int8 = run.parent / f"{run.name}-int8"
            self.records[run.name] = {
                "holdout_acc": held_out(run)["accuracy"],
                "dev": dev(int8),
                "shape": shape_of(run),
                "disk_mb": weights_mb(int8),
                "teacher_dev_acc": dev(self.teacher_path())["accuracy"],
            }
            self.save()

    def save(self) -> None:
        """The choices (also in the work folder), timings and run figures, in the committed record (whose speeds
        and settings only a render writes)."""
        (self.work / "choices.json").write_text(json.dumps(self.choices, indent=1))
        path = RESULTS / "frontier_runs.json"
        committed = load_json(path)
        committed.setdefault(self.spec.name, {}).update(choices=self.choices, seconds=self.seconds, runs=self.records)
        path.write_text(json.dumps(committed, indent=2) + "\n")

    # -- rendering ----------------------------------------------------------------------------------

    def render(self, page: Path, measure: bool) -> None:
        from bench.frontier_report import render_task

        render_task(self, page, measure)


if __name__ == "__main__":
    main()
