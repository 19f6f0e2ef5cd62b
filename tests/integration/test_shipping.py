"""Shipping a student: ONNX export (fp32 and int8) checked against PyTorch, `evaluate` on an exported
folder, `predict` on users' tables (CSV and JSON Lines, one and two texts) from either kind of folder,
and bad input refused with one message."""

import json
import logging
import shutil

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, BertModel

from data import read_table
from distill import evaluate_model, glue_task_data
from distill.runs import files
from tests.conftest import GLUE, copy_glue_rows, refused, run_cli, save_tiny_bert


@pytest.fixture(scope="module")
def mrpc(tmp_path_factory):
    return copy_glue_rows(tmp_path_factory.mktemp("glue") / "MRPC", "MRPC", {"train.tsv": 40, "dev.tsv": 64})


@pytest.fixture(scope="module")
def pair_model(tmp_path_factory, tokenizer, mrpc):
    """A tiny MRPC classifier made the way users make one: `finetune` of a small encoder."""
    folder = tmp_path_factory.mktemp("pair")
    encoder = save_tiny_bert(folder / "encoder", tokenizer, BertModel, hidden_size=64, num_attention_heads=4)
    result = run_cli("finetune", "--quiet", "--data-dir", mrpc.parent, "--model", encoder, "--max-steps", 2)
    assert result.exit_code == 0, result.output
    shutil.move("runs/teacher/MRPC", folder / "model")
    return folder / "model"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, pair_model, mrpc):
    out = tmp_path_factory.mktemp("shipped") / "int8"
    result = run_cli("export", "--model", pair_model, "--data-dir", mrpc.parent, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_int8_export_is_self_contained_fused_and_checked(exported, pair_model, mrpc):
    record = json.loads((exported / files.EXPORT_RECORD).read_text())
    assert {"model.onnx", "config.json", files.EXPORT_RECORD} <= {p.name for p in exported.iterdir()}
    assert (exported / "tokenizer.json").is_file() or (exported / "vocab.txt").is_file()
    assert record["quantize"] == "int8" and record["parity"]["max_abs_logit_difference"] < 1e-3
    assert record["fused_operators"].get("Attention") == 2  # eager-attention export: ONNX Runtime fused both layers
    # the dev figures of the shipped graph, recomputed here by `evaluate` on the exported folder
    task = glue_task_data("MRPC", mrpc.parent)
    shipped = evaluate_model(task, exported)
    assert shipped["dev"] == pytest.approx(record["dev"]["onnx"], abs=1e-9)
    assert shipped["shape"] == "2L-64" and shipped["disk_mb"] > 0 and shipped["cpu"]["latency_ms_batch1"] > 0
    original = evaluate_model(task, pair_model)
    assert original["dev"] == pytest.approx(record["dev"]["pytorch"], abs=1e-9)


def test_fp32_export_gives_the_model_s_own_logits(tmp_path, pair_model, mrpc):
    out = tmp_path / "fp32"
    assert (
        run_cli(
            "export", "--model", pair_model, "--data-dir", mrpc.parent, "--out", out, "--quantize", "none"
        ).exit_code
        == 0
    )
    import onnxruntime

    tokens = _tokens(pair_model, ["The cat sat.", "Rain fell all day"], ["A cat sat down.", "It was dry"])
    session = onnxruntime.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [node.name for node in session.get_inputs()]
    onnx_logits = session.run(["logits"], {name: tokens[name].numpy() for name in names})[0]
    model = AutoModelForSequenceClassification.from_pretrained(pair_model).eval()
    with torch.inference_mode():
        assert np.abs(onnx_logits - model(**tokens).logits.numpy()).max() < 1e-4


def test_int8_export_keeps_onnx_runtime_s_advice_off_the_root_logger(tmp_path, pair_model, mrpc, caplog):
    """quantize_dynamic advises shape pre-processing on the root logger at every call; users of `export`
    cannot act on it, so it is held back, and the root logger's level is left as it was."""
    from distill import export_model
    from distill.models.loading import load_tokenizer

    task = glue_task_data("MRPC", mrpc.parent)
    dev = task.encode(task.dev_paths[0], load_tokenizer(pair_model), 128)
    with caplog.at_level(logging.INFO):
        export_model(pair_model, dev, task.spec.metrics, tmp_path / "int8")
        assert logging.getLogger().level == logging.INFO
    assert not [r for r in caplog.records if r.name == "root" and "pre-processing" in r.getMessage()]


def _tokens(folder, first, second=None):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    return tokenizer(first, second, padding=True, truncation=True, max_length=128, return_tensors="pt")


@pytest.mark.parametrize("which", ["pytorch", "onnx"])
def test_predict_writes_the_input_rows_with_label_names_and_probabilities(tmp_path, which, pair_model, exported):
    """A JSON Lines pair table: every record back unchanged (types too), plus the label by name and its
    probability, equal to the model's own prediction for that row."""
    frame = read_table(GLUE / "MRPC" / "dev.tsv").head(37)
    records = [
        {"id": i, "a": a, "b": b, "score": 0.5} for i, (a, b) in enumerate(zip(frame["#1 String"], frame["#2 String"]))
    ]
    source = tmp_path / "pairs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    model = pair_model if which == "pytorch" else exported
    flags = ["--precision", "fp32"] if which == "pytorch" else []
    result = run_cli(
        "predict", "--quiet", "--model", model, "--input", source, "--text-col", "a", "--text-col", "b", *flags
    )
    assert result.exit_code == 0, result.output
    written = [json.loads(line) for line in (tmp_path / "pairs_pred.jsonl").read_text().splitlines()]
    assert [{k: r[k] for k in ("id", "a", "b", "score")} for r in written] == records
    reference = AutoModelForSequenceClassification.from_pretrained(pair_model).eval()
    with torch.inference_mode():
        probabilities = reference(
            **_tokens(pair_model, list(frame["#1 String"]), list(frame["#2 String"]))
        ).logits.softmax(-1)
    names = {0: "not_equivalent", 1: "equivalent"}
    agree = [r["prediction"] == names[int(p.argmax())] for r, p in zip(written, probabilities)]
    assert all(agree) if which == "pytorch" else np.mean(agree) >= 0.9  # int8 may flip a near-tie
    tolerance = 1e-5 if which == "pytorch" else 0.05
    assert [r["probability"] for r in written] == pytest.approx(probabilities.max(-1).values.tolist(), abs=tolerance)


def test_predict_on_a_csv_of_single_texts_keeps_its_rows_and_streams(tmp_path, tokenizer, mrpc):
    """A single-text model (SST-2 phrases) over a CSV read in chunks of 8 rows: same rows, in order."""
    sst = copy_glue_rows(tmp_path / "glue" / "SST-2", "SST-2", {"train.tsv": 30, "dev.tsv": 20})
    encoder = save_tiny_bert(tmp_path / "encoder", tokenizer, BertModel)
    assert (
        run_cli(
            "finetune", "--quiet", "--task", "SST-2", "--data-dir", sst.parent, "--model", encoder, "--max-steps", 1
        ).exit_code
        == 0
    )
    frame = read_table(sst / "dev.tsv").rename(columns={"sentence": "review"})
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    from distill import predict_table

    summary = predict_table("runs/teacher/SST-2", tmp_path / "reviews.csv", ["review"], chunk_rows=8, progress=False)
    out = read_table(summary.output)
    assert summary.rows == 20 and list(out.columns) == ["review", "label", "prediction", "probability"]
    assert out[["review", "label"]].equals(frame[["review", "label"]])
    assert set(out["prediction"]) <= {"negative", "positive"}
    assert ((out["probability"].astype(float) >= 0.5) & (out["probability"].astype(float) <= 1)).all()


def test_bad_shipping_input_is_refused_with_one_message(tmp_path, tokenizer, pair_model, exported, mrpc):
    encoder = save_tiny_bert(tmp_path / "encoder", tokenizer, BertModel)
    refused("export", "--model", encoder, "--data-dir", mrpc.parent, message="not a sequence-classification model")
    assert not (tmp_path / "encoder-int8").exists()  # nothing half-written
    table = tmp_path / "pairs.csv"
    table.write_text("a,b\nThe cat sat.,A cat sat.\n")
    refused("predict", "--model", exported, "--input", tmp_path / "none.csv", "--text-col", "a", message="no such file")
    refused(
        "predict", "--model", exported, "--input", table, "--text-col", "x", "--text-col", "b", message="no column 'x'"
    )
    refused(
        "predict", "--model", exported, "--input", table, "--text-col", "a", message="was trained on sentence pairs"
    )
    assert not (tmp_path / "pairs_pred.csv").exists()
    broken = tmp_path / "no-tokenizer"
    shutil.copytree(exported, broken)
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"):
        (broken / name).unlink(missing_ok=True)
    refused(
        "predict",
        "--model",
        broken,
        "--input",
        table,
        "--text-col",
        "a",
        "--text-col",
        "b",
        message="no usable tokenizer",
    )


def test_frontier_measures_the_model_in_every_runtime_and_precision(tmp_path, pair_model, exported, mrpc, tiny_teacher):
    from data.hardware import cpu_has_native_bf16

    result = run_cli("evaluate", "--model", pair_model, "--data-dir", mrpc.parent, "--frontier")
    assert result.exit_code == 0, result.output
    evaluated = json.loads(result.stdout)
    rows = {(row["runtime"], row["precision"]): row for row in evaluated["frontier"]}
    expected = {("pytorch", "fp32"), ("onnx", "fp32"), ("onnx", "int8")} | (
        {("pytorch", "bf16")} if cpu_has_native_bf16() else set()
    )
    assert set(rows) == expected
    assert rows[("pytorch", "fp32")]["dev"] == pytest.approx(evaluated["dev"], abs=1e-9)  # the same model
    assert rows[("onnx", "fp32")]["dev"] == pytest.approx(evaluated["dev"], abs=1e-9)  # the same logits
    assert rows[("onnx", "int8")]["disk_mb"] < rows[("onnx", "fp32")]["disk_mb"]
    assert all(row["ms_batch1"] > 0 and row["ex_per_s_batch32"] > 0 for row in rows.values())
    refused("evaluate", "--model", exported, "--data-dir", mrpc.parent, "--frontier", message="--frontier measures")
    refused("export", "--model", exported, "--data-dir", mrpc.parent, message="already an exported ONNX folder")
    # distill can add it to its report
    out = tmp_path / "student"
    flags = ["--teacher", tiny_teacher, "--method", "distilbert", "--student", "1L-64", "--max-steps", 1]
    result = run_cli("distill", "--quiet", "--data-dir", mrpc.parent, *flags, "--out", out, "--frontier")
    assert result.exit_code == 0, result.output
    report = json.loads((out / files.REPORT).read_text())
    assert len(report["models"]["student"]["frontier"]) == len(expected)
    assert "Frontier of the student 1L-64 on this CPU:" in (out / files.REPORT_MARKDOWN).read_text()
