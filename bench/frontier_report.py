"""The frontier study's rows and speeds for one task (bench/frontier_study.py makes the runs; the report
takes the study and reads it; bench/frontier_page.py draws the page from the rows).

A row per model: majority, teacher (PyTorch fp32), teacher int8, every student recipe that finished
(shipped as int8; the chosen method's rows carry 3 seeds), the static baseline. Speeds are measured
side by side in one process when asked (else the last measured ones are reused), on the task's real
dev examples; ratios are against the int8 teacher, the free alternative a student has to beat.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from bench.frontier_page import publish
from bench.frontier_record import ROWS_FILE
from bench.frontier_spec import OTHER_SHAPES, RESULTS, Recipe
from distill import cpu_speed, load_classifier, load_teacher, weights_mb
from distill.models.shapes import parse_shape, student_config
from distill.runs import FinishedRun, read_json
from distill.runs.compare import gain_kept, latency_ratio, majority_figures, summarize, throughput_ratio
from distill.shipping.speedup import Int8Timer


def render_task(study, page: Path, measure: bool) -> list[dict]:
    """The task's rows, written into the study's results folder and onto `page`; re-drawn from the committed
    rows where the teacher is gone."""
    teacher, task = study.jobs.teacher_path(), study.spec.name
    if not FinishedRun(teacher).finished:
        rows = committed_rows(task, study.results)
        if rows:
            print(
                f"{task}: no teacher at {teacher}: tables and chart re-drawn from the committed rows of "
                f"{study.results / ROWS_FILE} (nothing re-timed or re-scored)",
                flush=True,
            )
            publish(task, rows, page, study.results)
        return rows
    models = {"teacher": teacher}
    if FinishedRun(teacher.parent / f"{teacher.name}-int8").exported:
        models["teacher int8"] = teacher.parent / f"{teacher.name}-int8"
    students = _student_runs(study)
    for name, runs in students.items():  # timed on the first seed whose model is here (see _speeds)
        shipped = [study.work / f"{run}-int8" for run in runs]
        models[name] = next((path for path in shipped if path.is_dir()), shipped[0])
    speeds_file = study.work / "speeds.json"
    if measure:
        speeds_file.write_text(json.dumps(_speeds(study, teacher, models), indent=1))
    speeds = read_json(speeds_file) or study.record.committed_speeds
    rows = _rows(study, teacher, students, speeds)
    _write(rows, study, speeds)
    publish(task, rows, page, study.results)
    return rows


def committed_rows(task: str, results: Path = RESULTS) -> list[dict]:
    """The task's rows as the last render with its teacher wrote them: a checkout whose work folder is gone
    can still re-draw its tables and chart (after a change to how they are drawn) without re-making anything."""
    return [row for row in read_json(results / ROWS_FILE) or [] if row["task"] == task]


def _student_runs(study) -> dict[str, list[str]]:
    """Student run names by recipe ("tinybert-2L-192": ["tinybert-2L-192-42", ...]), seeds in order: the runs
    finished and shipped here (recorded now if an older invocation made them) and those an earlier session
    recorded."""
    for run in study.work.glob("*-*L-*-*"):
        if run.is_dir() and FinishedRun(run).finished and FinishedRun(run.parent / f"{run.name}-int8").exported:
            study.record.add(run, study.jobs.teacher_path())
    found: dict[str, list[str]] = {}
    for name in sorted(study.record.runs, key=lambda name: (name.rsplit("-", 1)[0], int(name.rsplit("-", 1)[1]))):
        found.setdefault(name.rsplit("-", 1)[0], []).append(name)
    return found


def _speeds(study, teacher: Path, models: dict[str, Path]) -> dict[str, dict]:
    """Batch-1 latency and batch-32 throughput of every model, one after another in this process. A student whose
    folder an earlier session's machine took is timed as a stand-in: its shape with random weights, shipped the
    same way (int8 speed does not depend on the weights' values); its speeds say so."""
    scheme = study.data.plain.scheme
    examples, teacher_config = study.data.dev_set(teacher), load_teacher(teacher, scheme).config
    speeds = {}
    with Int8Timer() as timer:
        for name, path in models.items():
            if path.is_dir():
                speeds[name] = cpu_speed(load_classifier(path, scheme), examples, repeats=9)
            else:
                config = student_config(teacher_config, *parse_shape(Recipe.parse(name).shape))
                speeds[name] = {**cpu_speed(timer.graph(config, examples), examples, repeats=9), "stand_in": True}
    static = FinishedRun(study.jobs.static_path())
    if static.finished:
        speeds["static"] = cpu_speed(load_classifier(static.folder, scheme), examples, repeats=9)
    return speeds


def _seconds(study) -> dict[str, float]:
    """Every timing of this task's runs; MRPC's teacher and augmentation were timed by the quality study."""
    quality = read_json(study.quality_work / "seconds.json") if study.spec.name == "MRPC" else {}
    shared = {"teacher": quality.get(f"teacher-lr{study.spec.teacher_lr:g}"), "augment": quality.get("augment aug")}
    return {**{k: v for k, v in shared.items() if v}, **study.record.seconds}


def _rows(study, teacher: Path, students: dict[str, list[str]], speeds: dict) -> list[dict]:
    seconds, majority = _seconds(study), _majority(study)
    teachers = _teacher_rows(study, teacher, seconds, speeds)
    rows = [
        majority,
        *teachers,
        *_student_rows(study, students, seconds, speeds),
        *_static_rows(study, seconds, speeds),
    ]
    return _relative(rows, majority, teachers[0], speeds.get("teacher int8"))


def _teacher_rows(study, teacher: Path, seconds: dict, speeds: dict) -> list[dict]:
    """The fp32 teacher, and the int8 one once exported (its minutes: the teacher's and the export's)."""
    task, minutes = study.spec.name, seconds.get("teacher", 0) / 60
    made, int8 = FinishedRun(teacher), FinishedRun(teacher.parent / f"{teacher.name}-int8")
    held, shape = [made.held_out()["accuracy"]], made.shape()
    rows = [
        _row(task, "teacher", "teacher", shape, "PyTorch", "fp32", [made.dev()], held, [teacher.name],
             weights_mb(teacher), minutes, speeds.get("teacher"))
    ]  # fmt: skip
    if int8.exported:
        minutes += seconds.get("teacher int8", 0) / 60
        rows.append(
            _row(task, "teacher int8", "teacher", shape, "ONNX Runtime", "int8", [int8.dev()], held,
                 [teacher.name], weights_mb(int8.folder), minutes, speeds.get("teacher int8"))
        )  # fmt: skip
    return rows


def _student_rows(study, students: dict[str, list[str]], seconds: dict, speeds: dict) -> list[dict]:
    """A row per student recipe, shipped as int8, over its seeds (minutes: the median of its runs', since a run
    that shared the CPU with other work took longer)."""
    rows, choices = [], study.record.choices
    for name, runs in students.items():
        records = [study.record.runs[run] for run in runs]
        made = [(seconds.get(run, 0) + seconds.get(f"{run} int8", 0)) / 60 for run in runs]
        label = f"student {candidate_label(choices, name, choices.get('method'))}"
        row = _row(study.spec.name, label, "student", records[0]["shape"], "ONNX Runtime", "int8",
                   [r["dev"] for r in records], [r["holdout_acc"] for r in records], runs, records[0]["disk_mb"],
                   statistics.median(made), speeds.get(name))  # fmt: skip
        row["teacher_dev_acc"] = sorted({r["teacher_dev_acc"] for r in records})
        rows.append(row)
    return rows


def _static_rows(study, seconds: dict, speeds: dict) -> list[dict]:
    """The static baseline, once fitted; its held-out figure is the chosen L2's."""
    static = FinishedRun(study.jobs.static_path())
    if not static.finished:
        return []
    held = max(static.report()["data"]["fit"]["holdout_acc_by_l2"].values())
    row = _row(study.spec.name, "static embeddings + logistic regression", "baseline",
               static.shape().replace("static-", "") + "d", "PyTorch", "fp32", [static.dev()], [held], [],
               weights_mb(static.folder), seconds.get("static", 0) / 60, speeds.get("static"))  # fmt: skip
    return [row]


def candidate_label(choices: dict, name: str, method: str | None) -> str:
    """'4x (tinybert-4L-192-long)', marked as a balance, start, rate, method, budget or shape candidate when another
    was chosen (`choices`: the study's record of them; `method`: the chosen method)."""
    recipe = Recipe.parse(name)
    by_ask = [choices.get("shapes", {}), *(choices.get(f"{kind}_shapes", {}) for kind in OTHER_SHAPES)]
    ask = next((a for shapes in by_ask for a, s in shapes.items() if s == recipe.shape), "?")
    picked = choices.get("shapes", {}).get(ask)
    budgets = choices.get("budget", {})
    budget = budgets.get(recipe.shape, budgets.get(picked))  # compared at the row's shape, or where shapes were
    chosen_shape = choices.get("shape", {}).get(ask)
    balance = choices.get("balance", {}).get(picked)
    start = choices.get("start", {}).get(picked)
    marks = [
        "balance candidate" if balance is not None and recipe.balance != balance else None,
        "start candidate" if start is not None and recipe.start != start else None,
        "method candidate" if method and recipe.method != method else None,
        "rate candidate" if recipe.published_lrs else None,
        "budget candidate" if budget and recipe.budget != budget and not recipe.published_lrs else None,
        "shape candidate" if chosen_shape and recipe.shape != chosen_shape else None,
    ]
    return f"{ask} ({name})" + "".join(f" ({mark})" for mark in marks if mark)


def _row(task, name, kind, shape, runtime, precision, figures, held, runs, disk, minutes, speed) -> dict:
    """A model's row: its dev figures over its seeds (`figures`, `held`: one per seed), size, minutes, speed."""
    summary = summarize(figures, held)
    return {
        "task": task,
        "name": name,
        "kind": kind,
        "shape": shape,
        "runtime": runtime,
        "precision": precision,
        "seeds": summary.seeds,
        "acc": summary.mean["accuracy"],
        "acc_std": summary.spread["accuracy"],
        "f1": summary.mean.get("f1"),
        "f1_std": summary.spread.get("f1"),
        "holdout_acc": summary.held_out,
        "ex_per_s_batch32": speed and speed["examples_per_s_batch32"],
        "ms_batch1": speed and speed["latency_ms_batch1"],
        "disk_mb": disk,
        "minutes_to_make": minutes,
        "runs": runs,
        "speed_of": "a stand-in (random weights)" if speed and speed.get("stand_in") else "the model",
    }


def _majority(study) -> dict:
    """The training set's most frequent label, predicted for every dev example."""
    metrics = majority_figures(study.data.plain)
    return {
        "task": study.spec.name,
        "name": "majority",
        "kind": "majority",
        "shape": "-",
        "runtime": "-",
        "precision": "-",
        "seeds": 0,
        "acc": metrics["accuracy"],
        "acc_std": None,
        "f1": metrics.get("f1"),
        "holdout_acc": None,
        "ex_per_s_batch32": None,
        "ms_batch1": None,
        "disk_mb": 0.0,
        "minutes_to_make": 0.0,
        "runs": [],
    }


def _relative(rows: list[dict], majority: dict, teacher: dict, int8_speed: dict | None) -> list[dict]:
    """Gain kept over the majority class (accuracy), F1 kept, and speed against the int8 teacher."""
    for row in rows:
        if row["kind"] in ("student", "baseline", "teacher") and row is not teacher:
            row["gain_kept"] = gain_kept(row["acc"], majority["acc"], teacher["acc"])
            if row["f1"] is not None and teacher["f1"]:
                row["f1_kept"] = row["f1"] / teacher["f1"]
        if int8_speed and row["ex_per_s_batch32"]:
            speed = {"examples_per_s_batch32": row["ex_per_s_batch32"], "latency_ms_batch1": row["ms_batch1"]}
            row["x_int8_teacher_batch32"] = throughput_ratio(speed, int8_speed)
            row["x_int8_teacher_batch1"] = latency_ratio(speed, int8_speed)
    return rows


def _write(rows: list[dict], study, speeds: dict) -> None:
    """This task's rows replace its earlier ones in frontier.json (the other task's stay); the record is
    committed with every timing, the speeds and the spec."""
    task, results = study.spec.name, study.results
    results.mkdir(parents=True, exist_ok=True)
    kept = [row for row in read_json(results / ROWS_FILE) or [] if row["task"] != task]
    (results / ROWS_FILE).write_text(json.dumps(kept + rows, indent=2) + "\n")
    study.record.save_render(_seconds(study), speeds, repr(study.spec))
