"""What the frontier study keeps of itself across sessions: its choices, its timings and each finished
student's figures, in the work folder and in the committed bench/results/frontier_runs.json. A session whose
machine took the work folder starts again from the committed record, not from scratch."""

from __future__ import annotations

import json
import time
from pathlib import Path

from distill import weights_mb
from distill.runs import FinishedRun, read_json

ROWS_FILE = "frontier.json"  # in the results folder: one object per row of every task's table
RUNS_FILE = "frontier_runs.json"  # in the results folder: each task's choices, timings, speeds and runs


class StudyRecord:
    """One task's record. `clock` (seconds, as `time.perf_counter` counts them) times each step once."""

    def __init__(self, task: str, work: Path, results: Path, clock=time.perf_counter):
        self.task, self.work, self.results, self.clock = task, work, results, clock
        committed = read_json(results / RUNS_FILE).get(task, {})
        self.choices: dict = read_json(work / "choices.json") or committed.get("choices", {})
        self.seconds: dict[str, float] = {**committed.get("seconds", {}), **read_json(work / "seconds.json")}
        self.runs: dict[str, dict] = committed.get("runs", {})  # each finished student's figures, by run name
        self.committed_speeds: dict = committed.get("speeds", {})  # a render that measures nothing reuses them

    def timed(self, name: str, make, carried: float = 0.0) -> None:
        """Record how long `make` took, plus `carried` seconds an earlier, interrupted invocation spent on it."""
        started = self.clock()
        make()
        if name not in self.seconds and self.clock() - started > 1:  # reused work is not timed again
            self.seconds[name] = carried + self.clock() - started
            (self.work / "seconds.json").write_text(json.dumps(self.seconds, indent=1))

    def made(self, run: Path) -> bool:
        """Whether a student run is finished here or was recorded by an earlier session."""
        return FinishedRun(run).finished or run.name in self.runs

    def held_out_acc(self, run: Path) -> float:
        """A student run's accuracy on the held-out slice: from its folder, else from its record."""
        if FinishedRun(run).finished:
            return FinishedRun(run).held_out()["accuracy"]
        return self.runs[run.name]["holdout_acc"]

    def add(self, run: Path, teacher: Path) -> None:
        """A finished, shipped student run's figures, recorded (and committed with the study's results) so that a
        later session that lost the folder still has them: held-out and dev (the int8 export's) figures, shape,
        size, and the dev accuracy of the teacher it learned from (a teacher re-made by the same recipe can
        differ)."""
        if run.name not in self.runs:
            int8 = run.parent / f"{run.name}-int8"
            self.runs[run.name] = {
                "holdout_acc": FinishedRun(run).held_out()["accuracy"],
                "dev": FinishedRun(int8).dev(),
                "shape": FinishedRun(run).shape(),
                "disk_mb": weights_mb(int8),
                "teacher_dev_acc": FinishedRun(teacher).dev()["accuracy"],
            }
            self.save()

    def save(self) -> None:
        """The choices (also in the work folder), timings and run figures, in the committed record (whose speeds
        and settings only a render writes)."""
        (self.work / "choices.json").write_text(json.dumps(self.choices, indent=1))
        path = self.results / RUNS_FILE
        committed = read_json(path)
        committed.setdefault(self.task, {}).update(choices=self.choices, seconds=self.seconds, runs=self.runs)
        path.write_text(json.dumps(committed, indent=2) + "\n")

    def save_render(self, seconds: dict, speeds: dict, spec: str) -> None:
        """What a render committed: the task's record in full, with every timing (`seconds`, the quality
        study's included), the speeds measured and the task's spec, replacing the task's earlier one."""
        path = self.results / RUNS_FILE
        committed = read_json(path)
        committed[self.task] = {
            "choices": self.choices,
            "seconds": seconds,
            "speeds": speeds,
            "spec": spec,
            "runs": self.runs,
        }
        path.write_text(json.dumps(committed, indent=2) + "\n")
