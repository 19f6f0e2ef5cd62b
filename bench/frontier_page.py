"""The frontier study's page for one task, drawn from its rows (bench/frontier_report.py makes them): the
table, the note on students of an earlier teacher, the issue's targets against the rows, and the chart;
`publish` puts them between the task's markers of docs/frontier.md. Rows alone, nothing re-made: a
checkout without the work folder re-draws the page from the committed rows."""

from __future__ import annotations

from pathlib import Path

from bench.pages import render_into_page


def publish(task: str, rows: list[dict], page: Path, results: Path) -> None:
    """The task's chart (in `results`), and its tables between the page's markers."""
    png = results / f"frontier_{task}.png"
    plot(task, rows, png)
    chart = f"![{task} frontier](../bench/results/{png.name})\n"
    tables = [markdown(rows) + teacher_note(rows), targets_markdown(task, rows), chart]
    render_into_page(page, f"frontier-{task}", "\n".join(tables))
    print(markdown(rows), flush=True)


def teacher_note(rows: list[dict]) -> str:
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
