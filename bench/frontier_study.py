"""One task of the frontier study, put together from its parts: its training sets (bench/frontier_data.py),
its record (bench/frontier_record.py), its runs of the library (bench/frontier_jobs.py) and its choices
(bench/frontier_choices.py), run in order by `FrontierStudy.run`. The report (bench/frontier_report.py)
takes a study and reads it; the study never imports the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bench.frontier_choices import Choices, SpeedupShapes
from bench.frontier_data import TrainingSets
from bench.frontier_jobs import Library, StudyJobs
from bench.frontier_record import StudyRecord
from bench.frontier_spec import ASKS, CLAIM_SEEDS, RESULTS, TaskStudy


class FrontierStudy:
    """A task's study in `work`. Its collaborators come in as arguments, each with the real one as default:
    `time_left()` (whether a new run may start), `results` (the committed record's folder), `library` (the
    library jobs its runs call), `make_student` (what makes a student run for a choice: by default the study's
    own `jobs.student`) and `clock` (what times each step)."""

    def __init__(
        self,
        spec: TaskStudy,
        work: Path,
        quality_work: Path,
        time_left: Callable[[], bool],
        *,
        results: Path = RESULTS,
        library: Library = Library(),
        make_student: Callable[..., Path] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.spec, self.work, self.quality_work = spec, work, quality_work
        self.time_left, self.results = time_left, results
        self.work.mkdir(parents=True, exist_ok=True)
        self.record = StudyRecord(spec.name, work, results, clock)
        self.data = TrainingSets(spec, work, quality_work, self.record.timed)
        self.jobs = StudyJobs(spec, work, quality_work, self.data, self.record, time_left, library)
        self.shapes = SpeedupShapes(self.data, self.record)
        student = make_student or self.jobs.student
        self.choose = Choices(spec, self.record, self.shapes, student, self.jobs.run_path, time_left)

    def run(self, seeds: tuple[int, ...]) -> None:
        """Teacher, its int8 export, the static baseline and the shapes; with the first seed alone, the
        candidates of each choice (class balance, budget, start, shape, method: each chosen on the held-out
        slice at seed 42, in that order); with all seeds, the chosen recipe's student for each ask. A choice
        recorded in choices.json stays, whatever was chosen after it (the record says what each was chosen
        with)."""
        teacher = self.jobs.teacher()
        if teacher is None:
            return
        self.record.timed("teacher int8", lambda: self.jobs.shipped(teacher))
        self.record.timed("static", self.jobs.static)
        if not self.time_left():
            return
        self.shapes.picked(teacher)  # timed and recorded before any student
        if seeds == CLAIM_SEEDS[:1]:
            self._choose(teacher)
            return
        choose = self.choose
        for seed in seeds:
            method = choose.method(teacher)
            for ask in ASKS:
                balance, start = choose.balance(teacher, ask), choose.start(teacher, ask)
                budget, shape = choose.shape_budget(teacher, ask), choose.shape(teacher, ask)
                if method and shape and budget and start and balance is not None and self.time_left():
                    choose.student(teacher, method, shape, seed, budget=budget, balance=balance, start=start)

    def _choose(self, teacher: Path) -> None:
        """Every choice's candidates at seed 42, the fastest students first: the most evidence per hour."""
        choose = self.choose
        choose.rates(teacher)
        for choice in (choose.balance, choose.budget, choose.start, choose.shape, choose.shape_budget):
            for ask in reversed(ASKS):
                choice(teacher, ask)
        choose.method(teacher)
