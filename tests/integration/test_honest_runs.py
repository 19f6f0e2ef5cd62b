"""Do what was asked or exit 2 saying why, and record what was done: own-data flags, run folders of
own data, label names and order, which data a figure comes from, skipped rows, own-data labels."""

import json
from types import SimpleNamespace

import pytest
from transformers import BertForSequenceClassification, BertModel

from data import InputError, read_table
from distill.runs import files
from tests.conftest import GLUE, copy_glue_rows, refused, run_cli, save_tiny_bert


@pytest.fixture(scope="module")
def classifier(tmp_path_factory, tokenizer):
    return save_tiny_bert(tmp_path_factory.mktemp("classifier"), tokenizer, BertForSequenceClassification)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory, tokenizer):
    return save_tiny_bert(tmp_path_factory.mktemp("encoder"), tokenizer, BertModel)


@pytest.fixture
def reviews(tmp_path):
    """Two own tables (SST-2 phrases, named labels) in folders of their own."""
    frame = read_table(GLUE / "SST-2" / "train.tsv").head(60)
    frame = frame.assign(y=frame["label"].map({"0": "neg", "1": "pos"}))[["sentence", "y"]]
    (tmp_path / "a").mkdir()
    frame.iloc[:40].to_csv(tmp_path / "a" / "train.csv", index=False)
    frame.iloc[40:].to_csv(tmp_path / "a" / "dev.csv", index=False)
    return tmp_path / "a"


def _own(folder, *extra):
    return [
        "--train",
        folder / "train.csv",
        "--dev",
        folder / "dev.csv",
        "--text-col",
        "sentence",
        "--label-col",
        "y",
        *extra,
    ]


def test_own_data_flags_without_train_are_refused_not_ignored(tmp_path, classifier, reviews):
    """Before: `evaluate --dev mine.csv --text-col ...` silently scored the GLUE MRPC dev set."""
    refused(
        "evaluate",
        "--model",
        classifier,
        "--dev",
        reviews / "dev.csv",
        "--text-col",
        "sentence",
        "--label-col",
        "y",
        message="--dev, --text-col, --label-col describe your own data: add --train",
    )
    refused("finetune", "--regression", message="--regression describe your own data")
    refused("augment", "--task", "MRPC", "--text-col", "sentence", message="add --input FILE")
    # own data with flags that name a GLUE task, or a class for a regression: each would go unused
    refused("evaluate", "--model", classifier, *_own(reviews), "--task", "SST-2", message="drop --task/--data-dir")
    refused(
        "evaluate",
        "--model",
        classifier,
        *_own(reviews, "--regression", "--positive-label", "pos"),
        message="a --regression task has none",
    )
    refused("distill", "--general", "--positive-label", "pos", message="drop --positive-label")


def test_own_datasets_with_the_same_file_name_never_share_a_teacher(tmp_path, encoder, reviews):
    """Before: the task name was the file stem, so B/train.csv reused A/train.csv's runs/teacher/train."""
    other = tmp_path / "b"
    other.mkdir()
    frame = read_table(reviews / "train.csv")
    frame.assign(y=frame["y"].map({"neg": "bad", "pos": "good"})).to_csv(other / "train.csv", index=False)
    dev = read_table(reviews / "dev.csv")
    dev.assign(y=dev["y"].map({"neg": "bad", "pos": "good"})).to_csv(other / "dev.csv", index=False)
    for folder in (reviews, other):
        result = run_cli(
            "distill",
            "--quiet",
            *_own(folder),
            "--teacher-encoder",
            encoder,
            "--student",
            "1L-32",
            "--stage",
            "prediction",
            "--max-steps",
            1,
        )
        assert result.exit_code == 0, result.output
        assert "no finished teacher at runs/teacher/train-" in result.output  # each file gets its own teacher
    teachers = sorted(p.name for p in (tmp_path / "runs" / "teacher").iterdir())
    assert len(teachers) == 2 and all(name.startswith("train-") for name in teachers)
    labels = [json.loads((tmp_path / "runs" / "teacher" / t / "config.json").read_text())["id2label"] for t in teachers]
    assert sorted(map(sorted, (v.values() for v in labels))) == [["bad", "good"], ["neg", "pos"]]


def test_the_default_teacher_of_other_data_isrefused(tmp_path, encoder):
    """Before: runs/teacher/MRPC, fine-tuned on data folder A, was reused for folder B without a word."""
    a = copy_glue_rows(tmp_path / "A" / "MRPC", "MRPC", {"train.tsv": 12, "dev.tsv": 8})
    b = copy_glue_rows(tmp_path / "B" / "MRPC", "MRPC", {"train.tsv": 16, "dev.tsv": 8})
    flags = ["distill", "--quiet", "--student", "1L-32", "--stage", "prediction", "--max-steps", 1]
    flags += ["--teacher-encoder", encoder]
    assert run_cli(*flags, "--data-dir", a.parent).exit_code == 0
    assert run_cli(*flags, "--data-dir", a.parent).exit_code == 0  # the same data: the teacher is reused
    refused(
        *flags,
        "--data-dir",
        b.parent,
        "--out",
        tmp_path / "b",
        message=f"was fine-tuned on {a / 'train.tsv'}, whose content differs",
    )
    config = json.loads((tmp_path / "runs" / "teacher" / "MRPC" / "config.json").read_text())
    assert config["id2label"] == {"0": "not_equivalent", "1": "equivalent"}  # names, not the stored 0/1
    student = json.loads((tmp_path / "runs" / "student" / "MRPC-tinybert" / "config.json").read_text())
    assert student["id2label"] == config["id2label"]


def test_a_model_with_other_label_names_or_order_isrefused(tmp_path, tokenizer):
    """Before: only the number of outputs was compared, so an MNLI model with another label order was scored."""
    folder = tmp_path / "glue" / "MNLI"
    folder.mkdir(parents=True)
    head = "index\tsentence1\tsentence2\tgold_label\n"
    for name in ("train.tsv", "dev_matched.tsv", "dev_mismatched.tsv"):
        (folder / name).write_text(head + "0\tA cat sat.\tA cat.\tentailment\n1\tA dog ran.\tNo dog.\tcontradiction\n")
    model = save_tiny_bert(
        tmp_path / "model",
        tokenizer,
        BertForSequenceClassification,
        num_labels=3,
        id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
    )
    refused(
        "evaluate",
        "--model",
        model,
        "--task",
        "MNLI",
        "--data-dir",
        tmp_path / "glue",
        message="its outputs are the labels contradiction, neutral, entailment in this order, while this "
        "task's are contradiction, entailment, neutral",
    )


def test_one_data_rule_whether_or_not_the_task_is_typed_and_no_state_of_earlier_runs(
    tmp_path, classifier, tiny_mlm, monkeypatch
):
    """Before: after `augment --data-dir X`, `evaluate` scored X's dev set but `evaluate --task MRPC`
    switched to $GLUE_DIR / ../shared, through state kept by the augment run. Now: --data-dir, else
    $GLUE_DIR, else ../shared, typed task or not, whatever ran before."""
    monkeypatch.delenv("GLUE_DIR", raising=False)
    data = copy_glue_rows(tmp_path / "mine" / "MRPC", "MRPC", {"train.tsv": 8, "dev.tsv": 24})
    assert run_cli("augment", "--quiet", "--data-dir", data.parent, "--mlm", tiny_mlm, "--n", 1).exit_code == 0
    assert not (tmp_path / "runs").exists()  # augment kept no state beside its output and manifest
    for flags, scored in [
        ([], GLUE / "MRPC"),
        (["--task", "mrpc"], GLUE / "MRPC"),
        (["--data-dir", data.parent], data),
    ]:
        result = run_cli("evaluate", "--model", classifier, *flags)
        assert result.exit_code == 0, result.output
        assert f"dev {scored / 'dev.tsv'}" in result.output  # the data line names the file scored
        assert json.loads(result.stdout)["rows"]["dev"]["scored"] == (24 if scored == data else 408)
        assert json.loads(result.stdout)["positive_label"] == "equivalent"  # named in evaluate's figures too


def test_ragged_rows_are_reported_and_the_scored_count_printed(tmp_path, classifier):
    """Before: a 100-row dev file was scored on 98 rows without a word."""
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 10, "dev.tsv": 100})
    lines = (data / "dev.tsv").read_text(encoding="utf-8-sig").splitlines()
    lines[5] += "\textra field"
    lines[50] = lines[50].rsplit("\t", 1)[0]
    (data / "dev.tsv").write_text("\n".join(lines) + "\n")
    result = run_cli("evaluate", "--model", classifier, "--data-dir", tmp_path / "glue")
    assert result.exit_code == 0, result.output
    assert "skipped 2 ragged rows (wrong number of fields): lines 6, 51" in result.output
    assert "scored on 98 of 100 rows" in result.output
    assert json.loads(result.stdout)["rows"]["dev"] == {"scored": 98, "skipped_lines": [6, 51]}


def test_own_labels_that_would_train_a_wrong_model_arerefused(tmp_path, encoder, reviews):
    frame = read_table(reviews / "train.csv")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "dev.csv").write_bytes((reviews / "dev.csv").read_bytes())
    frame.assign(y=["neg"] * 3 + [""] + list(frame["y"][4:])).to_csv(bad / "train.csv", index=False)
    refused("finetune", "--model", encoder, *_own(bad), message="row 4 has an empty label in column 'y'")
    frame.assign(y=[f"{i % 5}.5" for i in range(len(frame))]).to_csv(bad / "train.csv", index=False)
    refused(
        "finetune",
        "--model",
        encoder,
        *_own(bad),
        message="numbers with decimals (e.g. 0.5); for a score pass --regression",
    )
    frame.assign(y="pos").to_csv(bad / "train.csv", index=False)
    refused("finetune", "--model", encoder, *_own(bad), message="every row has the label 'pos'; a classifier needs")


def test_the_positive_class_is_named_in_the_report_and_can_be_chosen(tmp_path, encoder, reviews):
    for positive, out in ((None, "default"), ("neg", "chosen")):
        flags = [] if positive is None else ["--positive-label", positive]
        result = run_cli(
            "finetune", "--quiet", "--model", encoder, *_own(reviews, *flags), "--max-steps", 1, "--out", tmp_path / out
        )
        assert result.exit_code == 0, result.output
    default, chosen = (json.loads((tmp_path / out / files.REPORT).read_text()) for out in ("default", "chosen"))
    assert default["data"]["positive_label"] == "pos" and chosen["data"]["positive_label"] == "neg"
    assert "F1 is the F1 of the positive class 'neg'." in (tmp_path / "chosen" / files.REPORT_MARKDOWN).read_text()
    config = json.loads((tmp_path / "chosen" / "config.json").read_text())
    assert config["id2label"] == {"0": "pos", "1": "neg"}  # F1 is computed for label id 1
    refused(
        "finetune",
        "--model",
        encoder,
        *_own(reviews, "--positive-label", "maybe"),
        message="--positive-label 'maybe': give one of the two labels",
    )


def test_resume_refuses_any_setting_that_shapes_the_model(tmp_path, tokenizer):
    """Before: `--resume --temperature 7 --alpha-ce 0.9 --max-seq-length 16` on a finished run was
    accepted, rewrote the recipe the run folder held and re-reported at length 16."""
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 24, "dev.tsv": 16})
    teacher = save_tiny_bert(tmp_path / "teacher", tokenizer, BertForSequenceClassification, num_hidden_layers=4)
    flags = [
        "distill",
        "--quiet",
        "--data-dir",
        data.parent,
        "--teacher",
        teacher,
        "--method",
        "distilbert",
        "--student",
        "2L-32",
        "--max-steps",
        2,
        "--out",
        tmp_path / "run",
    ]
    assert run_cli(*flags).exit_code == 0
    (tmp_path / "run" / files.REPORT).unlink()  # as a run stopped before its report: --resume continues it
    recipe = (tmp_path / "run" / files.SETTINGS).read_text()
    refused(
        *flags,
        "--resume",
        "--temperature",
        7,
        "--alpha-ce",
        0.9,
        "--max-seq-length",
        16,
        message="differ in run.max_length, run.plan.options.alpha_ce, run.plan.options.temperature",
    )
    assert (tmp_path / "run" / files.SETTINGS).read_text() == recipe  # nothing rewritten
    save_tiny_bert(teacher, tokenizer, BertForSequenceClassification, seed=1, num_hidden_layers=4)  # same path
    refused(*flags, "--resume", message="differ in run.teacher.sha256")
    assert run_cli(*flags, "--resume").exit_code == 2 and run_cli(*flags).exit_code == 0  # a fresh start is fine


def _distill_flags(tmp_path, tokenizer, rows=24):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": rows, "dev.tsv": 16})
    teacher = save_tiny_bert(tmp_path / "teacher", tokenizer, BertForSequenceClassification, num_hidden_layers=4)
    return ["distill", "--data-dir", data.parent, "--teacher", teacher, "--student", "2L-32", "--batch-size", 8]


def test_flags_a_method_would_ignore_arerefused(tmp_path, tokenizer):
    """Before: --stage with --method pkd|distilbert was ignored yet recorded, and so were the others."""
    flags = _distill_flags(tmp_path, tokenizer)
    refused(
        *flags,
        "--method",
        "pkd",
        "--stage",
        "prediction",
        message="--method pkd has no use for --stage: drop it",
    )
    refused(
        *flags,
        "--method",
        "distilbert",
        "--intermediate-epochs",
        2,
        "--pkd-beta",
        10,
        message="no use for --intermediate-epochs, --pkd-beta: drop them",
    )
    refused(*flags, "--alpha-ce", 0.3, message="--method tinybert has no use for --alpha-ce: drop it")
    refused(*flags, "--stage", "prediction", "--intermediate-lr", 1e-4, message="--stage prediction runs no stage 1")
    # the rule is the library's: Python users get the same refusal
    from distill import methods

    with pytest.raises(InputError, match="--method pkd has no use for --stage: drop it"):
        methods.options_for(methods.get("pkd"), {"stage": "both"})
    assert methods.options_for(methods.get("pkd"), {}).pkd_beta == 100.0


def test_explicit_stage_one_epochs_are_not_capped_by_max_steps_and_each_stage_says_its_budget(tmp_path, tokenizer):
    """Before: --max-steps also capped TinyBERT stage 1 over an explicit --intermediate-epochs."""
    flags = [*_distill_flags(tmp_path, tokenizer), "--quiet", "--max-steps", 2]
    result = run_cli(*flags, "--intermediate-epochs", 2, "--out", tmp_path / "explicit")
    assert result.exit_code == 0, result.output
    steps = [json.loads(line)["step"] for line in (tmp_path / "explicit" / "intermediate" / files.HISTORY).open()]
    assert steps[-1] == 6  # 2 epochs of 24 rows in batches of 8: 6 steps, not --max-steps 2
    assert [json.loads(line)["step"] for line in (tmp_path / "explicit" / files.HISTORY).open()][-1] == 2
    assert (
        "tinybert stage 1 (intermediate layers): 6 steps (2 epochs of 24 examples), batch 8, peak lr 5e-05"
        in result.output
    )
    assert "tinybert stage 2 (prediction): 2 steps (--max-steps), batch 8, peak lr 3e-05" in result.output
    result = run_cli(*flags, "--out", tmp_path / "capped")  # the published 10 epochs, capped by --max-steps
    assert "tinybert stage 1 (intermediate layers): 2 steps (--max-steps)" in result.output


def test_reports_count_bin_weights_name_an_untrained_head_and_warn_of_noisy_timings(tmp_path, tokenizer, monkeypatch):
    import torch

    from distill.shipping import speed as evaluation

    flags = [*_distill_flags(tmp_path, tokenizer), "--quiet", "--max-steps", 1]
    assert run_cli(*flags, "--stage", "intermediate", "--out", tmp_path / "stage1").exit_code == 0
    report = json.loads((tmp_path / "stage1" / files.REPORT).read_text())
    assert "its task head is untrained" in report["data"]["note"]
    assert (
        "Note: --stage intermediate trains the student's layers only"
        in (tmp_path / "stage1" / files.REPORT_MARKDOWN).read_text()
    )

    old_style = tmp_path / "old-style"  # weights as pytorch_model.bin, as older tools save them
    model = BertForSequenceClassification.from_pretrained(tmp_path / "teacher")
    model.config.save_pretrained(old_style)
    tokenizer.save_pretrained(old_style)
    torch.save(model.state_dict(), old_style / "pytorch_model.bin")
    ticks = iter(range(10**6))  # a clock for the timings alone, each repeat 1.3^2 times slower than the last
    # No seam makes a real CPU noisy on demand, and the command line takes no clock: the timing module's
    # clock is replaced here (and only here).
    monkeypatch.setattr(evaluation, "time", SimpleNamespace(perf_counter=lambda: 1.3 ** next(ticks) / 1000))
    result = run_cli("evaluate", "--model", old_style, "--data-dir", tmp_path / "glue")
    assert result.exit_code == 0, result.output
    evaluated = json.loads(result.stdout)
    assert evaluated["disk_mb"] == pytest.approx((old_style / "pytorch_model.bin").stat().st_size / 2**20)
    assert evaluated["cpu"]["spread_batch32"] > 0.5
    assert run_cli(*flags, "--stage", "prediction", "--out", tmp_path / "noisy").exit_code == 0
    report = json.loads((tmp_path / "noisy" / files.REPORT).read_text())
    assert "CPU timings varied by" in report["timing_warning"]
    assert "the speed figures are rough" in (tmp_path / "noisy" / files.REPORT_MARKDOWN).read_text()
