"""--speedup X chooses the largest candidate shape that is at least X times the teacher's shape's int8
throughput, as timed; here the timing is stubbed, so the rule is checked apart from a noisy CPU."""

import pytest
from transformers import BertConfig

from data import InputError
from distill import DistillSettings, TrainSettings, glue_task_data, load_tokenizer, plan_distillation
from distill.shipping.speedup import SpeedChoice, candidates, shape_for_speedup
from tests.conftest import DEMO_MLM

TEACHER = BertConfig(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536)


@pytest.fixture(scope="module")
def sample():
    task = glue_task_data("MRPC")
    return task.encode(task.dev_paths[0], load_tokenizer(DEMO_MLM), 128).subset(range(40))


def stub(speeds: dict[str, float], default=None):
    """A timing by shape name ("6L-384" is the teacher), recording what was timed and on how many rows."""
    timed = []

    def throughput(config, sample):
        shape = f"{config.num_hidden_layers}L-{config.hidden_size}"
        timed.append((shape, len(sample)))
        return speeds.get(shape, default(config) if default else 1.0)

    throughput.timed = timed
    return throughput


def by_compute(config):
    return 1e6 / (config.num_hidden_layers * config.hidden_size**2)


def test_the_largest_shape_that_reaches_the_ask_is_chosen(sample):
    throughput = stub({}, default=by_compute)
    choice = shape_for_speedup(2.0, TEACHER, sample, throughput=throughput)
    teacher = by_compute(TEACHER)
    assert choice.measured >= 2.0 and choice.examples_per_s[choice.shape] / teacher == pytest.approx(choice.measured)
    ranked = candidates(TEACHER, same_width=False)
    larger = ranked[: ranked.index(choice.shape)]  # every candidate of more compute misses the ask
    assert all(choice.examples_per_s.get(shape, 0) < 2.0 * teacher for shape in larger)
    assert choice.shape == "3L-384" and all(rows == 32 for _, rows in throughput.timed)  # half the compute: 2x


def test_a_shape_that_misses_the_ask_is_never_chosen_however_small_its_compute(sample):
    """Timings, not compute, decide: here the usual 2x shapes are slow on this (stubbed) machine."""
    slow = {"6L-384": 100.0, "3L-312": 150.0, "4L-264": 150.0, "3L-264": 190.0, "2L-312": 199.0, "4L-192": 230.0}
    choice = shape_for_speedup(2.0, TEACHER, sample, throughput=stub(slow, default=lambda c: 120.0))
    assert choice.shape == "4L-192" and choice.measured == pytest.approx(2.3)


def test_an_ask_no_shape_reaches_is_refused_naming_the_fastest(sample):
    with pytest.raises(InputError, match=r"the fastest, 1L-120, runs 61\.4x"):
        shape_for_speedup(100.0, TEACHER, sample, throughput=stub({}, default=by_compute))
    with pytest.raises(InputError, match="ask for more than 1"):
        shape_for_speedup(1.0, TEACHER, sample, throughput=stub({}, default=by_compute))


def test_methods_that_copy_teacher_layers_get_the_teachers_width():
    assert candidates(TEACHER, same_width=True) == ["4L-384", "3L-384", "2L-384", "1L-384"]
    assert all(int(shape.split("-")[1]) % 12 == 0 for shape in candidates(TEACHER, same_width=False))


def test_the_plan_builds_the_chosen_shape_and_says_why():
    speed = SpeedChoice(4.0, "2L-192", 4.6, {"teacher": 100.0, "2L-192": 460.0})
    plan = plan_distillation(DistillSettings(speedup=4.0), TrainSettings(), TEACHER, speed=speed)
    assert plan.student == "2L-192" and not plan.student_auto and plan.record()["speed"]["measured"] == 4.6
    assert "--speedup 4: 2L-192, 4.60x the teacher's int8 throughput here" in plan.describe()


def test_a_shape_is_timed_as_shipped(sample, tiny_teacher):
    """The real timing: a random model of the shape exported to int8 ONNX, run by ONNX Runtime; each
    shape's graph is built once however often it is timed."""
    from transformers import AutoConfig

    from distill.shipping.speedup import Int8Timer

    with Int8Timer() as timer:
        config = AutoConfig.from_pretrained(tiny_teacher)
        assert timer(config, sample.subset(range(32))) > 0 and timer(config, sample.subset(range(32))) > 0
        assert len(timer.graphs) == 1


def test_a_machine_that_slows_down_while_timing_does_not_move_the_ratio(sample):
    """Each candidate is timed between two timings of the teacher: a machine that grows busier with every
    timing (here 20% slower per call) leaves the ratio, and so the choice, as on a quiet machine."""
    calls = []

    def busier(config, sample):
        calls.append(config)
        return by_compute(config) / (1 + 0.2 * len(calls))

    quiet = shape_for_speedup(1.9, TEACHER, sample, throughput=stub({}, default=by_compute))
    busy = shape_for_speedup(1.9, TEACHER, sample, throughput=busier)
    assert busy.shape == quiet.shape and busy.measured == pytest.approx(quiet.measured, rel=0.05)


def test_speedup_and_a_student_shape_are_refused_together(tmp_path, tiny_teacher):
    from tests.conftest import copy_glue_rows, refused

    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 8, "dev.tsv": 8})
    common = ["distill", "--data-dir", data.parent, "--teacher", tiny_teacher, "--max-steps", 1]
    refused(*common, "--speedup", 3, "--student", "2L-32", message="--speedup chooses the student's shape")
    refused(*common, "--speedup", 1, message="Invalid value for '--speedup'")


def test_ranked_by_depth_the_deepest_shape_that_reaches_the_ask_is_chosen(sample):
    """The frontier study's question: at 4x, the most compute is 3L-264 (4.2x by compute), the most layers
    4L-192 (6x); with a timing where only compute counts, each ranking gets its own."""
    assert shape_for_speedup(4.0, TEACHER, sample, throughput=stub({}, default=by_compute)).shape == "3L-264"
    deep = shape_for_speedup(4.0, TEACHER, sample, prefer="depth", throughput=stub({}, default=by_compute))
    assert deep.shape == "4L-192" and deep.measured == pytest.approx(6.0)
    ranked = candidates(TEACHER, same_width=False, prefer="depth")
    assert ranked[:3] == ["4L-384", "4L-312", "4L-264"] and ranked[-1] == "1L-120"
    with pytest.raises(InputError, match="one of compute, balanced, depth"):
        candidates(TEACHER, same_width=False, prefer="width")


def test_ranked_by_layers_times_width_a_two_layer_shape_comes_before_the_wide_one_layer_one(sample):
    """Between the two: at 4x, where only compute counts, 3L-264 (792 units of layers x width, 4.2x) is the first
    shape by layers x width that reaches it; where the shapes from 792 down to 576 units are slow, 2L-264 (528
    units, 6.3x) comes next, well before 1L-384 (384 units, after 2L-192: deeper first among equals)."""
    balanced = shape_for_speedup(4.0, TEACHER, sample, prefer="balanced", throughput=stub({}, default=by_compute))
    assert balanced.shape == "3L-264"
    slow = {shape: 0.1 for shape in ("3L-264", "4L-192", "2L-312", "4L-144", "3L-192")}
    assert (
        shape_for_speedup(4.0, TEACHER, sample, prefer="balanced", throughput=stub(slow, by_compute)).shape == "2L-264"
    )
    ranked = candidates(TEACHER, same_width=False, prefer="balanced")
    assert ranked[:2] == ["4L-384", "4L-312"] and ranked.index("2L-192") == ranked.index("1L-384") - 1
