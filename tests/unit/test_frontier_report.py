"""The frontier study's report (bench/frontier_report.py, bench/frontier_page.py): the targets table judges
the best student fast enough for each target and calls a lead within the seeds' spread level with the static
baseline; a checkout without the study's work folder re-draws the page from the committed rows (into the
study's own results folder); and the committed rows hold the issue's fields, 3 seeds for every chosen
student, and are what docs/frontier.md shows."""

import json
import shutil
from types import SimpleNamespace

import pytest

from bench.frontier_page import chosen_students, markdown, targets_markdown
from bench.frontier_report import committed_rows, render_task
from tests.conftest import ROOT

FIELDS = (
    "task name kind shape runtime precision seeds acc acc_std f1 holdout_acc ex_per_s_batch32 ms_batch1 disk_mb "
    "minutes_to_make"
).split()


def student(name, acc, std, x32, x1, speed):
    gain = (acc - 0.68) / 0.14
    return {
        "kind": "student",
        "name": name,
        "acc": acc,
        "acc_std": std,
        "seeds": 3,
        "gain_kept": gain,
        "f1_kept": 0.96,
        "x_int8_teacher_batch32": x32,
        "x_int8_teacher_batch1": x1,
        "ex_per_s_batch32": speed,
    }


def test_each_target_judges_the_best_student_fast_enough_and_a_tie_with_the_static_baseline_is_level():
    rows = [
        student("student 2x (a)", 0.790, 0.006, 1.8, 1.7, 490.0),  # the most accurate, too slow for either target
        student("student 4x (b)", 0.747, 0.004, 3.0, 2.4, 826.0),  # 0.002 above the baseline, std 0.004: level
        student("student 8x (c)", 0.700, 0.012, 5.0, 4.2, 1362.0),  # fast enough for 4x, 0.045 below: no
        student("student 4x (d) (shape candidate)", 0.800, None, 9.0, 9.0, 2000.0),  # a candidate: no target
        {"kind": "baseline", "name": "static", "acc": 0.745, "ex_per_s_batch32": 47_000.0},
    ]
    lines = targets_markdown("MRPC", rows).splitlines()
    four, two = lines[2], lines[3]
    assert "student 8x (c) (5.0x / 4.2x, 3 seeds)" in four and four.endswith("| no |")
    assert "student 4x (b) (3.0x / 2.4x, 3 seeds)" in two and "| 48% of the gain | no |" in two
    verdicts = {line.split(" | ")[1]: line.split(" | ")[3] for line in lines[4:]}
    assert list(verdicts) == ["student 2x (a)", "student 4x (b)", "student 8x (c)"]
    assert verdicts["student 2x (a)"] == "yes |"
    assert verdicts["student 4x (b)"].startswith("level (within the seeds' standard deviation)")
    assert "57x faster at batch 32" in verdicts["student 4x (b)"]
    assert verdicts["student 8x (c)"] == "no: the static baseline is the better buy |"


def test_without_the_teacher_the_page_is_redrawn_from_the_committed_rows_and_nothing_is_rewritten(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(ROOT / "bench" / "results" / "frontier.json", results)
    page = tmp_path / "frontier.md"
    page.write_text("# page\n<!-- frontier-MRPC:start -->\nstale\n<!-- frontier-MRPC:end -->\ntail\n")
    gone = SimpleNamespace(teacher_path=lambda: tmp_path / "gone" / "teacher")
    study = SimpleNamespace(spec=SimpleNamespace(name="MRPC"), jobs=gone, results=results)  # the report reads these
    before = (results / "frontier.json").read_bytes()

    rows = render_task(study, page, measure=True)

    assert rows and {row["task"] for row in rows} == {"MRPC"}
    text = page.read_text()
    assert "stale" not in text and markdown(rows) in text and targets_markdown("MRPC", rows) in text
    assert text.endswith("<!-- frontier-MRPC:end -->\ntail\n")
    assert (results / "frontier_MRPC.png").stat().st_size > 10_000
    assert (results / "frontier.json").read_bytes() == before


@pytest.mark.parametrize("task", ["MRPC", "SST-2"])
def test_the_committed_rows_hold_the_issues_fields_three_seeds_per_chosen_student_and_are_what_the_docs_show(task):
    rows = committed_rows(task)
    assert {row["kind"] for row in rows} == {"majority", "teacher", "student", "baseline"}
    for row in rows:
        missing = [field for field in FIELDS if field not in row]
        assert not missing, f"{row['name']} lacks {missing}"
    chosen = chosen_students(rows)
    asks = sorted(row["name"].split()[1] for row in chosen)
    assert set(asks) == {"2x", "4x", "8x"} and all(row["seeds"] == 3 for row in chosen)
    assert all(row["acc_std"] is not None for row in chosen)
    page = (ROOT / "docs" / "frontier.md").read_text()
    assert markdown(rows) in page and targets_markdown(task, rows) in page
    if task == "MRPC":  # each seed of its claims is on record (SST-2's 3-seed rows predate the records)
        records = json.loads((ROOT / "bench" / "results" / "frontier_runs.json").read_text())[task]["runs"]
        for row in chosen:
            accs = [records[run]["dev"]["accuracy"] for run in row["runs"]]
            assert row["acc"] == pytest.approx(sum(accs) / len(accs))
