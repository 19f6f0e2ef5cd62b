"""The quality studies' shared parts: reading a finished run folder (its dev and held-out figures, shape),
a table row per recipe (seed mean, spread, gain kept, speed-up), the Markdown tables, the plots, and
rendering a table between markers of a results page. `bench/mrpc_quality.py` uses them."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np

from data import compute_metrics, read_table


def finished(run: Path) -> bool:
    return (run / "report.json").is_file()


def load_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def held_out(run: Path) -> dict:
    """The kept checkpoint's figures on the held-out slice (what chose it)."""
    return json.loads((run / "report.json").read_text())["selection"]["kept_holdout"]


def exported(run: Path) -> bool:
    return (run / "export.json").is_file()


def dev(run: Path) -> dict:
    if exported(run):  # the shipped graph's own figures, as the export measured them
        return json.loads((run / "export.json").read_text())["dev"]["onnx"]
    report = json.loads((run / "report.json").read_text())
    model = report["models"].get("student") or report["models"]["model"]
    return model["dev"]


def shape_of(run: Path) -> str:
    config = json.loads((run / "config.json").read_text())
    return f"{config['num_hidden_layers']}L-{config['hidden_size']}"


def speed_key(run: Path) -> str:
    """Speeds are measured once per model shape and runtime: "4L-312", "4L-312 int8"."""
    return shape_of(run) + (" int8" if exported(run) else "")


def majority_row(task) -> dict:
    labels = read_table(task.dev_paths[0])["Quality"].astype(int).to_numpy()
    metrics = compute_metrics(("accuracy", "f1"), np.ones_like(labels), labels)
    return {
        "name": "majority",
        "f1": metrics["f1"],
        "acc": metrics["accuracy"],
        "params": None,
        "cpu_speedup": None,
        "settings": "predict 'equivalent' (label 1) for every dev pair",
    }


def quality_row(name: str, paths: list[Path], speeds: dict, majority: dict, teacher: dict | None, settings) -> dict:
    figures = [dev(path) for path in paths]
    f1s, accs = [d["f1"] for d in figures], [d["accuracy"] for d in figures]
    int8 = exported(paths[0])
    speed, reference = (
        speeds.get("teacher" if teacher is None else speed_key(paths[0])),
        speeds.get("teacher int8" if int8 else "teacher"),
    )
    held = [held_out(path)["accuracy"] for path in paths if finished(path)]
    row = {
        "name": name,
        "f1": statistics.mean(f1s),
        "acc": statistics.mean(accs),
        "f1_std": statistics.stdev(f1s) if len(paths) > 1 else None,
        "acc_std": statistics.stdev(accs) if len(paths) > 1 else None,
        "seeds": len(paths),
        "holdout_acc": statistics.mean(held) if held else None,
        "shape": speed_key(paths[0]),
        "params": speed and speed["params"],
        # against the teacher at the same precision: the int8 student against the int8 teacher
        "cpu_speedup": speed and reference and speed["examples_per_s_batch32"] / reference["examples_per_s_batch32"],
        "settings": settings,
        "runs": [str(path.name) for path in paths],
    }
    if teacher is not None:
        for key in ("acc", "f1"):
            row[f"gain_kept_{key}"] = (row[key] - majority[key]) / (teacher[key] - majority[key])
    return row


def markdown_table(rows) -> str:
    lines = [
        "| row | budget | seeds | dev accuracy | dev F1 | gain kept (acc / F1) | held-out acc | shape | CPU speed-up |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:

        def value(key):
            spread = f" ± {row[key + '_std']:.3f}" if row.get(key + "_std") is not None else ""
            return f"{row[key]:.3f}{spread}"

        kept = f"{row['gain_kept_acc']:.0%} / {row['gain_kept_f1']:.0%}" if "gain_kept_acc" in row else "-"
        speed = f"{row['cpu_speedup']:.2f}x" if row.get("cpu_speedup") else "-"
        held = f"{row['holdout_acc']:.3f}" if row.get("holdout_acc") is not None else "-"
        lines.append(
            f"| {row['name']} | {budget_of(row['settings'])} | {row.get('seeds', '-')} | {value('acc')} | "
            f"{value('f1')} | {kept} | {held} | "
            f"{row.get('shape', '-')} | {speed} |"
        )
    return "\n".join(lines) + "\n"


def seed_of(run: Path) -> int:
    return int(run.name.rsplit("-", 1)[1])


def paired_markdown(paired: list[dict], seeds: tuple[int, ...]) -> str:
    """The claimed orders: accuracy difference ± paired standard error per seed, dev and held-out."""
    lines = [
        "| claim | slice | " + " | ".join(f"seed {seed}" for seed in seeds) + " |",
        "|---|---|" + "---:|" * len(seeds),
    ]
    cells: dict[tuple[str, str], dict[int, str]] = {}
    for found in paired:
        cell = f"{found['difference']:+.3f} ± {found['paired_se']:.3f}"
        cells.setdefault((found["claim"], found["slice"]), {})[found["seed"]] = cell
    for (claim, where), by_seed in cells.items():
        lines.append(f"| {claim} | {where} | " + " | ".join(by_seed.get(seed, "-") for seed in seeds) + " |")
    return "\n".join(lines) + "\n"


def budget_of(settings) -> str:
    """A row's training budget in a few characters: examples per TinyBERT stage, or epochs."""
    if not isinstance(settings, dict) or not {"examples", "epochs"} & settings.keys():
        return "-"
    if "examples" in settings:
        return " + ".join(f"{n / 1000:.1f}k ex." for n in settings["examples"].values())
    epochs = settings["epochs"]
    return " + ".join(f"{e:g} ep." for e in epochs.values()) if isinstance(epochs, dict) else f"{epochs:g} ep."


def plot_curves(runs: dict[str, list[Path]], png: Path) -> None:
    """Dev F1 against training steps of the final stage, one line per row (first seed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for name, paths in runs.items():
        if not finished(paths[0]):
            continue  # a shipped copy: no training curve of its own
        records = [json.loads(line) for line in (paths[0] / "metrics.jsonl").open() if line.strip()]
        points = [(r["step"], r["dev"]["f1"]) for r in records if "dev" in r]
        if points:
            axis.plot(*zip(*points), marker=".", label=name)
    axis.set(title="MRPC dev F1 during training (final stage)", xlabel="optimizer step (batch 32)", ylabel="dev F1")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(png, dpi=100)
    plt.close(figure)


def plot_speed(speeds: dict[str, dict], png: Path) -> None:
    """CPU throughput at batch 32 and latency at batch 1 per model shape."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(speeds)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.barh(names, [speeds[n]["examples_per_s_batch32"] for n in names])
    left.set(title="CPU throughput, batch 32 (examples/s)")
    right.barh(names, [speeds[n]["latency_ms_batch1"] for n in names], color="tab:orange")
    right.set(title="CPU latency, batch 1 (ms)")
    right.set_yticklabels([])
    figure.tight_layout()
    figure.savefig(png, dpi=100)
    plt.close(figure)


def render_into_page(page: Path, marker: str, table: str) -> None:
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = page.read_text()
    if start in text and end in text:
        head, rest = text.split(start, 1)
        page.write_text(head + start + "\n" + table + end + rest.split(end, 1)[1])
