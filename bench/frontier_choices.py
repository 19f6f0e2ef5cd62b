"""The frontier study's choices, each made on the held-out slice from seed-42 TinyBERT students and recorded
in choices.json with the scores it was made from: for each ask, the class balance, the budget, the start, the
shape (among `distill --speedup`'s pick and the other candidates, `SpeedupShapes`), then the method at 4x.
A recorded choice stays, whatever was chosen after it; a candidate added later is run and compared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.frontier_data import TrainingSets
from bench.frontier_record import StudyRecord
from bench.frontier_spec import ASKS, METHODS, OTHER_SHAPES, PUBLISHED_LRS, SPEEDUPS, TaskStudy
from data import InputError
from distill import load_teacher
from distill.shipping.speedup import Int8Timer, shape_for_speedup


class SpeedupShapes:
    """The shapes `distill --speedup X` picks for each ask, as asked and as each of OTHER_SHAPES asks, timed
    once here (int8, on the task's dev examples) and recorded: a rerun keeps them."""

    def __init__(self, data: TrainingSets, record: StudyRecord):
        self.data, self.record = data, record

    def picked(self, teacher: Path) -> dict[str, str]:
        """`distill --speedup X`'s shape for each X."""
        choices = self.record.choices
        if "shapes" not in choices:
            config = load_teacher(teacher, self.data.plain.scheme).config
            with Int8Timer() as timer:  # each shape's graph built once for the three asks
                sample = self.data.dev_set(teacher)
                found = {f"{x:g}x": shape_for_speedup(x, config, sample, throughput=timer) for x in SPEEDUPS}
            choices["shapes"] = {name: choice.shape for name, choice in found.items()}
            choices["shape_timing"] = {name: choice.describe() for name, choice in found.items()}
            self.record.save()
        return choices["shapes"]

    def other(self, teacher: Path, kind: str) -> dict[str, str | None]:
        """For each ask, the shape `distill --speedup` picks when asked as OTHER_SHAPES[kind] says ("wide": the
        deepest of the teacher's own width, whose layers start as whole teacher layers; "deep": the deepest of
        any width; "balanced": the most layers x width), None when none is fast enough: shape candidates beside
        its own pick."""
        choices = self.record.choices
        if f"{kind}_shapes" not in choices:
            config = load_teacher(teacher, self.data.plain.scheme).config
            found, timing = {}, {}
            with Int8Timer() as timer:
                sample = self.data.dev_set(teacher)
                for ask, x in zip(ASKS, SPEEDUPS):
                    try:
                        choice = shape_for_speedup(x, config, sample, **OTHER_SHAPES[kind], throughput=timer)
                    except InputError as refusal:
                        found[ask], timing[ask] = None, str(refusal)
                    else:
                        found[ask], timing[ask] = choice.shape, choice.describe()
            choices[f"{kind}_shapes"], choices[f"{kind}_shape_timing"] = found, timing
            self.record.save()
        return choices[f"{kind}_shapes"]


class Choices:
    """One task's choices. `student(teacher, method, shape, seed, lrs=None, budget=, balance=, start=)` makes
    (or reuses) a student run and returns its folder; `run_path` names a recipe's folder without making it;
    `time_left()` says whether a new run may start. Each choice is None until its candidates have run."""

    def __init__(
        self,
        spec: TaskStudy,
        record: StudyRecord,
        shapes: SpeedupShapes,
        student: Callable[..., Path],
        run_path: Callable[..., Path],
        time_left: Callable[[], bool],
    ):
        self.spec, self.record, self.shapes = spec, record, shapes
        self.student, self.run_path, self.time_left = student, run_path, time_left

    @property
    def choices(self) -> dict:
        return self.record.choices

    def _score(self, teacher: Path, method: str, shape: str, **recipe) -> float:
        """The held-out accuracy of this seed-42 student, made when not made yet."""
        return self.record.held_out_acc(self.student(teacher, method, shape, 42, **recipe))

    def rates(self, teacher: Path) -> None:
        """The evidence behind STUDENT_LRS: the 4x shape's TinyBERT student (seed 42, matched budget) at the
        published stage rates and at STUDENT_LRS, scored on the held-out slice once and recorded."""
        if "lrs_holdout_acc" not in self.choices and self.time_left():
            shape = self.shapes.picked(teacher)["4x"]
            runs = {"published": self.student(teacher, METHODS[0], shape, 42, lrs=PUBLISHED_LRS),
                    "study": self.student(teacher, METHODS[0], shape, 42)}  # fmt: skip
            self.choices["lrs_holdout_acc"] = {name: self.record.held_out_acc(run) for name, run in runs.items()}
            self.record.save()

    def balance(self, teacher: Path, ask: str) -> bool | None:
        """For this ask, whether `--balance-classes` (teacher classes weighed towards the labelled shares)
        scores better on the held-out slice: TinyBERT students of `distill --speedup`'s shape at the task's
        first budget, seed 42, with and without. Off for unaugmented data (the teacher's shares there are the
        labelled ones, near enough). Recorded by shape."""
        if not self.spec.augmented:
            return False
        shape, chosen = self.shapes.picked(teacher)[ask], self.choices.setdefault("balance", {})
        if shape not in chosen:
            if not self.time_left():
                return None
            budget = self.spec.budgets[0]
            scores = [self._score(teacher, METHODS[0], shape, budget=budget, balance=on) for on in (False, True)]
            chosen[shape] = scores[1] > scores[0]
            self.choices.setdefault("balance_holdout_acc", {})[shape] = dict(zip(("off", "on"), scores))
            self.record.save()
        return chosen[shape]

    def budget(self, teacher: Path, ask: str, shape: str | None = None) -> str | None:
        """For this ask, the budget candidate whose TinyBERT student of `distill --speedup`'s shape (or `shape`;
        seed 42, the ask's balance, TinyBERT's own start, or for `shape` the ask's start) scores best on the
        held-out slice. The scores are read from the runs (each reused once finished) and recorded by shape, the
        choice kept once every candidate has a score: a candidate added later is run and compared."""
        candidates = self.spec.budgets
        if len(candidates) == 1:
            return candidates[0]
        picked = self.shapes.picked(teacher)[ask]
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
            if not self.record.made(self.run_path(METHODS[0], shape, 42, **recipe)) and not self.time_left():
                return None
            scores[budget] = self._score(teacher, METHODS[0], shape, **recipe)
        best = max(candidates, key=scores.get)
        self.choices.setdefault("budget_holdout_acc", {})[shape] = scores  # new: a candidate had no score
        self.choices.setdefault("budget", {})[shape] = best
        self.record.save()
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
        the ask's balance and budget) scores better on the held-out slice. Recorded by shape. A task with one
        start candidate takes it, untried."""
        if len(self.spec.starts) == 1:
            return self.spec.starts[0]
        shape, balance, budget = self.shapes.picked(teacher)[ask], self.balance(teacher, ask), self.budget(teacher, ask)
        chosen = self.choices.setdefault("start", {})
        if shape not in chosen:
            if balance is None or budget is None or not self.time_left():
                return None
            scores = {start: self._score(teacher, METHODS[0], shape, budget=budget, balance=balance, start=start)
                      for start in self.spec.starts}  # fmt: skip
            chosen[shape] = max(scores, key=scores.get)  # the method's own start on a tie: listed first
            self.choices.setdefault("start_holdout_acc", {})[shape] = scores
            self.record.save()
        return chosen[shape]

    def shape(self, teacher: Path, ask: str) -> str | None:
        """For this ask, `distill --speedup`'s shape or one of the other candidates (SpeedupShapes.other),
        whichever TinyBERT student (seed 42, the ask's budget, balance and start) scores best on the held-out
        slice. Recorded with the candidates' scores: a candidate added later (a new kind) is run and compared
        with the recorded scores, which stand (their runs are not made again), except where the candidate's run
        at the ask's current recipe is made: a score recorded before the budget or balance was re-chosen would
        compare a candidate at an old recipe with one at the new."""
        picked = self.shapes.picked(teacher)[ask]
        others = [self.shapes.other(teacher, kind)[ask] for kind in OTHER_SHAPES]
        candidates = list(dict.fromkeys(shape for shape in (picked, *others) if shape))
        if len(candidates) == 1:
            return picked
        chosen = self.choices.setdefault("shape", {})
        recorded = self.choices.get("shape_holdout_acc", {}).get(ask, {})
        budget, balance, start = self.budget(teacher, ask), self.balance(teacher, ask), self.start(teacher, ask)
        recipe = dict(budget=budget, balance=balance, start=start)
        known = budget is not None and balance is not None and start is not None
        runs = {shape: self.run_path(METHODS[0], shape, 42, **recipe) for shape in candidates} if known else {}
        made = {shape: self.record.held_out_acc(run) for shape, run in runs.items() if self.record.made(run)}
        scores = {**recorded, **made}
        missing = [shape for shape in candidates if shape not in scores]
        if missing and (not known or not self.time_left()):
            return None
        for shape in missing:
            scores[shape] = self._score(teacher, METHODS[0], shape, **recipe)
        if scores != recorded or ask not in chosen:
            chosen[ask] = max(scores, key=scores.get)
            self.choices.setdefault("shape_holdout_acc", {})[ask] = scores
            self.record.save()
        return chosen[ask]

    def method(self, teacher: Path) -> str | None:
        """The method whose 4x student (seed 42, its chosen shape, budget, balance and start) scores best on the
        held-out slice."""
        if "method" not in self.choices:
            shape, balance = self.shape(teacher, "4x"), self.balance(teacher, "4x")
            budget = self.shape_budget(teacher, "4x")
            start = self.start(teacher, "4x")
            if shape is None or budget is None or not self.time_left():
                return None
            recipe = dict(budget=budget, balance=balance, start=start)
            runs = {name: self.student(teacher, name, shape, 42, **recipe) for name in METHODS}
            scores = {name: self.record.held_out_acc(run) for name, run in runs.items()}
            self.choices["method"] = max(scores, key=scores.get)
            self.choices["method_holdout_acc"] = scores
            self.record.save()
        return self.choices["method"]
