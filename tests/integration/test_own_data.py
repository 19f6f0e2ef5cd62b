"""Own data through finetune, distill and evaluate (--train/--dev/--text-col/--label-col/--regression):
real SST-2 rows as a CSV with named labels, real STS-B pairs as JSON Lines with float scores."""

import csv
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertModel

from cli import main
from data import read_table
from distill.runs import files
from tests.conftest import GLUE, save_tiny_bert


@pytest.fixture(scope="module")
def encoder(tmp_path_factory, tokenizer):
    """A tiny pretrained-style encoder folder (no task head), like a user's --model."""
    return save_tiny_bert(tmp_path_factory.mktemp("encoder"), tokenizer, BertModel)


@pytest.fixture(scope="module")
def reviews(tmp_path_factory):
    """SST-2 phrases as CSV files with a `sentiment` column of names, not numbers."""
    folder = tmp_path_factory.mktemp("reviews")
    frame = read_table(GLUE / "SST-2" / "train.tsv").head(96)
    frame = frame.assign(sentiment=frame["label"].map({"0": "negative", "1": "positive"}))[["sentence", "sentiment"]]
    frame.iloc[:64].to_csv(folder / "train.csv", index=False)
    frame.iloc[64:].to_csv(folder / "dev.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def similarity(tmp_path_factory):
    """STS-B pairs as JSON Lines with float scores (a regression task)."""
    folder = tmp_path_factory.mktemp("similarity")
    frame = read_table(GLUE / "STS-B" / "train.tsv").head(96)
    for name, part in (("train.jsonl", frame.iloc[:64]), ("dev.jsonl", frame.iloc[64:])):
        with open(folder / name, "w") as handle:
            for _, row in part.iterrows():
                handle.write(
                    json.dumps({"a": row["sentence1"], "b": row["sentence2"], "score": float(row["score"])}) + "\n"
                )
    return folder


def _invoke(*args):
    result = CliRunner().invoke(main, [*map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def _outputs(model_dir, *texts, max_length):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return model(
            **tokenizer(*texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        ).logits.numpy()


def test_own_csv_with_named_labels_through_finetune_and_evaluate(tmp_path, encoder, reviews):
    own = [
        "--train",
        reviews / "train.csv",
        "--dev",
        reviews / "dev.csv",
        "--text-col",
        "sentence",
        "--label-col",
        "sentiment",
    ]
    _invoke("finetune", "--quiet", "--model", encoder, *own, "--max-steps", 3, "--out", tmp_path / "teacher")
    saved = AutoModelForSequenceClassification.from_pretrained(tmp_path / "teacher")
    assert saved.config.id2label == {0: "negative", 1: "positive"}  # the train set's labels, sorted
    report = json.loads((tmp_path / "teacher" / files.REPORT).read_text())
    assert report["data"]["train"] == str(reviews / "train.csv") and report["data"]["train_examples"] == 64

    with open(reviews / "dev.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    predicted = _outputs(tmp_path / "teacher", [r["sentence"] for r in rows], max_length=64).argmax(1)
    gold = np.array([r["sentiment"] == "positive" for r in rows], dtype=int)
    accuracy = float(np.mean(predicted == gold))
    evaluated = json.loads(_invoke("evaluate", "--model", tmp_path / "teacher", *own).stdout)
    assert evaluated["dev"]["accuracy"] == pytest.approx(accuracy)
    assert set(evaluated["dev"]) == {"accuracy", "f1"}
    assert report["models"]["model"]["dev"]["accuracy"] == pytest.approx(accuracy)


def test_own_jsonl_pairs_as_regression_through_finetune_distill_and_evaluate(tmp_path, encoder, similarity):
    own = [
        "--train",
        similarity / "train.jsonl",
        "--dev",
        similarity / "dev.jsonl",
        "--text-col",
        "a",
        "--text-col",
        "b",
        "--label-col",
        "score",
        "--regression",
    ]
    _invoke("finetune", "--quiet", "--model", encoder, *own, "--max-steps", 3, "--out", tmp_path / "teacher")
    teacher = AutoModelForSequenceClassification.from_pretrained(tmp_path / "teacher")
    assert teacher.config.num_labels == 1 and teacher.config.problem_type == "regression"
    _invoke(
        "distill",
        "--quiet",
        "--teacher",
        tmp_path / "teacher",
        *own,
        "--student",
        "1L-32",
        "--stage",
        "prediction",
        "--max-steps",
        2,
        "--out",
        tmp_path / "student",
    )
    report = json.loads((tmp_path / "student" / files.REPORT).read_text())
    assert report["main_metric"] == "pearson" and report["data"]["train_examples"] == 64

    records = [json.loads(line) for line in (similarity / "dev.jsonl").read_text().splitlines()]
    values = _outputs(tmp_path / "student", [r["a"] for r in records], [r["b"] for r in records], max_length=128)[:, 0]
    pearson = float(np.corrcoef(values, [r["score"] for r in records])[0, 1])
    evaluated = json.loads(_invoke("evaluate", "--model", tmp_path / "student", *own).stdout)
    assert set(evaluated["dev"]) == {"pearson", "spearman"}
    assert evaluated["dev"]["pearson"] == pytest.approx(pearson, abs=1e-5)
    assert report["models"]["student"]["dev"]["pearson"] == pytest.approx(pearson, abs=1e-5)
