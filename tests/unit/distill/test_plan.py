"""One plan per run: every default the method fills and every check it makes, resolved up front from the
recipe and the teacher's shape, printable and recordable as it stands."""

import json

import pytest
from transformers import BertConfig

from data import InputError
from distill import DistillSettings, TrainSettings, plan_distillation


def _plan_teacher():
    return BertConfig(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536)


def _plan(method: str, student: str = "auto", **options):
    recipe = DistillSettings(method=method, student=student, options=options)
    return plan_distillation(recipe, TrainSettings(), _plan_teacher())


def test_one_plan_says_everything_a_run_will_do():
    plan = _plan("tinybert")
    assert (plan.student, plan.init, plan.imitated_layers) == ("4L-312", "teacher-pruned", [1, 2, 4, 5])
    assert plan.layer_map == ((1, 2), (2, 3), (3, 5), (4, 6))
    assert [(s.name, s.epochs, s.lr, s.folder, s.scored) for s in plan.stages] == [
        ("intermediate", 1.0, 5e-5, "intermediate", False),  # the study's budget: one epoch per stage
        ("prediction", 1.0, 3e-5, "", True),
    ]
    assert plan.describe().splitlines() == [
        "student: 4L-312 (--student auto for tinybert from a 6L-384 teacher); teacher-pruned start",
        "layer map (student -> teacher layer): 1->2, 2->3, 3->5, 4->6 (default, evenly spaced)",
        "stage 1/2: tinybert stage 1 (intermediate layers), 1 epochs at lr 5e-05 in intermediate/",
        "stage 2/2: tinybert stage 2 (prediction), 1 epochs at lr 3e-05",
    ]
    assert json.loads(json.dumps(plan.record())) == plan.record()  # recordable as it is
    pkd = _plan("pkd", pkd_strategy="last")
    assert (pkd.student, pkd.init, pkd.layer_map, pkd.imitated_layers) == (
        "3L-384",
        "teacher-lowest",
        ((1, 4), (2, 5)),
        None,
    )
    assert _plan("distilbert", "2L-384").layer_map is None and _plan("distilbert").init == "teacher-alternate"


def test_the_default_budget_is_the_studys_and_the_published_one_is_one_option_away():
    published = _plan("tinybert", budget="published")
    assert [(s.epochs, s.max_steps) for s in published.stages] == [(10.0, None), (3.0, None)]
    capped = plan_distillation(DistillSettings(), TrainSettings(max_steps=50, epochs=2.0), _plan_teacher())
    assert [(s.epochs, s.max_steps) for s in capped.stages] == [(1.0, 50), (2.0, 50)]  # --epochs is stage 2's
    explicit = _plan("tinybert", budget="published", intermediate_epochs=4)
    assert [s.epochs for s in explicit.stages] == [4.0, 3.0]


def test_a_plan_is_refused_before_any_training_when_the_recipe_cannot_run():
    with pytest.raises(InputError, match="the student needs the teacher's width 384"):
        _plan("distilbert", "3L-192")
    with pytest.raises(InputError, match="--stage prediction runs no stage 1: drop --intermediate-lr"):
        _plan("tinybert", stage="prediction", intermediate_lr=1e-4)
    with pytest.raises(InputError, match="--method must be one of distilbert, minilm, pkd, tinybert, got 'nope'"):
        _plan("nope")


def test_minilm_plans_one_relation_layer_and_a_pruned_start_from_evenly_spread_layers():
    plan = _plan("minilm", "4L-192", relation_layer=5)
    assert plan.layer_map == ((4, 5),) and plan.imitated_layers == [1, 2, 4, 5] and plan.init == "teacher-pruned"
    assert [s.name for s in plan.stages] == ["intermediate", "prediction"]
    assert [s.description for s in plan.stages] == [
        "minilm stage 1 (attention and value relations)",
        "minilm stage 2 (prediction)",
    ]
    assert _plan("minilm").layer_map == ((4, 6),)  # the teacher's last layer by default
    with pytest.raises(InputError, match="--relation-layer 7: the teacher has 6 layers"):
        _plan("minilm", relation_layer=7)
