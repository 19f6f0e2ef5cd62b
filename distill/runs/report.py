"""The end-of-run report: report.json, report.md and report.png (loss and dev metric curves)."""

from __future__ import annotations

import json
from pathlib import Path

from data.outputs import write_text_atomic

from . import files


def _frontier_table(name: str, rows: list[dict], metrics) -> list[str]:
    """The model in every runtime and precision: what to ship for this CPU."""
    head = (
        "| runtime | precision | dev "
        + " | dev ".join(metrics)
        + " | CPU ms (batch 1) | CPU examples/s (batch 32) | disk MB |"
    )
    lines = [f"Frontier of the {name} on this CPU:", "", head, "|---" * (len(metrics) + 5) + "|"]
    for row in rows:
        figures = " | ".join(f"{row['dev'][m]:.4f}" for m in metrics)
        lines.append(
            f"| {row['runtime']} | {row['precision']} | {figures} | {row['ms_batch1']:.2f} | "
            f"{row['ex_per_s_batch32']:.1f} | {row['disk_mb']:.1f} |"
        )
    return lines


def _selection_line(selection: dict, metrics) -> str:
    """How the checkpoint was chosen, and what the last evaluation scored on dev beside it."""
    line = f"Checkpoint: {selection['rule']}, step {selection['kept_step']}"
    if selection["holdout_examples"]:
        line += f" ({selection['holdout_examples']:,} held-out examples)"
    last = selection.get("last_dev")
    if last and selection["kept_step"] != selection["last_step"]:
        figures = ", ".join(f"{m} {last[m]:.4f}" for m in metrics)
        line += f"; the last evaluation (step {selection['last_step']}) scored dev {figures}"
    return line + "."


def _curves(run: Path, metric: str, png: Path) -> bool:
    """Plot training loss and the dev metric from every metrics.jsonl of the run (stages included)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    histories = sorted(run.glob(f"**/{files.HISTORY}"))
    records = {
        f.parent.name if f.parent != run else "final stage": [json.loads(line) for line in f.open() if line.strip()]
        for f in histories
    }
    if not any(records.values()):
        return False
    figure, (loss_axis, metric_axis) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, rows in records.items():
        steps = [r["step"] for r in rows]
        loss_axis.plot(steps, [r["loss"] for r in rows], marker="o", label=name)
        dev = [(r["step"], r["dev"][metric]) for r in rows if "dev" in r]
        if dev:
            metric_axis.plot(*zip(*dev), marker="o", label=name)
    loss_axis.set(title="training loss", xlabel="step")
    metric_axis.set(title=f"dev {metric}", xlabel="step")
    loss_axis.legend()
    figure.tight_layout()
    figure.savefig(png, dpi=100)
    plt.close(figure)
    return True


SPREAD_WARNING = 0.5  # timings whose fastest and slowest repeats differ by more than half the median


ROLES = {"model": "fine-tuned", "student": "student", "static": "static baseline", "teacher": "teacher"}


def dev_metrics(result: dict) -> dict:
    """The first dev file's metrics of one evaluated model (MNLI: the matched set)."""
    return next(v for k, v in result.items() if isinstance(v, dict) and k not in ("cpu", "rows"))


def _models_table(names: dict, models: dict[str, dict], metrics) -> list[str]:
    """One row per model: dev metrics, size, CPU latency and throughput."""
    lines = [
        "| model | dev " + " | dev ".join(metrics) + " | parameters | disk MB | CPU ms (batch 1) | "
        "CPU examples/s (batch 32) |",
        "|---" * (len(metrics) + 5) + "|",
    ]
    for name, result in models.items():
        dev, cpu = dev_metrics(result), result["cpu"]
        lines.append(
            f"| {names[name]} | "
            + " | ".join(f"{dev[m]:.4f}" for m in metrics)
            + f" | {result['parameters']:,} | {result['disk_mb']:.1f} | {cpu['latency_ms_batch1']:.1f} | "
            f"{cpu['examples_per_s_batch32']:.1f} |"
        )
    return lines


def write_report(
    run: str | Path, task: str, metrics, models: dict[str, dict], data: dict, selection: dict | None = None
) -> dict:
    """Write the report files into the run folder and return the report as a dict. `data` names the
    training file (and its example count) and the dev files the figures come from; `selection` says
    how the checkpoint was chosen, with the last evaluation beside it."""
    run = Path(run)
    report = {"task": task, "run": str(run), "main_metric": metrics[0], "data": data, "models": models}
    report["selection"] = selection
    names = {role: f"{ROLES.get(role, role)} {result['shape']}" for role, result in models.items()}
    lines = [f"# {task} ({Path(data['train']).name}): {' vs '.join(names.values())}", ""]
    lines += _models_table(names, models, metrics)
    made = next((role for role in models if role != "teacher"), None)
    if "teacher" in models and made:
        speedup = models[made]["cpu"]["examples_per_s_batch32"] / models["teacher"]["cpu"]["examples_per_s_batch32"]
        report["cpu_speedup_batch32"] = speedup
        lines += ["", f"{ROLES[made].capitalize()} vs teacher: {speedup:.2f}x CPU throughput at batch 32."]
    spread = max(result["cpu"].get(f"spread_batch{size}", 0.0) for result in models.values() for size in (1, 32))
    if spread > SPREAD_WARNING:
        report["timing_warning"] = f"CPU timings varied by {spread:.0%} of their median between repeats"
        lines += [
            "",
            f"Warning: {report['timing_warning']} (a busy machine?): the speed figures are rough; "
            "re-run `python cli.py evaluate` on a quiet machine.",
        ]
    if selection:
        lines += ["", _selection_line(selection, metrics)]
    for role, result in models.items():
        if result.get("frontier"):
            lines += ["", *_frontier_table(names[role], result["frontier"], metrics)]
    lines += _data_lines(data, metrics)
    if _curves(run, metrics[0], run / files.REPORT_PLOT):
        lines += ["", "![loss and dev metric](report.png)"]
    (run / files.REPORT_MARKDOWN).write_text("\n".join(lines) + "\n")
    write_text_atomic(run / files.REPORT, json.dumps(report, indent=2))  # last: it marks the run finished
    return report


def _data_lines(data: dict, metrics) -> list[str]:
    """What the report says of its data: a teacher no better than a guess, a note, the positive class, the
    training and dev files, and what the teacher filter and class weights did to the training rows."""
    lines = []
    check = data.get("teacher_check")
    if check and not check["clearly_above"]:
        lines += [
            "",
            f"Warning: the teacher was not clearly better than a model that learnt nothing on dev ({check['metric']} "
            f"{check['teacher']:.4f} against {check['floor']:.4f}): this student learnt from a guess.",
        ]
    if data.get("note"):
        lines += ["", f"Note: {data['note']}"]
    if data.get("positive_label") is not None and "f1" in metrics:
        lines += ["", f"F1 is the F1 of the positive class {data['positive_label']!r}."]
    trained = f"Trained on {data['train']} ({data['train_examples']:,} examples); scored on {', '.join(data['dev'])}."
    if data.get("teacher_filter"):
        dropped = data["teacher_filter"]
        trained += (
            f" The teacher filter dropped {dropped['dropped']:,} of its {dropped['copies']:,} augmented copies "
            f"({dropped['dropped_share']:.1%}): the teacher classed them otherwise than their original."
        )
    if data.get("class_balance"):
        weights = ", ".join(f"{w:.2f}" for w in data["class_balance"]["weights"])
        reached = ", ".join(f"{share:.0%}" for share in data["class_balance"]["weighted_shares"])
        trained += (
            f" Soft-target losses weighted by class ({weights}, --balance-classes): the teacher's classes weigh "
            f"{reached} of the training rows, towards the labelled examples' shares."
        )
    return [*lines, "", trained]
