"""The frontier study's choices (bench/frontier.py): with the first seed, each ask's class balance, budget,
shape and the 4x method are chosen on the held-out slice from seed-42 runs; with all seeds, only the chosen
recipe is trained. Runs are stand-ins that record what was asked and carry a scripted held-out accuracy."""

import json

import pytest

from bench.frontier import TASKS, FrontierStudy

SHAPES = {"2x": "2L-384", "4x": "4L-192", "8x": "1L-264"}
WIDE = {"2x": "2L-384", "4x": "1L-384", "8x": None}  # 2x: the same shape; 8x: no teacher-width shape is fast enough
HELD_OUT = {  # (method, shape, budget, balanced): accuracy on the held-out slice (MRPC's budgets: long, full)
    ("tinybert", "2L-384", "long", False): 0.76,
    ("tinybert", "2L-384", "long", True): 0.75,
    ("tinybert", "2L-384", "full", False): 0.78,
    ("tinybert", "4L-192", "long", False): 0.62,
    ("tinybert", "4L-192", "long", True): 0.66,
    ("tinybert", "4L-192", "full", True): 0.65,
    ("tinybert", "1L-384", "long", True): 0.70,
    ("tinybert", "1L-264", "long", False): 0.58,
    ("tinybert", "1L-264", "long", True): 0.60,
    ("tinybert", "1L-264", "full", True): 0.59,
    ("minilm", "1L-384", "long", True): 0.71,
}


@pytest.fixture
def study(tmp_path, monkeypatch):
    study = FrontierStudy(TASKS["MRPC"], tmp_path / "MRPC", tmp_path / "quality", lambda: True)
    study.choices = {"shapes": SHAPES, "wide_shapes": WIDE}
    study.asked = []

    def student(teacher, method, shape, seed, lrs=None, budget="matched", balance=False):
        study.asked.append((method, shape, seed, budget, balance, lrs))
        run = tmp_path / "runs" / f"{method}-{shape}-{budget}-{balance}-{seed}-{bool(lrs)}"
        run.mkdir(parents=True, exist_ok=True)
        accuracy = HELD_OUT.get((method, shape, budget, balance), 0.5)
        (run / "report.json").write_text(json.dumps({"selection": {"kept_holdout": {"accuracy": accuracy}}}))
        return run

    monkeypatch.setattr(study, "student", student)
    monkeypatch.setattr(study, "teacher", lambda: tmp_path / "teacher")
    monkeypatch.setattr(study, "timed", lambda name, make: None)  # the int8 teacher and the static baseline
    return study


def test_the_first_seed_chooses_balance_budget_shape_and_method_on_the_held_out_slice(study):
    study.run((42,))
    assert study.choices["balance"] == {"2L-384": False, "4L-192": True, "1L-264": True}
    assert study.choices["budget"] == {"2L-384": "full", "4L-192": "long", "1L-264": "long"}
    assert study.choices["shape"] == {"4x": "1L-384"}  # 0.70 against 4L-192's 0.66 at the 4x budget and balance
    assert study.choices["method"] == "minilm"  # 0.71 against TinyBERT's 0.70, at the chosen 4x shape
    assert {seed for *_, seed, _, _, _ in study.asked} == {42}
    assert ("tinybert", "4L-192", 42, "matched", False, (5e-5, 3e-5)) in study.asked  # the published rates, on record
    balanced_budgets = {budget for _, shape, _, budget, on, _ in study.asked if shape == "4L-192" and on}
    assert balanced_budgets == {"long", "full"}  # the budget candidates run with the ask's chosen balance


def test_the_other_seeds_train_only_the_chosen_recipe(study):
    study.run((42,))
    first = len(study.asked)
    study.run((42, 43, 44))
    later = study.asked[first:]
    chosen = {
        ("minilm", "2L-384", "full", False),
        ("minilm", "1L-384", "long", True),
        ("minilm", "1L-264", "long", True),
    }
    assert {(method, shape, budget, on) for method, shape, _, budget, on, _ in later} == chosen
    assert sorted(seed for _, _, seed, *_ in later) == [42] * 3 + [43] * 3 + [44] * 3


def test_a_budget_candidate_added_later_is_run_and_compared_with_the_recorded_scores(study):
    """A resumed study whose record predates the "full" budget runs only that candidate at seed 42."""
    recorded = {"long": 0.76}
    study.choices.update(
        balance={"2L-384": False},
        budget={"2L-384": "long"},
        budget_holdout_acc={"2L-384": dict(recorded)},
        lrs_holdout_acc={"published": 0.55, "study": 0.62},
    )
    assert study.budget(None, "2x") == "full"
    assert study.asked == [("tinybert", "2L-384", 42, "full", False, None)]
    assert study.choices["budget_holdout_acc"]["2L-384"] == {**recorded, "full": 0.78}


def test_a_task_without_augmentation_trains_no_balance_or_budget_candidates(tmp_path):
    study = FrontierStudy(TASKS["SST-2"], tmp_path / "SST-2", tmp_path / "quality", lambda: True)
    assert study.balance(None, "4x") is False
    assert study.budget(None, "4x") == "matched"
    assert "budget" not in study.choices and "balance" not in study.choices
