"""The speed/quality frontier past the int8 teacher, on MRPC and SST-2: which student to ship for which
latency, against what users get for free (the fine-tuned teacher exported as int8) and the cheapest
honest alternative (static embeddings + logistic regression, `cli.py static`).

Rows: majority; teacher (PyTorch fp32); teacher int8 (ONNX Runtime, export only); students asked for 2x,
4x and 8x the int8 teacher's batch-32 throughput here (`distill --speedup`, the shape timed once and
recorded), each shipped as int8; the static baseline. Each ask's recipe is chosen on the held-out slice
at seed 42, TinyBERT's rows and the fastest students first: the class balance (`--balance-classes` or
not), the budget (compute-matched; a longer prediction stage whose teacher outputs are computed once for
every student; or that after a full first stage), the start (`--student-init`: the teacher layers
TinyBERT imitates, or the lowest ones), the shape (`--speedup`'s, the deepest of the teacher's own width
or the deepest of any width that is fast enough), then the method among METHODS at 4x. The chosen recipe
then makes every seed of every student row.
Every checkpoint is chosen on a fixed held-out slice of the training examples; dev only reports.
Speeds are measured side by side in one process at the end (ONNX Runtime or PyTorch on the CPU, real
dev examples, medians of 9).

    python -m bench.frontier                          # everything not yet finished, then render
    python -m bench.frontier --tasks SST-2 --max-minutes 60
    python -m bench.frontier --render-only            # tables, JSON and charts from the finished runs

(from the project's root, as every bench module runs). The study's parts: what it asks
(bench/frontier_spec.py), its training sets (frontier_data.py), its record (frontier_record.py), its runs of
the library (frontier_jobs.py), its choices (frontier_choices.py), one task put together
(frontier_study.py), and its report (frontier_report.py: rows and speeds; frontier_page.py: tables, chart).

Runs live in --work (bench/_work/frontier; MRPC's teacher and augmented set are the MRPC quality
study's, in bench/_work/mrpc_quality, made there when absent), each reused once finished. Each finished
student's figures also go at once into bench/results/frontier_runs.json (with the choices and timings):
commit it as runs finish, and a session that lost the work folder with its machine re-makes only the
teacher and the data; its report times a lost student on a random-weight stand-in of its shape. A render
writes bench/results/frontier.json (one object per row), frontier_runs.json (runs, choices, timings,
speeds), frontier_TASK.png, and the tables into docs/frontier.md between its markers. Where a task's
teacher is gone, --render-only re-draws its tables and chart from its committed rows, re-making nothing.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bench.frontier_report import render_task
from bench.frontier_spec import CLAIM_SEEDS, TASKS
from bench.frontier_study import FrontierStudy
from bench.measure import ROOT, TimeBudget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--work", default=str(ROOT / "bench" / "_work" / "frontier"))
    parser.add_argument("--quality-work", default=str(ROOT / "bench" / "_work" / "mrpc_quality"))
    parser.add_argument("--page", default=str(ROOT / "docs" / "frontier.md"))
    parser.add_argument("--max-minutes", type=float, default=None, help="start no new run after this long")
    parser.add_argument("--render-only", action="store_true", help="render the finished runs; train nothing")
    args = parser.parse_args()
    logging.basicConfig(format="%(message)s")
    logging.getLogger("tinydistill").setLevel(logging.INFO)  # the runs' plans and time estimates
    time_left = TimeBudget(args.max_minutes, args.render_only)
    studies = [
        FrontierStudy(TASKS[name], Path(args.work) / name, Path(args.quality_work), time_left) for name in args.tasks
    ]
    for seeds in (CLAIM_SEEDS[:1], CLAIM_SEEDS):  # a first seed of every row of every task, then all of them
        for study in studies:
            study.run(seeds)
    for study in studies:
        render_task(study, Path(args.page), measure=not args.render_only)
    print(f"wall time of this invocation: {time_left.minutes():.1f} min")


if __name__ == "__main__":
    main()
