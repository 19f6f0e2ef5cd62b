"""The MRPC quality study's results from every finished run (bench/mrpc_quality_study.py makes them; the
report takes the study and reads it): a row per recipe over its seeds, the held-out slice's pick also as
shipped, CPU speeds per model shape, the claimed orders seed by seed with their paired standard errors;
written to bench/results/ (mrpc_quality.json, mrpc_quality_runs.json, mrpc_quality.md, the plots) and
into the results page between its `mrpc-quality` and `mrpc-paired` markers."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np

from bench.mrpc_quality_recipes import CLAIM_SEEDS, CLAIMED_ORDER, RECIPES, recipe_settings, teacher_settings
from bench.pages import render_into_page
from bench.quality_tables import (
    majority_row,
    markdown_table,
    paired_markdown,
    plot_curves,
    plot_speed,
    quality_row,
    seed_of,
    speed_key,
)
from data.hardware import resolve_device, resolve_precision
from distill import HOLDOUT_SEED, cpu_speed, load_classifier, load_teacher, load_tokenizer, max_length_for, predict
from distill.runs import FinishedRun, read_json

RESULTS = Path(__file__).resolve().parent / "results"


def render(study, teacher: Path, page: Path, measure: bool = False, results: Path = RESULTS) -> None:
    """Rows from every finished run; CPU speeds per model shape and the paired comparisons, measured side by
    side when `measure` (else the last measured ones)."""
    runs = finished_runs(study)
    settings = {name: recipe_settings(RECIPES[name]) for name in runs}
    chosen = chosen_recipe(runs)
    if chosen:  # the held-out slice's pick also gets a row as shipped
        runs[f"{chosen}_int8"] = [study.shipped(path) for path in runs[chosen]]
        settings[f"{chosen}_int8"] = {**settings[chosen], "shipped": "cli.py export: ONNX int8, ONNX Runtime"}
    speeds_file, paired_file = study.work / "speeds.json", study.work / "paired.json"
    if measure:
        models = {"teacher": teacher, "teacher int8": study.shipped(teacher)}
        speeds = _speeds(study.plain, {**models, **{speed_key(p[0]): p[0] for p in runs.values()}})
        speeds_file.write_text(json.dumps(speeds, indent=1))
        paired_file.write_text(json.dumps(paired(study, teacher, runs), indent=1))
    speeds, found = read_json(speeds_file), read_json(paired_file) or []
    majority = majority_row(study.plain)
    teacher_row = quality_row("teacher", [teacher], speeds, majority, None, teacher_settings(study.work, teacher))
    rows = [majority, teacher_row]
    rows += [quality_row(name, paths, speeds, majority, teacher_row, settings[name]) for name, paths in runs.items()]
    table, pairs = markdown_table(rows), paired_markdown(found, CLAIM_SEEDS)
    _write_results(results, rows, runs, study.seconds, speeds, found, table + "\n" + pairs)
    render_into_page(page, "mrpc-quality", table)
    render_into_page(page, "mrpc-paired", pairs)
    print(table + "\n" + pairs, flush=True)


def finished_runs(study) -> dict[str, list[Path]]:
    """Each recipe's finished runs, seeds in order; recipes with none left out."""
    runs = {
        name: [study.run_path(name, seed) for seed in recipe.seeds if FinishedRun(study.run_path(name, seed)).finished]
        for name, recipe in RECIPES.items()
    }
    return {name: paths for name, paths in runs.items() if paths}


def chosen_recipe(runs: dict[str, list[Path]]) -> str | None:
    """The recipe the held-out slice picks: the best mean held-out accuracy among the rows with every
    claim seed (one seed is not compared with three)."""
    complete = {name: paths for name, paths in runs.items() if len(paths) == len(CLAIM_SEEDS)}
    if not complete:
        return None
    return max(
        complete, key=lambda name: statistics.mean(FinishedRun(path).held_out()["accuracy"] for path in complete[name])
    )


def paired(study, teacher: Path, runs: dict[str, list[Path]]) -> list[dict]:
    """Each claimed order, seed by seed, on the same dev and held-out examples: the accuracy difference
    and its paired standard error sqrt(b + c) / n (b, c: examples only one of the two gets right). The
    seed spread leaves out the sampling error of a fixed 408- or 367-pair slice; this measures it."""
    plain = study.plain
    tokenizer, length = load_tokenizer(teacher), max_length_for(plain, None)
    _, held = plain.holdout_split(study.base.holdout, HOLDOUT_SEED)
    slices = {
        "dev": plain.encode(plain.dev_paths[0], tokenizer, length),
        "held-out": plain.encode(plain.train_path, tokenizer, length).subset(held),
    }
    right: dict[tuple[Path, str], np.ndarray] = {}  # a run takes part in up to two claims: scored once

    def scored(run: Path) -> None:
        if (run, "dev") not in right:
            model = load_teacher(run, plain.scheme)
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
            claim, seed = f"{better} > {worse}", seed_of(first)
            found += [_pair(claim, seed, name, right[first, name], right[second, name]) for name in slices]
    return found


def _pair(claim: str, seed: int, where: str, one: np.ndarray, other: np.ndarray) -> dict:
    """One claim at one seed on one slice, from which examples each of the two runs gets right."""
    only_first, only_second = int((one & ~other).sum()), int((other & ~one).sum())
    return {
        "claim": claim,
        "seed": seed,
        "slice": where,
        "examples": len(one),
        "difference": (only_first - only_second) / len(one),
        "paired_se": (only_first + only_second) ** 0.5 / len(one),
        "only_first_right": only_first,
        "only_second_right": only_second,
    }


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


def _write_results(results: Path, rows, runs, seconds, speeds, found, markdown: str) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / "mrpc_quality.json").write_text(json.dumps(rows, indent=2) + "\n")
    common = {
        "task": "MRPC (GLUE train 3,668 pairs, of which 367 held out for selection; dev 408 pairs)",
        "selection": "best held-out accuracy of the evaluations (every 40 steps); dev only reports",
        "precision": resolve_precision("auto", resolve_device("auto")) + " autocast for training (auto); CPU "
        "speeds in fp32, batch 32, one model per shape",
        "batch_size": 32,
        "max_seq_length": 128,
    }
    result = {"common": common, "seconds": seconds, "cpu": speeds, "selection": _selections(runs), "paired": found}
    (results / "mrpc_quality_runs.json").write_text(json.dumps(result, indent=2) + "\n")
    (results / "mrpc_quality.md").write_text(markdown)
    plot_curves(runs, results / "mrpc_dev_f1.png")
    if speeds:
        plot_speed(speeds, results / "mrpc_speed.png")


def _selections(runs) -> dict:
    """Which checkpoint each finished run kept, and on what."""
    return {
        path.name: FinishedRun(path).report()["selection"]
        for paths in runs.values()
        for path in paths
        if FinishedRun(path).finished
    }
