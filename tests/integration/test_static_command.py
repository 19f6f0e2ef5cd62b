"""`cli.py static`: the static baseline as a command. Its folder is taken by evaluate, predict and
export like any student's, its report's figures are the model's own (recomputed here), and on the real
MRPC data it scores what the frontier study's static row says."""

import json

import numpy as np
import pandas as pd
import pytest
from transformers import BertModel

from data import compute_metrics
from distill import glue_task_data, load_classifier, load_tokenizer, predict
from distill.runs import FinishedRun
from tests.conftest import ROOT, copy_glue_rows, refused, run_cli, save_tiny_bert


@pytest.fixture(scope="module")
def static_run(tmp_path_factory, tokenizer, tiny_teacher):
    work = tmp_path_factory.mktemp("static")
    data = copy_glue_rows(work / "glue" / "MRPC", "MRPC", {"train.tsv": 80, "dev.tsv": 24})
    encoder = save_tiny_bert(work / "encoder", tokenizer, BertModel)
    flags = ["static", "--quiet", "--data-dir", data.parent, "--encoder", encoder, "--out", work / "static"]
    result = run_cli(*flags, "--teacher", tiny_teacher)
    assert result.exit_code == 0, result.output
    return work, flags, result


def test_static_writes_a_model_whose_report_holds_its_own_figures_beside_the_teacher(static_run):
    work, _, result = static_run
    made = FinishedRun(work / "static")
    report = made.report()
    assert set(report["models"]) == {"static", "teacher"} and made.shape() == "static-32"  # PCA capped by width
    assert "Static baseline vs teacher" in result.output and report["cpu_speedup_batch32"] > 0  # timed, not compared
    fit = report["data"]["fit"]
    assert fit["holdout_examples"] == 8 and fit["holdout_acc_by_l2"][f"{fit['l2']:g}"] == max(
        fit["holdout_acc_by_l2"].values()
    )
    task = glue_task_data("MRPC", work / "glue")
    dev = task.encode(task.dev_paths[0], load_tokenizer(made.folder), 128)
    logits = predict(load_classifier(made.folder, task.scheme), dev)
    by_hand = compute_metrics(("f1", "accuracy"), logits.argmax(1), dev.labels.numpy())
    assert made.dev() == pytest.approx(by_hand)


def test_evaluate_export_and_predict_take_the_static_folder(static_run):
    work, _, _ = static_run
    folder, shipped = work / "static", work / "static-int8"
    evaluated = run_cli("evaluate", "--model", folder, "--data-dir", work / "glue")
    assert evaluated.exit_code == 0, evaluated.output
    figures = json.loads(evaluated.output[evaluated.output.index("{") :])
    assert figures["dev"] == pytest.approx(FinishedRun(folder).dev()) and figures["shape"] == "static-32"
    exported = run_cli("export", "--model", folder, "--data-dir", work / "glue")
    assert exported.exit_code == 0, exported.output
    record = FinishedRun(shipped).export_record()
    assert record["parity"]["max_abs_logit_difference"] < 1e-3 and record["fused_operators"] == {}
    table = work / "pairs.csv"
    pd.DataFrame({"a": ["the cat sat", "a stock fell"], "b": ["the cat sat down", "rain is wet"]}).to_csv(table)
    for model in (folder, shipped):
        predicted = run_cli("predict", "--model", model, "--input", table, "--text-col", "a", "--text-col", "b")
        assert predicted.exit_code == 0, predicted.output
        out = pd.read_csv(work / "pairs_pred.csv")
        assert set(out["prediction"]) <= {"equivalent", "not_equivalent"} and np.all(out["probability"] >= 0.5)


def test_a_finished_static_run_is_free_and_misuse_is_refused(static_run, tiny_teacher, tmp_path):
    work, flags, _ = static_run
    weights = (work / "static" / "static.safetensors").read_bytes()
    again = run_cli(*flags, "--teacher", tiny_teacher)
    assert again.exit_code == 0 and "already done" in again.output, again.output
    refused(*flags, message="(differing: teacher)")  # asked without the teacher it was made with
    assert (work / "static" / "static.safetensors").read_bytes() == weights
    refused("distill", "--data-dir", work / "glue", "--teacher", work / "static", "--out", tmp_path / "s",
            message="cannot teach")  # fmt: skip
    stsb = copy_glue_rows(tmp_path / "glue" / "STS-B", "STS-B", {"train.tsv": 10, "dev.tsv": 5})
    refused("static", "--task", "STS-B", "--data-dir", stsb.parent, message="STS-B is a regression task")


@pytest.mark.slow
def test_static_on_the_real_mrpc_scores_the_frontier_studys_static_row(tmp_path):
    result = run_cli("static", "--quiet", "--task", "MRPC", "--out", tmp_path / "static")
    assert result.exit_code == 0, result.output
    committed = json.loads((ROOT / "bench" / "results" / "frontier.json").read_text())
    (row,) = [r for r in committed if r["task"] == "MRPC" and r["kind"] == "baseline"]
    assert FinishedRun(tmp_path / "static").dev()["accuracy"] == pytest.approx(row["acc"], abs=0.01)
