"""The frontier study's choices (bench/frontier.py): with the first seed, each ask's budget, shape and the
4x method are chosen on the held-out slice from seed-42 runs; with all seeds, only the chosen recipe is
trained. Runs are stand-ins that record what was asked and carry a scripted held-out accuracy."""

import json

import pytest

from bench.frontier import TASKS, FrontierStudy

SHAPES = {"2x": "2L-384", "4x": "4L-192", "8x": "1L-264"}
WIDE = {"2x": "2L-384", "4x": "1L-384", "8x": None}  # 2x: the same shape; 8x: no teacher-width shape is fast enough
HELD_OUT = {  # (method, shape, budget): accuracy on the held-out slice
    ("tinybert", "2L-384", "matched"): 0.72,
    ("tinybert", "2L-384", "long"): 0.76,
    ("tinybert", "4L-192", "matched"): 0.62,
    ("tinybert", "4L-192", "long"): 0.61,
    ("tinybert", "1L-384", "matched"): 0.70,
    ("tinybert", "1L-264", "matched"): 0.53,
    ("tinybert", "1L-264", "long"): 0.60,
    ("minilm", "1L-384", "matched"): 0.71,
}


@pytest.fixture
def study(tmp_path, monkeypatch):
    study = FrontierStudy(TASKS["MRPC"], tmp_path / "MRPC", tmp_path / "quality", lambda: True)
    study.choices = {"shapes": SHAPES, "wide_shapes": WIDE}
    study.asked = []

    def student(teacher, method, shape, seed, lrs=None, budget="matched"):
        study.asked.append((method, shape, seed, budget, lrs))
        run = tmp_path / "runs" / f"{method}-{shape}-{budget}-{seed}-{bool(lrs)}"
        run.mkdir(parents=True, exist_ok=True)
        accuracy = HELD_OUT.get((method, shape, budget), 0.5)
        (run / "report.json").write_text(json.dumps({"selection": {"kept_holdout": {"accuracy": accuracy}}}))
        return run

    monkeypatch.setattr(study, "student", student)
    monkeypatch.setattr(study, "teacher", lambda: tmp_path / "teacher")
    monkeypatch.setattr(study, "timed", lambda name, make: None)  # the int8 teacher and the static baseline
    return study


def test_the_first_seed_chooses_budget_shape_and_method_on_the_held_out_slice(study):
    study.run((42,))
    assert study.choices["budget"] == {"2L-384": "long", "4L-192": "matched", "1L-264": "long"}
    assert study.choices["shape"] == {"4x": "1L-384"}  # 0.70 against 4L-192's 0.62 at the 4x budget
    assert study.choices["method"] == "minilm"  # 0.71 against TinyBERT's 0.70, at the chosen 4x shape
    assert {seed for _, _, seed, _, _ in study.asked} == {42}
    assert ("tinybert", "4L-192", 42, "matched", (5e-5, 3e-5)) in study.asked  # the published rates, for the record


def test_the_other_seeds_train_only_the_chosen_recipe(study):
    study.run((42,))
    first = len(study.asked)
    study.run((42, 43, 44))
    later = study.asked[first:]
    chosen = {("minilm", "2L-384", "long"), ("minilm", "1L-384", "matched"), ("minilm", "1L-264", "long")}
    assert {(method, shape, budget) for method, shape, _, budget, _ in later} == chosen
    assert sorted(seed for _, _, seed, _, _ in later) == [42] * 3 + [43] * 3 + [44] * 3
