"""Distillation methods are plug-ins: a method registered from outside the package (here, logits-only
KD defined in this file) runs through `cli.py distill --method NAME` with its own flag, and each run
follows one plan resolved up front (student, start, layer map, stages), printed and recorded. The same
method, written out as an outside package with an entry point, is found by a fresh `cli.py` process
with no registration from Python; a broken outside plug-in is left out with a warning."""

import inspect
import json
import re
from dataclasses import dataclass
from importlib.metadata import entry_points

import click
import pytest
import torch

from cli import main
from data.options import setting
from distill import losses, methods
from distill.methods import Method, single_stage
from distill.methods.objectives import Objective, Outputs, kd_term
from distill.runs import files
from tests.conftest import ROOT, copy_glue_rows, outside_package, refused, run_cli, run_cli_process

BUILT_IN_METHODS = {"tinybert", "distilbert", "pkd", "minilm"}


@dataclass(frozen=True)
class LogitsKdOptions:
    kd_weight: float = setting(0.5, "Weight of the soft-target term; the task loss gets the rest.", minimum=0)
    temperature: float = setting(4.0, "Softmax temperature of the soft targets.", minimum=0)


class LogitsKd(Objective):
    """w * T^2 * KL(teacher || student) + (1 - w) * task loss: the teacher's logits only. Under
    --balance-classes each example's soft-target term is weighted by its class (`soft_weights`)."""

    cacheable = True

    def __init__(self, weight: float, temperature: float):
        super().__init__()
        self.weight, self.temperature = weight, temperature

    def forward(self, student, teacher, batch):
        soft = kd_term(student.logits, teacher.logits, self.temperature, self.soft_weights(teacher.logits))
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


# The same method as an outside package's one module: this file's classes, as source text, registering
# themselves as they are imported (here, by the entry point) like a built-in method module.
PLUGIN_MODULE = "\n\n".join(
    [
        '"""Logits-only KD, a method of an outside package (tests/integration/test_method_plugins.py)."""\n',
        "from dataclasses import dataclass\n",
        "from data.options import setting",
        "from distill import losses, methods",
        "from distill.methods import Method, single_stage",
        "from distill.methods.objectives import Objective, kd_term\n",
        inspect.getsource(LogitsKdOptions),
        inspect.getsource(LogitsKd),
        "@methods.register\n" + inspect.getsource(LogitsOnly),
    ]
)
BROKEN_MODULE = 'raise ImportError("broken_method_plugin needs a library that is not installed")\n'


@pytest.fixture
def logits_kd():
    methods.register(LogitsOnly)
    yield
    methods.REGISTRY.unregister("logits_kd")


def _logits_kd_package(folder):
    points = {"tinydistill.methods": {"logits_kd": "logits_kd_plugin:LogitsOnly"}}
    return outside_package(folder, "logits_kd_plugin", PLUGIN_MODULE, points)


def _squeezed(text: str) -> str:
    """Text without its whitespace: help as click wraps it (at spaces and after hyphens) compares whole."""
    return "".join(text.split())


def _method_choices(help_text: str) -> list[str]:
    (choices,) = re.findall(r"--method \[([^\]]+)\]", help_text)
    return choices.split("|")


def test_a_method_registered_outside_the_package_runs_from_the_command_line(tmp_path, tiny_teacher, logits_kd):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 32, "dev.tsv": 16})
    out = tmp_path / "run"
    common = ["distill", "--quiet", "--data-dir", data.parent, "--teacher", tiny_teacher, "--student", "2L-32"]
    result = run_cli(
        *common, "--method", "logits_kd", "--kd-weight", 0.8, "--max-steps", 4, "--eval-steps", 2, "--out", out
    )
    assert result.exit_code == 0, result.output
    assert "stage 1/1: logits_kd, 3 epochs, at most 4 steps at lr 5e-05" in result.output  # the plan, printed
    plan = json.loads((out / files.SETTINGS).read_text())["run"]["plan"]
    assert plan["method"] == "logits_kd" and plan["options"] == {"kd_weight": 0.8, "temperature": 4.0}
    assert plan["init"] == "teacher-pruned" and plan["layer_map"] is None  # the base method's defaults
    records = [json.loads(line) for line in (out / files.HISTORY).open()]
    assert [r["step"] for r in records] == [2, 4]
    for r in records:  # the loss is this file's objective: 0.8 * KD + 0.2 * task
        assert r["loss"] == pytest.approx(0.8 * r["kd"] + 0.2 * r["task"], rel=1e-5)
    assert json.loads((out / files.REPORT).read_text())["models"]["student"]["shape"] == "2L-32"
    refused(*common, "--kd-weight", 0.8, message="--method tinybert has no use for --kd-weight: drop it")


def test_the_command_line_offers_exactly_the_registered_methods_and_their_flags(logits_kd):
    command = main.commands["distill"]
    params = {p.name: p for p in command.get_params(click.Context(command))}
    assert (
        tuple(params["method"].type.choices)
        == methods.available()
        == ("distilbert", "minilm", "pkd", "tinybert", "logits_kd")  # the built-ins by name, whatever was imported
    )
    assert "[--method logits_kd]" in params["kd_weight"].help
    assert "2 (distilbert), 1 (minilm), 10 (pkd), 1 (tinybert), 4 (logits_kd)" in params["temperature"].help
    methods.REGISTRY.unregister("logits_kd")
    assert "kd_weight" not in {p.name for p in command.get_params(click.Context(command))}


def test_the_built_in_plug_ins_are_entry_points_that_load_to_the_registered_classes():
    from augment import sources

    for group, registry, built_in, package in (
        ("tinydistill.methods", methods, BUILT_IN_METHODS, "distill.methods."),
        ("tinydistill.sources", sources, {"tinybert"}, "augment.sources."),
    ):
        points = {point.name: point for point in entry_points(group=group)}
        assert built_in <= set(points)
        assert {name for name, point in points.items() if point.dist.name == "tinydistill"} == built_in
        for name in built_in:  # the entry point's object is the class of the plug-in registered by that name
            assert points[name].value.startswith(package)
            assert type(registry.get(name)) is points[name].load()


def _docs_logits_kd():
    """The objective class of docs/architecture.md's method example, run as written (it registers the
    method: taken out again at once)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "class LogitsKd(" in b)
    namespace = {}
    try:
        exec(compile(block, "docs/architecture.md", "exec"), namespace)
    finally:
        methods.REGISTRY.unregister("logits_kd")
    return namespace["LogitsKd"]


@pytest.mark.parametrize("where", ["this file", "docs/architecture.md"])
def test_the_logits_kd_objective_weights_its_soft_targets_by_class_under_balance_classes(where):
    objective_class = LogitsKd if where == "this file" else _docs_logits_kd()
    generator = torch.Generator().manual_seed(0)
    student, teacher = (Outputs(torch.randn(8, 2, generator=generator)) for _ in range(2))
    batch = {"labels": torch.tensor([0, 1, 1, 0, 1, 1, 1, 0])}
    objective = objective_class(0.6, 2.0)
    plain_loss, plain = objective(student, teacher, batch)
    assert plain["kd"] == pytest.approx(losses.kd_kl(student.logits, teacher.logits, 2.0).item(), rel=1e-6)
    objective.class_weights = torch.tensor([2.5, 0.4])  # what `_balanced` sets on every objective of a run
    weighted_loss, weighted = objective(student, teacher, batch)
    weights = objective.soft_weights(teacher.logits)
    assert weighted["kd"] == pytest.approx(losses.kd_kl(student.logits, teacher.logits, 2.0, weights).item(), rel=1e-6)
    assert weighted["kd"] != pytest.approx(plain["kd"], rel=1e-3) and weighted["task"] == plain["task"]
    assert weighted_loss.item() == pytest.approx(0.6 * weighted["kd"] + 0.4 * weighted["task"], rel=1e-6)


@pytest.mark.slow
def test_an_outside_packages_method_is_found_by_its_entry_point_in_a_fresh_process(tmp_path, tiny_teacher):
    """Nothing registers the method from Python: `cli.py` finds it through the package's metadata."""
    package = _logits_kd_package(tmp_path / "site-packages")
    helped = run_cli_process("distill", "--help", path=(package,))
    assert helped.returncode == 0, helped.stderr
    assert "logits_kd" in _method_choices(helped.stdout) and BUILT_IN_METHODS <= set(_method_choices(helped.stdout))
    shown = _squeezed(helped.stdout)
    assert _squeezed("logits_kd: soft targets and gold labels, nothing from inside the models") in shown
    assert _squeezed("--kd-weight FLOAT RANGE [--method logits_kd] Weight of the soft-target term; the task") in shown
    assert _squeezed("4 (logits_kd)") in shown and "warning" not in helped.stderr  # its --temperature default

    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 16, "dev.tsv": 8})
    out = tmp_path / "run"
    ran = run_cli_process(
        *("distill", "--quiet", "--data-dir", data.parent, "--teacher", tiny_teacher, "--student", "1L-32"),
        *("--method", "logits_kd", "--kd-weight", 0.8, "--balance-classes", "--max-steps", 2, "--eval-steps", 2),
        *("--out", out),
        path=(package,),
    )
    assert ran.returncode == 0, ran.stderr
    run = json.loads((out / files.SETTINGS).read_text())["run"]
    assert run["recipe"]["method"] == "logits_kd" and run["recipe"]["options"]["kd_weight"] == 0.8
    assert run["plan"]["method"] == "logits_kd" and run["plan"]["options"] == {"kd_weight": 0.8, "temperature": 4.0}
    assert run["plan"]["stages"][0]["name"] == "logits_kd"
    records = [json.loads(line) for line in (out / files.HISTORY).open()]
    assert [r["step"] for r in records] == [2]
    assert records[0]["loss"] == pytest.approx(0.8 * records[0]["kd"] + 0.2 * records[0]["task"], rel=1e-5)
    report = json.loads((out / files.REPORT).read_text())
    assert report["models"]["student"]["shape"] == "1L-32" and report["data"]["class_balance"]["weights"]


@pytest.mark.slow
def test_a_broken_outside_plug_in_is_left_out_with_a_warning_and_the_command_line_still_runs(tmp_path):
    broken = outside_package(
        tmp_path / "site-packages",
        "broken_method_plugin",
        BROKEN_MODULE,
        {"tinydistill.methods": {"broken": "broken_method_plugin:Broken"}},
    )
    (broken / "logits_kd_plugin.py").write_text(PLUGIN_MODULE)  # a module on the path, no entry point: no plug-in
    helped = run_cli_process("distill", "--help", path=(broken,))
    assert helped.returncode == 0, helped.stderr
    assert set(_method_choices(helped.stdout)) == BUILT_IN_METHODS
    warnings = [line for line in helped.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, helped.stderr
    assert "plug-in 'broken'" in warnings[0] and "package broken_method_plugin" in warnings[0]
    assert "ImportError: broken_method_plugin needs a library that is not installed" in warnings[0]
    assert "Traceback" not in helped.stderr
