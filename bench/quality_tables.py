"""The MRPC quality study's tables and plots (bench/mrpc_quality_report.py renders them): a row per recipe,
built from the library's comparison of finished runs (`distill.runs.compare`: seed mean, spread, gain
kept, speed-up), the Markdown tables of rows and of the claimed orders, the training curves and speeds."""

from __future__ import annotations

from pathlib import Path

from distill.runs import FinishedRun
from distill.runs.compare import gain_kept, majority_figures, summarize_runs, throughput_ratio


def speed_key(run: Path) -> str:
    """Speeds are measured once per model shape and runtime: "4L-312", "4L-312 int8"."""
    return FinishedRun(run).shape() + (" int8" if FinishedRun(run).exported else "")


def majority_row(task) -> dict:
    """The floor: MRPC's majority class (label 1) predicted for every dev pair."""
    metrics = majority_figures(task)
    return {
        "name": "majority",
        "f1": metrics["f1"],
        "acc": metrics["accuracy"],
        "params": None,
        "cpu_speedup": None,
        "settings": "predict 'equivalent' (label 1) for every dev pair",
    }


def quality_row(name: str, paths: list[Path], speeds: dict, majority: dict, teacher: dict | None, settings) -> dict:
    """A recipe's row over its runs (one per seed; the teacher's row when `teacher` is None): dev figures'
    mean and spread, held-out mean, the share of the teacher's gain kept, and speed against the teacher at
    the same precision (the int8 student against the int8 teacher)."""
    summary = summarize_runs(paths)
    int8 = FinishedRun(paths[0]).exported
    speed, reference = (
        speeds.get("teacher" if teacher is None else speed_key(paths[0])),
        speeds.get("teacher int8" if int8 else "teacher"),
    )
    row = {
        "name": name,
        "f1": summary.mean["f1"],
        "acc": summary.mean["accuracy"],
        "f1_std": summary.spread["f1"],
        "acc_std": summary.spread["accuracy"],
        "seeds": summary.seeds,
        "holdout_acc": summary.held_out,
        "shape": speed_key(paths[0]),
        "params": speed and speed["params"],
        "cpu_speedup": throughput_ratio(speed, reference),
        "settings": settings,
        "runs": [str(path.name) for path in paths],
    }
    if teacher is not None:
        for key in ("acc", "f1"):
            row[f"gain_kept_{key}"] = gain_kept(row[key], majority[key], teacher[key])
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
        if not FinishedRun(paths[0]).finished:
            continue  # a shipped copy: no training curve of its own
        records = FinishedRun(paths[0]).history()
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
