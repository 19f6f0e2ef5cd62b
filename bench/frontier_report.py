"""The frontier study's rows, speeds, table and chart for one task (bench/frontier.py makes the runs).

A row per model: majority, teacher (PyTorch fp32), teacher int8, every student recipe that finished
(shipped as int8; the chosen method's rows carry 3 seeds), the static baseline. Speeds are measured
side by side in one process when asked (else the last measured ones are reused), on the task's real
dev examples; ratios are against the int8 teacher, the free alternative a student has to beat.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from bench.frontier import OTHER_SHAPES, Recipe
from bench.quality_tables import dev, exported, finished, held_out, load_json, render_into_page, shape_of
from data import compute_metrics, read_table
from distill import cpu_speed, load_classifier, load_teacher, weights_mb
from distill.speedup import Int8Timer
from distill.students import parse_shape, student_config

RESULTS = Path(__file__).resolve().parent / "results"


def render_task(study, page: Path, measure: bool) -> list[dict]:
    teacher = study.teacher_path()
    if not finished(teacher):
        rows = committed_rows(study.spec.name)
        if rows:
            print(
                f"{study.spec.name}: no teacher at {teacher}: tables and chart re-drawn from the committed rows of "
                f"{RESULTS / 'frontier.json'} (nothing re-timed or re-scored)",
                flush=True,
            )
            publish(study.spec.name, rows, page)
        return rows
    models = {"teacher": teacher}
    if exported(teacher.parent / f"{teacher.name}-int8"):
        models["teacher int8"] = teacher.parent / f"{teacher.name}-int8"
    students = _student_runs(study)
    for name, runs in students.items():  # timed on the first seed whose model is here (see _speeds)
        shipped = [study.work / f"{run}-int8" for run in runs]
        models[name] = next((path for path in shipped if path.is_dir()), shipped[0])
    speeds_file = study.work / "speeds.json"
    if measure:
        speeds_file.write_text(json.dumps(_speeds(study, teacher, models), indent=1))
    speeds = load_json(speeds_file) or study.committed_speeds
    rows = _rows(study, teacher, students, speeds)
    _write(study.spec.name, rows, study, speeds)
    publish(study.spec.name, rows, page)
    return rows


def committed_rows(task: str) -> list[dict]:
    """The task's rows as the last render with its teacher wrote them: a checkout whose work folder is gone
    can still re-draw its tables and chart (after a change to how they are drawn) without re-making anything."""
    return [row for row in load_json(RESULTS / "frontier.json") or [] if row["task"] == task]


def publish(task: str, rows: list[dict], page: Path) -> None:
    """The task's chart, and its tables between the page's markers."""
    png = RESULTS / f"frontier_{task}.png"
    plot(task, rows, png)
    chart = f"![{task} frontier](../bench/results/{png.name})\n"
    tables = [markdown(rows) + _teacher_note(rows), targets_markdown(task, rows), chart]
    render_into_page(page, f"frontier-{task}", "\n".join(tables))
    print(markdown(rows), flush=True)


def _student_runs(study) -> dict[str, list[str]]:
    """Student run names by recipe ("tinybert-2L-192": ["tinybert-2L-192-42", ...]), seeds in order: the runs
    finished and shipped here (recorded now if an older invocation made them) and those an earlier session
    recorded."""
    for run in study.work.glob("*-*L-*-*"):
        if run.is_dir() and finished(run) and exported(run.parent / f"{run.name}-int8"):
            study.record(run)
    found: dict[str, list[str]] = {}
    for name in sorted(study.records, key=lambda name: (name.rsplit("-", 1)[0], int(name.rsplit("-", 1)[1]))):
        found.setdefault(name.rsplit("-", 1)[0], []).append(name)
    return found


def _speeds(study, teacher: Path, models: dict[str, Path]) -> dict[str, dict]:
    """Batch-1 latency and batch-32 throughput of every model, one after another in this process. A student whose
    folder an earlier session's machine took is timed as a stand-in: its shape with random weights, shipped the
    same way (int8 speed does not depend on the weights' values); its speeds say so."""
    examples, teacher_config = study.dev_set(teacher), load_teacher(teacher, study.plain.scheme).config
    speeds = {}
    with Int8Timer() as timer:
        for name, path in models.items():
            if path.is_dir():
                speeds[name] = cpu_speed(load_classifier(path, study.plain.scheme), examples, repeats=9)
            else:
                config = student_config(teacher_config, *parse_shape(Recipe.parse(name).shape))
                speeds[name] = {**cpu_speed(timer.graph(config, examples), examples, repeats=9), "stand_in": True}
    if (study.work / "static.pt").is_file():
        speeds["static"] = cpu_speed(study.load_static()[0], examples, repeats=9)
    return speeds


def _seconds(study) -> dict[str, float]:
    """Every timing of this task's runs; MRPC's teacher and augmentation were timed by the quality study."""
    quality = load_json(study.quality_work / "seconds.json") if study.spec.name == "MRPC" else {}
    shared = {"teacher": quality.get(f"teacher-lr{study.spec.teacher_lr:g}"), "augment": quality.get("augment aug")}
    return {**{k: v for k, v in shared.items() if v}, **study.seconds}


def _rows(study, teacher: Path, students: dict[str, list[Path]], speeds: dict) -> list[dict]:
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
    held = [held_out(teacher)["accuracy"]]
    rows = [
        _row(task, "teacher", "teacher", shape_of(teacher), "PyTorch", "fp32", [dev(teacher)], held, [teacher.name],
             weights_mb(teacher), minutes, speeds.get("teacher"))
    ]  # fmt: skip
    int8 = teacher.parent / f"{teacher.name}-int8"
    if exported(int8):
        minutes += seconds.get("teacher int8", 0) / 60
        rows.append(
            _row(task, "teacher int8", "teacher", shape_of(teacher), "ONNX Runtime", "int8", [dev(int8)], held,
                 [teacher.name], weights_mb(int8), minutes, speeds.get("teacher int8"))
        )  # fmt: skip
    return rows


def _student_rows(study, students: dict[str, list[str]], seconds: dict, speeds: dict) -> list[dict]:
    """A row per student recipe, shipped as int8, over its seeds (minutes: the median of its runs', since a run
    that shared the CPU with other work took longer)."""
    rows, chosen = [], study.choices.get("method")
    for name, runs in students.items():
        records = [study.records[run] for run in runs]
        made = [(seconds.get(run, 0) + seconds.get(f"{run} int8", 0)) / 60 for run in runs]
        label = f"student {_candidate_label(study, name, chosen)}"
        row = _row(study.spec.name, label, "student", records[0]["shape"], "ONNX Runtime", "int8",
                   [r["dev"] for r in records], [r["holdout_acc"] for r in records], runs, records[0]["disk_mb"],
                   statistics.median(made), speeds.get(name))  # fmt: skip
        row["teacher_dev_acc"] = sorted({r["teacher_dev_acc"] for r in records})
        rows.append(row)
    return rows


def _static_rows(study, seconds: dict, speeds: dict) -> list[dict]:
    """The static baseline, once fitted; its held-out figure is the chosen L2's."""
    if not (study.work / "static.pt").is_file():
        return []
    model, record = study.load_static()
    row = _row(study.spec.name, "static embeddings + logistic regression", "baseline",
               f"{model.table.weight.shape[1]}d", "PyTorch", "fp32", [record["dev"]],
               [max(record["holdout_acc_by_l2"].values())], [], model.disk_mb(), seconds.get("static", 0) / 60,
               speeds.get("static"))  # fmt: skip
    return [row]


def _candidate_label(study, name: str, method: str | None) -> str:
    """'4x (tinybert-4L-192-long)', marked as a balance, start, rate, method, budget or shape candidate when another
    was chosen."""
    choices, recipe = study.choices, Recipe.parse(name)
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
    accs, f1s = [d["accuracy"] for d in figures], [d.get("f1") for d in figures]
    return {
        "task": task,
        "name": name,
        "kind": kind,
        "shape": shape,
        "runtime": runtime,
        "precision": precision,
        "seeds": len(figures),
        "acc": statistics.mean(accs),
        "acc_std": statistics.stdev(accs) if len(accs) > 1 else None,
        "f1": statistics.mean(f1s) if None not in f1s else None,
        "f1_std": statistics.stdev(f1s) if len(f1s) > 1 and None not in f1s else None,
        "holdout_acc": statistics.mean(held) if held else None,
        "ex_per_s_batch32": speed and speed["examples_per_s_batch32"],
        "ms_batch1": speed and speed["latency_ms_batch1"],
        "disk_mb": disk,
        "minutes_to_make": minutes,
        "runs": runs,
        "speed_of": "a stand-in (random weights)" if speed and speed.get("stand_in") else "the model",
    }


def _majority(study) -> dict:
    """The training set's most frequent label, predicted for every dev example."""
    train = read_table(study.plain.train_path)[study.spec.label_column].astype(str)
    label = train.value_counts().idxmax()
    dev_labels = read_table(study.plain.dev_paths[0])[study.spec.label_column].astype(str)
    ids = {name: i for i, name in enumerate(study.plain.scheme.labels)}
    truth = dev_labels.map(ids).to_numpy()
    metrics = compute_metrics(study.plain.spec.metrics, truth * 0 + ids[label], truth)
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
            row["gain_kept"] = (row["acc"] - majority["acc"]) / (teacher["acc"] - majority["acc"])
            if row["f1"] is not None and teacher["f1"]:
                row["f1_kept"] = row["f1"] / teacher["f1"]
        if int8_speed and row["ex_per_s_batch32"]:
            row["x_int8_teacher_batch32"] = row["ex_per_s_batch32"] / int8_speed["examples_per_s_batch32"]
            row["x_int8_teacher_batch1"] = int8_speed["latency_ms_batch1"] / row["ms_batch1"]
    return rows


def _write(task: str, rows: list[dict], study, speeds: dict) -> None:
    """This task's rows replace its earlier ones in frontier.json (the other task's stay)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "frontier.json"
    kept = [row for row in load_json(path) or [] if row["task"] != task]
    path.write_text(json.dumps(kept + rows, indent=2) + "\n")
    runs = load_json(RESULTS / "frontier_runs.json")
    runs[task] = {
        "choices": study.choices,
        "seconds": _seconds(study),
        "speeds": speeds,
        "spec": repr(study.spec),
        "runs": study.records,
    }
    (RESULTS / "frontier_runs.json").write_text(json.dumps(runs, indent=2) + "\n")


def _teacher_note(rows: list[dict]) -> str:
    """Which students learned from a teacher whose dev accuracy was not the table's (one re-made by the same
    recipe after its machine was lost, on another CPU): empty when every student learned from this one."""
    teacher = next(row["acc"] for row in rows if row["name"] == "teacher")
    others = [row for row in rows if row["kind"] == "student" and row.get("teacher_dev_acc", [teacher]) != [teacher]]
    if not others:
        return ""
    accs = sorted({acc for row in others for acc in row["teacher_dev_acc"]} - {teacher})
    names = ", ".join(row["runs"][0].rsplit("-", 1)[0] for row in others)
    return (
        f"\nSome or all seeds of these rows learned from a teacher made by the same recipe in an earlier session "
        f"(dev accuracy {', '.join(f'{acc:.3f}' for acc in accs)}; this table's teacher: {teacher:.3f}): {names}.\n"
    )


def markdown(rows: list[dict]) -> str:
    lines = [
        "| row | shape | runtime | seeds | dev acc | dev F1 | gain kept | F1 kept | held-out acc | ex/s, batch 32 | "
        "ms, batch 1 | MB | minutes |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:

        def spread(key):
            value = row.get(key)
            if value is None:
                return "-"
            std = row.get(f"{key}_std")
            return f"{value:.3f}" + (f" ± {std:.3f}" if std is not None else "")

        def ratio(key, ratio_key):
            if not row.get(key):
                return "-"
            times = row.get(ratio_key)
            return f"{row[key]:,.1f}" + (f" ({times:.1f}x)" if times else "")

        kept = f"{row['gain_kept']:.0%}" if "gain_kept" in row else "-"
        f1_kept = f"{row['f1_kept']:.0%}" if "f1_kept" in row else "-"
        held = f"{row['holdout_acc']:.3f}" if row.get("holdout_acc") is not None else "-"
        runtime = f"{row['runtime']} {row['precision']}" if row["precision"] != "-" else "-"
        lines.append(
            f"| {row['name']} | {row['shape']} | {runtime} | "
            f"{row['seeds'] or '-'} | {spread('acc')} | {spread('f1')} | {kept} | {f1_kept} | {held} | "
            f"{ratio('ex_per_s_batch32', 'x_int8_teacher_batch32')} | {ratio('ms_batch1', 'x_int8_teacher_batch1')} | "
            f"{row['disk_mb']:.1f} | {_minutes(row['minutes_to_make'])} |"
        )
    return "\n".join(lines) + "\n"


def _minutes(minutes: float) -> str:
    return f"{minutes:.1f}" if minutes < 10 else f"{minutes:.0f}"


# The targets: (task, least batch-32 ratio, least batch-1 ratio, least gain kept, least F1 kept)
TARGETS = (
    ("MRPC", 4.0, 3.0, 0.80, 0.97),
    ("MRPC", 2.0, None, 0.95, None),
    ("SST-2", 4.0, None, 0.90, None),
)


def chosen_students(rows: list[dict]) -> list[dict]:
    """The student rows of the chosen recipes: the ones that carry the targets (candidates and the
    published-rate run do not)."""
    variants = ("candidate", "published_lr")
    return [r for r in rows if r["kind"] == "student" and not any(word in r["name"] for word in variants)]


def targets_markdown(task: str, rows: list[dict]) -> str:
    """Each target of this task against the best chosen-method student row that is fast enough, and
    every student row against the static baseline."""
    students = chosen_students(rows)
    static = next((r for r in rows if r["kind"] == "baseline"), None)
    lines = ["| target | student | measured | met |", "|---|---|---|---|"]
    for name, batch32, batch1, gain, f1 in (t for t in TARGETS if t[0] == task):
        asked = f">= {batch32:g}x at batch 32" + (f" and >= {batch1:g}x at batch 1" if batch1 else "")
        wanted = f"keeps >= {gain:.0%} of the gain" + (f" and >= {f1:.0%} of F1" if f1 else "")
        fast = [
            r
            for r in students
            if (r.get("x_int8_teacher_batch32") or 0) >= batch32
            and (not batch1 or (r.get("x_int8_teacher_batch1") or 0) >= batch1)
        ]
        if not fast:
            lines.append(f"| {asked}, {wanted} | none measured that fast yet | - | - |")
            continue
        best = max(fast, key=lambda r: r["gain_kept"])
        met = best["gain_kept"] >= gain and (not f1 or best.get("f1_kept", 0) >= f1)
        measured = f"{best['gain_kept']:.0%} of the gain" + (f", {best['f1_kept']:.1%} of F1" if f1 else "")
        speed = f"{best['x_int8_teacher_batch32']:.1f}x / {best['x_int8_teacher_batch1']:.1f}x"
        lines.append(
            f"| {asked}, {wanted} | {best['name']} ({speed}, {best['seeds']} seeds) | {measured} | "
            f"{'yes' if met else 'no'} |"
        )
    if static:
        for r in students:
            verdict = _against_static(r, static)
            lines.append(
                f"| more accurate than the static baseline ({static['acc']:.3f}) | {r['name']} | {r['acc']:.3f} | "
                f"{verdict} |"
            )
    return "\n".join(lines) + "\n"


def _against_static(student: dict, static: dict) -> str:
    """Yes, no, or level: a difference within the student's standard deviation over its seeds is no lead,
    and the static baseline, far faster, is then the better buy."""
    lead, spread = student["acc"] - static["acc"], student.get("acc_std") or 0.0
    if lead > spread:
        return "yes"
    if lead < -spread:
        return "no: the static baseline is the better buy"
    faster = ""
    if student.get("ex_per_s_batch32") and static.get("ex_per_s_batch32"):
        faster = f", {static['ex_per_s_batch32'] / student['ex_per_s_batch32']:.0f}x faster at batch 32"
    return f"level (within the seeds' standard deviation): the static baseline is the better buy{faster}"


def plot(task: str, rows: list[dict], png: Path) -> None:
    """Dev accuracy against batch-32 throughput and batch-1 latency (log axes); free alternatives marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    styles = {"teacher": ("s", "tab:red"), "baseline": ("D", "tab:gray"), "student": ("o", "tab:blue")}
    for axis, key, label in (
        (axes[0], "ex_per_s_batch32", "examples/s at batch 32 (log)"),
        (axes[1], "ms_batch1", "ms per example at batch 1 (log)"),
    ):
        for row in rows:
            if row["kind"] == "majority":
                axis.axhline(row["acc"], color="black", linestyle=":", linewidth=1)
                axis.annotate("majority", (0.01, row["acc"]), xycoords=("axes fraction", "data"), fontsize=7)
                continue
            if not row.get(key):
                continue
            marker, color = styles[row["kind"]]
            free, candidate = row["kind"] != "student", "candidate)" in row["name"]
            axis.errorbar(
                row[key],
                row["acc"],
                yerr=row.get("acc_std") or 0,
                fmt=marker,
                color=color,
                markerfacecolor="white" if free else color,
                capsize=3,
                alpha=0.25 if candidate else 1.0,
            )
            if not candidate:  # the table names every candidate; labelled here, they hide the chosen rows
                axis.annotate(
                    row["name"], (row[key], row["acc"]), fontsize=6, xytext=(4, 3), textcoords="offset points"
                )
        axis.set_xscale("log")
        axis.set(xlabel=label)
    axes[0].set(ylabel="dev accuracy", title=f"{task}: accuracy against throughput")
    axes[1].set(title=f"{task}: accuracy against latency (right is faster)")
    axes[1].invert_xaxis()
    figure.text(
        0.01,
        0.01,
        "hollow: free alternatives (teacher, int8 teacher, static embeddings); "
        "filled: students shipped as int8; faint, unlabelled: candidates not chosen (named in the table)",
        fontsize=7,
    )
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(png, dpi=100)
    plt.close(figure)
