"""Distillation methods are plug-ins: a method registered from outside the package (here, logits-only
KD defined in this file) runs through `cli.py distill --method NAME` with its own flag, and each run
follows one plan resolved up front (student, start, layer map, stages), printed and recorded."""

import json
from dataclasses import dataclass

import click
import pytest

from cli import main
from data.options import setting
from distill import losses, methods
from distill.methods import Method, single_stage
from distill.objectives import Objective
from tests.conftest import copy_glue_rows, refused, run_cli


@dataclass(frozen=True)
class LogitsKdOptions:
    kd_weight: float = setting(0.5, "Weight of the soft-target term; the task loss gets the rest.", minimum=0)
    temperature: float = setting(4.0, "Softmax temperature of the soft targets.", minimum=0)


class LogitsKd(Objective):
    """w * T^2 * KL(teacher || student) + (1 - w) * task loss: the teacher's logits only."""

    cacheable = True

    def __init__(self, weight: float, temperature: float):
        super().__init__()
        self.weight, self.temperature = weight, temperature

    def forward(self, student, teacher, batch):
        soft = losses.kd_kl(student.logits, teacher.logits, self.temperature)
        task = losses.task_loss(student.logits, batch["labels"])
        return self.weight * soft + (1 - self.weight) * task, {"kd": soft.item(), "task": task.item()}


class LogitsOnly(Method):
    name = "logits_kd"
    summary = "soft targets and gold labels, nothing from inside the models"
    Options = LogitsKdOptions

    def layer_map(self, options, context):
        return None

    def stages(self, options, context):
        return single_stage("logits_kd", context.settings)

    def objective(self, stage, options, layer_map, student, teacher):
        return LogitsKd(options.kd_weight, options.temperature)


@pytest.fixture
def logits_kd():
    methods.register(LogitsOnly)
    yield
    methods.REGISTRY.unregister("logits_kd")


def test_a_method_registered_outside_the_package_runs_from_the_command_line(tmp_path, tiny_teacher, logits_kd):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 32, "dev.tsv": 16})
    out = tmp_path / "run"
    common = ["distill", "--quiet", "--data-dir", data.parent, "--teacher", tiny_teacher, "--student", "2L-32"]
    result = run_cli(
        *common, "--method", "logits_kd", "--kd-weight", 0.8, "--max-steps", 4, "--eval-steps", 2, "--out", out
    )
    assert result.exit_code == 0, result.output
    assert "stage 1/1: logits_kd, 3 epochs, at most 4 steps at lr 5e-05" in result.output  # the plan, printed
    plan = json.loads((out / "settings.json").read_text())["run"]["plan"]
    assert plan["method"] == "logits_kd" and plan["options"] == {"kd_weight": 0.8, "temperature": 4.0}
    assert plan["init"] == "teacher-pruned" and plan["layer_map"] is None  # the base method's defaults
    records = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    assert [r["step"] for r in records] == [2, 4]
    for r in records:  # the loss is this file's objective: 0.8 * KD + 0.2 * task
        assert r["loss"] == pytest.approx(0.8 * r["kd"] + 0.2 * r["task"], rel=1e-5)
    assert json.loads((out / "report.json").read_text())["models"]["student"]["shape"] == "2L-32"
    refused(*common, "--kd-weight", 0.8, message="--method tinybert has no use for --kd-weight: drop it")


def test_the_command_line_offers_exactly_the_registered_methods_and_their_flags(logits_kd):
    command = main.commands["distill"]
    params = {p.name: p for p in command.get_params(click.Context(command))}
    assert (
        tuple(params["method"].type.choices)
        == methods.available()
        == ("tinybert", "distilbert", "pkd", "minilm", "logits_kd")
    )
    assert "[--method logits_kd]" in params["kd_weight"].help
    assert "1 (tinybert), 2 (distilbert), 10 (pkd), 1 (minilm), 4 (logits_kd)" in params["temperature"].help
    methods.REGISTRY.unregister("logits_kd")
    assert "kd_weight" not in {p.name for p in command.get_params(click.Context(command))}
