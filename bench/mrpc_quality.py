"""The MRPC quality study: which 2x student to ship, and what augmentation buys, on the real MRPC dev set.

Selection is honest: every run keeps the checkpoint that scores best on a fixed held-out 10% of the
training examples (never trained on, their augmented copies left out too), and the dev set only
reports. The teacher (the pretrained MiniLM encoder, 6 layers, width 384) is chosen the same way among
learning rates; recipes for a 2x student are compared on the held-out slice; the rows that carry a
claim (gold labels alone, KD without and with augmentation, the chosen recipe) get 3 seeds (mean and
sample standard deviation), the others one seed (marked).

"Gain kept" = (student - majority) / (teacher - majority): the share of what the teacher learned
beyond predicting the majority class that the student keeps, on accuracy and on F1.

    python -m bench.mrpc_quality                        # everything not yet finished in --work
    python -m bench.mrpc_quality --max-minutes 60       # start no new run after 60 minutes, then render
    python -m bench.mrpc_quality --render-only          # the table from the finished runs
    python -m bench.mrpc_quality --rows tinybert_aug_glove --max-minutes 1   # one run of that row

(from the project's root, as every bench module runs). The study's parts: its recipes
(bench/mrpc_quality_recipes.py), its runs of the library (mrpc_quality_study.py), its report
(mrpc_quality_report.py) and tables and plots (quality_tables.py).

Every run is a folder in --work (bench/_work/mrpc_quality, not committed: rerunning the study
reproduces it), reused once finished (delete it to redo it); the results are rendered after every
finished run, so an interrupted study keeps its figures. Writes bench/results/mrpc_quality.json (rows),
mrpc_quality_runs.json (runs, selection, timings), mrpc_quality.md, mrpc_dev_f1.png and mrpc_speed.png,
and the tables into docs/results.md (--results-page) between its `mrpc-quality` and `mrpc-paired` markers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.measure import ROOT, TimeBudget
from bench.mrpc_quality_recipes import RECIPES
from bench.mrpc_quality_report import render
from bench.mrpc_quality_study import Study
from distill.runs import FinishedRun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--augmented", help="augment's train_aug.tsv for MRPC, demo masked-LM (default: make one)")
    parser.add_argument("--work", default=str(ROOT / "bench" / "_work" / "mrpc_quality"))
    parser.add_argument("--results-page", default=str(ROOT / "docs" / "results.md"))
    parser.add_argument("--max-minutes", type=float, default=None, help="start no new run after this long")
    parser.add_argument("--render-only", action="store_true", help="render the finished runs; train nothing")
    parser.add_argument(
        "--rows", nargs="+", choices=list(RECIPES), metavar="ROW", help="train only these rows (default: all)"
    )
    args = parser.parse_args()
    time_left = TimeBudget(args.max_minutes, args.render_only)
    study = Study(Path(args.work), time_left, args.augmented)
    if run(study, Path(args.results_page), args.rows, measure=not args.render_only):
        print(f"wall time of this invocation: {time_left.minutes():.1f} min")


def run(study: Study, page: Path, rows: list[str] | None = None, measure: bool = True) -> bool:
    """The teacher, then every run of `rows` (None: all) not yet finished, rendering after each so that an
    interrupted study keeps its figures; then the last render (speeds measured when `measure`). False, with
    nothing rendered, until the teacher is chosen."""
    teacher = study.teacher()
    if teacher is None:
        return False
    for name, recipe in RECIPES.items():
        if rows and name not in rows:
            continue
        for seed in recipe.seeds:
            if not FinishedRun(study.run_path(name, seed)).finished and study.time_left():
                study.make(name, recipe, seed, teacher)
                render(study, teacher, page)
    render(study, teacher, page, measure=measure)
    return True


if __name__ == "__main__":
    main()
