"""One record per output: augment's manifest says how a file was made, and `--aug` finds the augmented
file from the data it is given, through that manifest, never from state keyed by the task name."""

import hashlib
import json
import shutil
from datetime import datetime
from importlib.metadata import version

from transformers import BertForSequenceClassification, BertModel

from data import read_table
from distill.runs import files
from tests.conftest import GLUE, VECTORS, copy_glue_rows, run_cli, save_tiny_bert


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_augment_output_has_a_manifest_saying_how_it_was_made(tmp_path, tiny_mlm):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 12})
    assert (
        run_cli(
            "augment",
            "--quiet",
            "--data-dir",
            data.parent,
            "--mlm",
            tiny_mlm,
            "--glove",
            VECTORS,
            "--n",
            2,
            "--seed",
            7,
            "--dtype",
            "fp32",
        ).exit_code
        == 0
    )
    output = data / "train_aug.tsv"
    manifest = json.loads((data / "train_aug.tsv.json").read_text())
    assert manifest["source"] == {
        "path": str((data / "train.tsv").resolve()),
        "size": (data / "train.tsv").stat().st_size,
        "sha256": _sha(data / "train.tsv"),
    }
    assert manifest["output"]["sha256"] == _sha(output) and manifest["output"]["size"] == output.stat().st_size
    assert manifest["task"] == "MRPC" and manifest["text_columns"] == ["#1 String", "#2 String"]
    assert manifest["label_column"] == "Quality"
    settings = manifest["settings"]
    assert (settings["n"], settings["seed"], settings["dtype"], settings["dtype_resolved"]) == (2, 7, "fp32", "fp32")
    assert settings["device_resolved"] == "cpu"
    assert manifest["masked_lm"] == {"path": str(tiny_mlm), "sha256": manifest["masked_lm"]["sha256"]}
    assert len(manifest["masked_lm"]["sha256"]) == 64
    assert manifest["vectors"] == {"path": str(VECTORS), "sha256": _sha(VECTORS)}
    assert manifest["rows_in"] == 12 and manifest["rows_out"] == len(read_table(output))
    assert manifest["tinydistill"] == version("tinydistill") and datetime.fromisoformat(manifest["date"]).tzinfo


def test_aug_refuses_an_augmented_file_made_from_other_data(tmp_path, tiny_mlm, tokenizer):
    """Before: after `augment --data-dir A`, `distill --data-dir B --aug` trained on A's rows silently."""
    a = copy_glue_rows(tmp_path / "A" / "MRPC", "MRPC", {"train.tsv": 12, "dev.tsv": 8})
    b = tmp_path / "B" / "MRPC"
    b.mkdir(parents=True)
    lines = (GLUE / "MRPC" / "train.tsv").read_bytes().splitlines(keepends=True)
    (b / "train.tsv").write_bytes(b"".join(lines[:1] + lines[20:32]))  # other rows
    shutil.copy(a / "dev.tsv", b / "dev.tsv")
    assert run_cli("augment", "--quiet", "--data-dir", a.parent, "--mlm", tiny_mlm, "--n", 1).exit_code == 0
    teacher = save_tiny_bert(tmp_path / "teacher", tokenizer, BertForSequenceClassification)
    result = run_cli("distill", "--data-dir", b.parent, "--task", "MRPC", "--aug", "--teacher", teacher)
    assert result.exit_code == 2 and f"no {b / 'train_aug.tsv'} yet" in result.output, result.output
    for name in ("train_aug.tsv", "train_aug.tsv.json"):  # A's augmented rows copied beside B's train.tsv
        shutil.copy(a / name, b / name)
    result = run_cli("distill", "--data-dir", b.parent, "--task", "MRPC", "--aug", "--teacher", teacher)
    assert result.exit_code == 2, result.output
    assert (
        f"was made from {(a / 'train.tsv').resolve()}, whose content is not that of {b / 'train.tsv'}" in result.output
    )
    (a / "train_aug.tsv").write_text((a / "train_aug.tsv").read_text() + "\n")  # edited after augment
    result = run_cli("distill", "--data-dir", a.parent, "--aug", "--teacher", teacher)
    assert result.exit_code == 2 and "changed since augment wrote it" in result.output


def test_aug_with_own_train_file_uses_its_augmented_sibling_and_the_run_records_it(tmp_path, tiny_mlm, tokenizer):
    """Before: `--aug` with `--train` was silently ignored."""
    frame = read_table(GLUE / "SST-2" / "train.tsv").head(40)
    frame.iloc[:30].to_csv(tmp_path / "reviews.csv", index=False)
    frame.iloc[30:].to_csv(tmp_path / "dev.csv", index=False)
    own = [
        "--train",
        tmp_path / "reviews.csv",
        "--dev",
        tmp_path / "dev.csv",
        "--text-col",
        "sentence",
        "--label-col",
        "label",
    ]
    encoder = save_tiny_bert(tmp_path / "encoder", tokenizer, BertModel)
    result = run_cli(
        "finetune", "--quiet", "--aug", *own, "--model", encoder, "--max-steps", 1, "--out", tmp_path / "t"
    )
    assert result.exit_code == 2 and "python cli.py augment --input" in result.output
    assert (
        run_cli(
            "augment",
            "--quiet",
            "--input",
            tmp_path / "reviews.csv",
            "--text-col",
            "sentence",
            "--label-col",
            "label",
            "--mlm",
            tiny_mlm,
            "--n",
            2,
        ).exit_code
        == 0
    )
    result = run_cli(
        "finetune", "--quiet", "--aug", *own, "--model", encoder, "--max-steps", 1, "--out", tmp_path / "t"
    )
    assert result.exit_code == 0, result.output
    augmented = tmp_path / "reviews_aug.csv"
    report = json.loads((tmp_path / "t" / files.REPORT).read_text())
    assert report["data"]["train"] == str(augmented)
    assert report["data"]["train_examples"] == len(read_table(augmented)) > 30
    recorded = json.loads((tmp_path / "t" / files.SETTINGS).read_text())["run"]["train"]
    assert recorded["sha256"] == _sha(augmented)
    assert recorded["manifest"]["sha256"] == _sha(tmp_path / "reviews_aug.csv.json")


def test_aug_file_takes_an_output_written_elsewhere_and_checks_it_the_same_way(tmp_path, tiny_mlm, tokenizer):
    """`augment --out X` leaves no state behind that `--aug` could follow: `--aug-file X` names it, and
    its manifest must still say it was made from the training file the run reads."""
    a = copy_glue_rows(tmp_path / "A" / "MRPC", "MRPC", {"train.tsv": 12, "dev.tsv": 8})
    b = copy_glue_rows(tmp_path / "B" / "MRPC", "MRPC", {"train.tsv": 14, "dev.tsv": 8})
    elsewhere = tmp_path / "made" / "a_aug.tsv"
    result = run_cli("augment", "--quiet", "--data-dir", a.parent, "--mlm", tiny_mlm, "--n", 1, "--out", elsewhere)
    assert result.exit_code == 0, result.output
    teacher = save_tiny_bert(tmp_path / "teacher", tokenizer, BertForSequenceClassification)
    common = ["distill", "--quiet", "--teacher", teacher, "--method", "distilbert", "--student", "1L-32"]
    result = run_cli(*common, "--data-dir", a.parent, "--aug")
    assert result.exit_code == 2 and f"no {a / 'train_aug.tsv'} yet" in result.output
    result = run_cli(
        *common, "--data-dir", a.parent, "--aug-file", elsewhere, "--max-steps", 1, "--out", tmp_path / "s"
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s" / files.REPORT).read_text())["data"]["train"] == str(elsewhere)
    result = run_cli(*common, "--data-dir", b.parent, "--aug-file", elsewhere)
    assert result.exit_code == 2 and "whose content is not that of" in result.output
