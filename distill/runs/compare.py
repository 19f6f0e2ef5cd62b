"""Comparing finished runs, as a study's table does: a recipe's runs over seeds summed up (each dev figure's
mean and sample spread, the mean held-out accuracy), the floor a model is measured from (the majority
class), the share of the teacher's gain over that floor a model keeps, and its speed against another's.

    summary = summarize_runs(folders)              # one recipe, one run folder per seed
    kept = gain_kept(summary.mean["accuracy"], majority_figures(task)["accuracy"], teacher_accuracy)
    faster = throughput_ratio(student_speed, teacher_speed)   # as `cpu_speed` measures them
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from data import compute_metrics, read_table

from .finished import FinishedRun


@dataclass(frozen=True)
class SeedSummary:
    """A recipe's runs summed up over their seeds: `mean` and `spread` (sample standard deviation, None with
    one seed: one run has no spread) of each dev metric every run reports, and the mean held-out accuracy
    (None when no run has one, as an exported folder has not)."""

    seeds: int
    mean: dict[str, float]
    spread: dict[str, float | None]
    held_out: float | None


def summarize(dev: Sequence[dict], held_out: Sequence[float] = ()) -> SeedSummary:
    """The summary of one recipe's dev figures (one dict per seed, in seed order) and held-out accuracies.
    A metric that some seed lacks is left out: a mean over fewer seeds would not be the row's."""
    if not dev:
        raise ValueError("no runs to sum up")
    metrics = [name for name in dev[0] if all(name in figures for figures in dev)]
    values = {name: [figures[name] for figures in dev] for name in metrics}
    return SeedSummary(
        seeds=len(dev),
        mean={name: statistics.mean(found) for name, found in values.items()},
        spread={name: statistics.stdev(found) if len(found) > 1 else None for name, found in values.items()},
        held_out=statistics.mean(held_out) if held_out else None,
    )


def summarize_runs(folders: Iterable[Path]) -> SeedSummary:
    """The summary of finished run folders (or exported folders: their dev figures are the shipped graph's,
    and they have no held-out figure of their own)."""
    runs = [FinishedRun(folder) for folder in folders]
    return summarize([run.dev() for run in runs], [run.held_out()["accuracy"] for run in runs if run.finished])


def gain_kept(score: float, floor: float, teacher: float) -> float:
    """The share of what the teacher learned beyond the floor (the majority class) that a model keeps:
    (score - floor) / (teacher - floor); 1.0 is the teacher's own score, 0.0 the floor's."""
    return (score - floor) / (teacher - floor)


def majority_figures(task) -> dict[str, float]:
    """The task's dev figures (its own metrics) of predicting its training set's most frequent label for every
    dev example: the floor `gain_kept` measures from. `task` is a `distill.TaskData` with a label column."""
    column = task.spec.label_column
    label = read_table(task.original_train_path)[column].astype(str).value_counts().idxmax()
    ids = {name: index for index, name in enumerate(task.scheme.labels)}
    truth = read_table(task.dev_paths[0])[column].astype(str).map(ids).to_numpy()
    return compute_metrics(task.spec.metrics, truth * 0 + ids[label], truth)


def throughput_ratio(speed: dict | None, reference: dict | None) -> float | None:
    """How many times `reference`'s examples per second at batch 32 a model reaches (both as `cpu_speed`
    measures them); None when either was not measured."""
    if not speed or not reference:
        return None
    return speed["examples_per_s_batch32"] / reference["examples_per_s_batch32"]


def latency_ratio(speed: dict | None, reference: dict | None) -> float | None:
    """How many times faster than `reference` a model answers one example (batch 1 latency); None when either
    was not measured."""
    if not speed or not reference:
        return None
    return reference["latency_ms_batch1"] / speed["latency_ms_batch1"]
