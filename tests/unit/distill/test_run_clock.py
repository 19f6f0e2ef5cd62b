"""The run's clock: budgets counted as the loop counts them, stage costs added up by hand, one bar whose
total covers every stage (a resumed run starts it where it stopped), and a warm-up that changes nothing."""

import pytest
import torch

from distill import TrainSettings, build_student, glue_task_data, layer_maps, load_teacher, load_tokenizer
from distill.examples.encoding import LabelScheme
from distill.methods.pkd import PatientKD
from distill.methods.tinybert import TinyBertIntermediate
from distill.training.clock import RunClock, StageBudget, StageCost, measure_stage
from tests.conftest import DEMO_MLM


@pytest.mark.parametrize(
    ("examples", "settings", "scored", "expected"),
    [
        (100, TrainSettings(epochs=1.5, batch_size=32), True, (6, 4, 4)),  # 4 batches an epoch, evaluated each epoch
        (100, TrainSettings(epochs=1.0, batch_size=32, grad_accum=3), True, (2, 2, 2)),  # ceil(4 / 3) steps an epoch
        (100, TrainSettings(max_steps=7, epochs=1.0, batch_size=10, eval_steps=3), True, (7, 10, 3)),
        (1000, TrainSettings(epochs=2.0, batch_size=10), False, (200, 100, 20)),  # unscored: every tenth of the run
    ],
)
def test_a_stage_budget_counts_steps_and_evaluations_as_the_loop_does(examples, settings, scored, expected):
    budget = StageBudget.of(examples, settings, scored=scored)
    assert (budget.steps, budget.steps_per_epoch, budget.eval_every) == expected
    assert StageBudget.of(examples, settings, scored=scored, processes=2).steps_per_epoch == pytest.approx(
        -(-(-(-examples // settings.batch_size) // 2) // settings.grad_accum)
    )


def cost(steps=10, per_epoch=5, every=4, student=1.0, teacher=0.5, evaluation=2.0, cached=True, name="stage"):
    return StageCost(name, StageBudget(steps, per_epoch, every), student, teacher, evaluation, cached)


def test_a_stage_cost_adds_steps_a_cached_teacher_and_evaluations():
    stage = cost()
    # 10 student steps of 1 s, the teacher in the first epoch only (5 of 0.5 s), evaluations after
    # steps 4, 8 and the last (3 of 2 s)
    assert stage.seconds == pytest.approx(10 + 2.5 + 6)
    assert stage.seconds_until(4) == pytest.approx(4 + 2 + 2)
    assert sum(stage.step_seconds(step) for step in range(1, 11)) == pytest.approx(stage.seconds)
    assert cost(cached=False).seconds == pytest.approx(10 + 5 + 6)
    assert cost(steps=8).seconds == pytest.approx(8 + 2.5 + 4)  # the last evaluation is the step-8 one
    stored = StageCost("stage", StageBudget(10, 5, 4), 1.0, 0.5, 2.0, True, teacher_known=0.6)
    assert stored.seconds == pytest.approx(10 + 5 * 0.4 * 0.5 + 6)  # 60% of the teacher's passes were stored
    assert stored.step_s == pytest.approx((10 + 5 * 0.4 * 0.5) / 10) and cost(cached=False).step_s == 1.5
    assert "60% of the teacher's outputs stored by earlier runs" in RunClock([stored], progress=False).describe()


def test_a_finished_run_never_takes_the_bar_past_its_total(recwarn):
    """A total rounded down below the sum of the steps' shares made tqdm warn "clamping frac" on screen."""
    stage = cost(steps=3, per_epoch=3, every=3, student=1.0149, teacher=0.0, evaluation=0.0, cached=False)
    clock = RunClock([stage], progress=True)
    clock.begin(0, 0)
    for step in range(1, 4):
        clock.step(step)
    clock.close()
    assert not [w for w in recwarn if "clamping frac" in str(w.message)]


def test_one_bar_covers_every_stage_and_a_resumed_run_starts_where_it_stopped():
    first, second = cost(name="stage 1"), cost(steps=6, per_epoch=6, every=3, student=3.0, name="stage 2")
    clock = RunClock([first, second], progress=True)
    assert clock.seconds == pytest.approx(first.seconds + second.seconds)
    assert "estimated time: " in clock.describe() and "stage 1" in clock.describe() and "stage 2" in clock.describe()
    clock.begin(0, 0)
    assert clock.bar.total == pytest.approx(clock.seconds, abs=0.1)  # the ETA's total: both stages
    for step in range(1, 11):
        clock.step(step)
    assert clock.bar.n == pytest.approx(first.seconds)
    clock.begin(1, 0)
    clock.step(1)
    assert clock.bar.n == pytest.approx(first.seconds + second.step_seconds(1))
    clock.close()

    resumed = RunClock([first, second], progress=True)
    resumed.begin(0, 10)  # stage 1 already finished
    resumed.begin(1, 4)
    done = first.seconds + second.seconds_until(4)
    assert resumed.bar.n == pytest.approx(done, abs=0.1) and resumed.bar.initial == pytest.approx(done, abs=0.1)
    resumed.close()


@pytest.fixture(scope="module")
def tiny_run(tiny_teacher):
    task = glue_task_data("MRPC")
    examples = task.encode(task.dev_paths[0], load_tokenizer(DEMO_MLM), 128).subset(range(64))
    teacher = load_teacher(tiny_teacher, LabelScheme(("0", "1")))
    return examples, teacher


@pytest.mark.parametrize("objective_class", [TinyBertIntermediate, PatientKD])
def test_the_warm_up_changes_no_weight_gradient_or_random_stream(tiny_run, objective_class):
    examples, teacher = tiny_run
    width = 32 if objective_class is TinyBertIntermediate else teacher.config.hidden_size  # PKD: the teacher's
    student = build_student(f"2L-{width}", teacher, LabelScheme(("0", "1")), "teacher-pruned", calibration=examples)
    layer_map = layer_maps.resolve(None, 2, teacher.config.num_hidden_layers)
    if objective_class is TinyBertIntermediate:
        objective = TinyBertIntermediate.between(student, teacher, layer_map)
    else:
        objective = PatientKD(layer_map)
    weights = {name: value.clone() for name, value in [*student.state_dict().items(), *objective.state_dict().items()]}
    rng = torch.random.get_rng_state()
    settings = TrainSettings(epochs=2.0, batch_size=8, precision="fp32")
    stage = measure_stage("stage", student, objective, teacher, examples, [examples], settings)
    assert torch.equal(torch.random.get_rng_state(), rng)
    now = [*student.state_dict().items(), *objective.state_dict().items()]  # the optimizer stepped, then was undone
    assert all(torch.equal(value, weights[name]) for name, value in now)
    assert all(p.grad is None for p in [*student.parameters(), *objective.parameters()])
    assert stage.student_step_s > 0 and stage.teacher_step_s > 0 and stage.evaluation_s > 0
    assert stage.budget.steps == 16 and stage.teacher_cached == (objective_class is PatientKD)
    one = measure_stage("stage", student, objective, teacher, examples.subset([0]), [], settings)  # a one-row set
    assert one.budget.steps == 2 and one.student_step_s > 0 and one.evaluation_s == 0.0
