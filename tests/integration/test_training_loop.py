"""What docs/distill.md promises of the training loop: gradient accumulation, warm-up then linear decay,
clipping at 1.0, each TinyBERT stage's own flags, and a default teacher fine-tune that resumes."""

import json
import logging
from pathlib import Path

import accelerate
import pytest
import torch
from click.testing import CliRunner
from transformers import BertForSequenceClassification

from cli import main
from distill import DistillSettings, TeacherFallback, TrainCallback, TrainSettings, distill, glue_task_data, train
from distill.methods.objectives import TaskOnly
from distill.runs import files
from distill.training.clock import WARM_UP_PASSES
from tests.conftest import copy_glue_rows, save_tiny_bert


@pytest.fixture
def mrpc_small(tmp_path):
    """40 real MRPC train rows and 24 dev rows, in a folder of this test's own."""
    return copy_glue_rows(tmp_path / "mrpc-data" / "MRPC", "MRPC", {"train.tsv": 40, "dev.tsv": 24})


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory, tokenizer):
    """A 2-layer BERT classifier without dropout (so batch splits are the only difference), saved."""
    return save_tiny_bert(
        tmp_path_factory.mktemp("tiny-classifier"),
        tokenizer,
        BertForSequenceClassification,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )


def _fine_tune(folder, mrpc_small, tokenizer, out, **settings):
    task = glue_task_data("MRPC", mrpc_small.parent)
    examples = task.encode(task.train_path, tokenizer, 128)
    model = BertForSequenceClassification.from_pretrained(folder)
    train(
        model,
        TaskOnly(),
        examples,
        None,
        task.spec.metrics,
        out,
        TrainSettings(**{"group_by_length": False, "lr": 1e-3, "warmup": 0.0, **settings}),
        progress=False,
    )
    return model.state_dict()


def _first_step_gradients(monkeypatch, *args, **settings):
    """The gradients the first optimizer step applies (caught where they are clipped)."""
    caught, real_clip = [], accelerate.Accelerator.clip_grad_norm_

    def catching(self, parameters, *rest, **kwargs):
        parameters = list(parameters)
        caught.append([p.grad.clone() for p in parameters])
        return real_clip(self, parameters, *rest, **kwargs)

    monkeypatch.setattr(accelerate.Accelerator, "clip_grad_norm_", catching)
    _fine_tune(*args, max_steps=1, **settings)
    monkeypatch.undo()
    assert len(caught) == 1  # one optimizer step, however many batches it took
    return caught[0]


def _relative_gap(a, b):
    """The size of the difference between two gradients, relative to the first's size. Over all
    parameters at once: the attention key biases get gradients of rounding noise alone (the softmax
    ignores them), whose relative gap per parameter says nothing and varies with the CPU's kernels."""
    a, b = torch.cat([x.flatten() for x in a]), torch.cat([y.flatten() for y in b])
    return ((a - b).norm() / a.norm()).item()


def test_gradient_accumulation_equals_one_larger_batch(tmp_path, tiny_classifier, mrpc_small, tokenizer, monkeypatch):
    common = (monkeypatch, tiny_classifier, mrpc_small, tokenizer)
    large = _first_step_gradients(*common, tmp_path / "a", batch_size=8)
    accumulated = _first_step_gradients(*common, tmp_path / "b", batch_size=4, grad_accum=2)
    small = _first_step_gradients(*common, tmp_path / "c", batch_size=4)
    assert _relative_gap(large, small) > 0.1  # half the batch alone is another gradient...
    assert _relative_gap(large, accumulated) < 0.01  # ...two accumulated halves are the whole batch's mean
    _fine_tune(tiny_classifier, mrpc_small, tokenizer, tmp_path / "d", max_steps=3, batch_size=4, grad_accum=2)
    steps = [json.loads(line)["step"] for line in (tmp_path / "d" / files.HISTORY).open()]
    assert steps == [1, 2, 3]  # 3 optimizer steps from 6 batches (nothing scored: a record every tenth, rounded up)


def test_learning_rate_warms_up_linearly_then_decays_linearly(
    tmp_path, tiny_classifier, mrpc_small, tokenizer, monkeypatch
):
    used, real_step = [], torch.optim.AdamW.step

    def recording(self, *args, **kwargs):
        used.append(self.param_groups[0]["lr"])
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording)
    _fine_tune(
        tiny_classifier, mrpc_small, tokenizer, tmp_path / "run", max_steps=20, batch_size=4, lr=1e-3, warmup=0.1
    )
    # 10% of 20 steps: 2 warm-up steps up to the peak 1e-3, then a straight line down towards 0 at step 20
    expected = [1e-3 * s / 2 for s in range(2)] + [1e-3 * (20 - s) / 18 for s in range(2, 20)]
    assert used[-20:] == pytest.approx(expected, rel=1e-6)
    assert used[:-20] == [0.0] * WARM_UP_PASSES  # the run clock's timed steps, at lr 0 (and undone)


def test_gradients_are_clipped_at_norm_one(tmp_path, tiny_classifier, mrpc_small, tokenizer, monkeypatch):
    norms, real_clip = [], accelerate.Accelerator.clip_grad_norm_

    def checking(self, parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        before = real_clip(self, parameters, max_norm, *args, **kwargs)
        after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in parameters if p.grad is not None]))
        norms.append((max_norm, float(before), float(after)))
        return before

    monkeypatch.setattr(accelerate.Accelerator, "clip_grad_norm_", checking)
    _fine_tune(tiny_classifier, mrpc_small, tokenizer, tmp_path / "run", max_steps=4, batch_size=8, lr=5e-2)
    assert len(norms) == 4 and all(limit == 1.0 for limit, _, _ in norms)
    assert any(before > 1.5 for _, before, _ in norms)  # large gradients happened...
    for _, before, after in norms:  # ...and left the clip no larger than 1
        assert after == pytest.approx(min(before, 1.0), rel=1e-4)


def test_stage_both_gives_each_tinybert_stage_its_own_flags(tmp_path, tiny_classifier, mrpc_small):
    def run(out, *flags):
        result = CliRunner().invoke(
            main,
            [
                "distill",
                "--quiet",
                "--data-dir",
                mrpc_small.parent,
                "--teacher",
                tiny_classifier,
                "--student",
                "1L-16",
                "--batch-size",
                "16",
                "--out",
                out,
                *map(str, flags),
            ],
        )
        assert result.exit_code == 0, result.output
        return [json.loads((out / part / files.SETTINGS).read_text()) for part in ("intermediate", ".")]

    stage1, stage2 = run(
        tmp_path / "given", "--intermediate-epochs", 1, "--intermediate-lr", 1e-3, "--epochs", 2, "--lr", 2e-4
    )
    assert (stage1["epochs"], stage1["lr"]) == (1.0, 1e-3) and (stage2["epochs"], stage2["lr"]) == (2.0, 2e-4)
    steps = [json.loads(line)["step"] for line in (tmp_path / "given" / files.HISTORY).open()]
    assert steps == [3, 6]  # 40 rows in batches of 16: 3 steps per epoch, 2 epochs
    stage1, stage2 = run(tmp_path / "defaults", "--intermediate-epochs", 1)
    assert (stage1["epochs"], stage1["lr"]) == (1.0, 5e-5)  # the published stage-1 lr
    assert (stage2["epochs"], stage2["lr"]) == (1.0, 3e-5)  # the study's one epoch at the published stage-2 lr


def test_an_interrupted_default_teacher_fine_tune_is_resumed(tmp_path, tiny_classifier, mrpc_small, caplog):
    """`distill` with no --teacher fine-tunes one first; killed mid-way, the next `distill` resumes it."""
    teacher = Path("runs") / "teacher" / "MRPC"

    class Checkpoints(TrainCallback):
        def __init__(self, interrupt: bool):
            self.saves, self.interrupt = [], interrupt

        def on_checkpoint(self, out, state):
            self.saves.append((out == teacher, state["step"]))
            if self.saves == [(True, 2)] and self.interrupt:
                raise KeyboardInterrupt  # killed right after the teacher's first checkpoint

    def run(callback):
        distill(
            glue_task_data("MRPC", mrpc_small.parent),
            None,
            None,
            TrainSettings(max_steps=4, eval_steps=2),
            DistillSettings(student="1L-16", options={"stage": "prediction"}),
            fallback=TeacherFallback(teacher_encoder=str(tiny_classifier)),
            progress=False,
            callbacks=[callback],
        )

    first = Checkpoints(interrupt=True)
    with pytest.raises(KeyboardInterrupt):
        run(first)
    assert first.saves == [(True, 2)]
    assert not (teacher / files.REPORT).exists() and (teacher / "checkpoint").is_dir()
    second = Checkpoints(interrupt=False)
    logging.getLogger("tinydistill").addHandler(caplog.handler)  # the command line stops propagation
    try:
        run(second)
    finally:
        logging.getLogger("tinydistill").removeHandler(caplog.handler)
    assert "resuming its fine-tune" in caplog.text
    # finetune's own budget (3 epochs of 2 steps, a checkpoint each), not the student's --max-steps: the
    # resumed teacher saves only the epochs it had left
    assert [step for is_teacher, step in second.saves if is_teacher] == [4, 6]
    assert (teacher / files.REPORT).is_file()


@pytest.mark.parametrize("scored", [True, False])
def test_without_a_dev_set_the_loss_is_recorded_every_tenth_of_the_run(
    tmp_path, tiny_classifier, mrpc_small, tokenizer, scored
):
    """40 rows in batches of 4: 10 steps an epoch, 30 steps in all. Scoring a dev set happens every epoch;
    with nothing to score (general distillation) the loss and a checkpoint come every 3 steps."""
    task = glue_task_data("MRPC", mrpc_small.parent)
    examples = task.encode(task.train_path, tokenizer, 128)
    dev = task.encode(task.dev_paths[0], tokenizer, 128) if scored else None
    model = BertForSequenceClassification.from_pretrained(tiny_classifier)
    settings = TrainSettings(max_steps=30, batch_size=4, group_by_length=False)
    train(model, TaskOnly(), examples, dev, task.spec.metrics, tmp_path / "run", settings, progress=False)
    records = [json.loads(line) for line in (tmp_path / "run" / files.HISTORY).open()]
    assert [r["step"] for r in records] == (list(range(10, 31, 10)) if scored else list(range(3, 31, 3)))
    assert all(("dev" in r) == scored for r in records)


def test_runs_of_other_precisions_follow_each_other_in_one_process(tmp_path, tiny_classifier, mrpc_small, tokenizer):
    """accelerate keeps one state per process; a Python user (or a benchmark) running bf16 then fp32 must
    get both, not 'AcceleratorState has already been initialized'."""
    for precision in ("bf16", "fp32", "bf16"):
        _fine_tune(
            tiny_classifier, mrpc_small, tokenizer, tmp_path / precision, max_steps=1, batch_size=8, precision=precision
        )
        assert json.loads((tmp_path / precision / files.SETTINGS).read_text())["precision"] == precision


@pytest.mark.parametrize("built", ["folder", "shape"])
def test_dropout_is_on_from_the_first_step(tmp_path, mrpc_small, tokenizer, built):
    """`from_pretrained` returns a model in eval mode: before the fix a folder-loaded model (the teacher
    fine-tuned from MiniLM, a general student) trained without dropout until its first evaluation."""
    from distill import build_student, load_teacher
    from distill.methods.distilbert import DistilBert

    teacher_folder = save_tiny_bert(tmp_path / "teacher", tokenizer, BertForSequenceClassification, num_hidden_layers=4)
    task = glue_task_data("MRPC", mrpc_small.parent)
    teacher = load_teacher(teacher_folder, task.scheme)
    if built == "folder":
        student = BertForSequenceClassification.from_pretrained(teacher_folder)  # in eval mode, as loaded
        assert not student.training
    else:
        student = build_student("2L-32", teacher, task.scheme, "teacher-alternate")
    modes = []  # at every training forward pass (not the evaluations, which run without gradients)
    student.register_forward_pre_hook(
        lambda model, args: modes.append(all(m.training for m in model.modules())) if torch.is_grad_enabled() else None
    )
    examples, dev = (task.encode(path, tokenizer, 128) for path in (task.train_path, task.dev_paths[0]))
    settings = TrainSettings(max_steps=3, batch_size=8, eval_steps=2)
    train(
        student,
        DistilBert(),
        examples,
        dev,
        task.spec.metrics,
        tmp_path / "run",
        settings,
        teacher=teacher,
        progress=False,
    )
    # dropout on at the very first step, and after evaluations (the timed warm-up's passes count too)
    assert len(modes) == 3 + WARM_UP_PASSES and all(modes)
