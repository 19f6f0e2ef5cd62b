"""The demo's choice of inputs (data, masked-LM, vectors) and the quality table's majority floor."""

import importlib.util
import sys
from pathlib import Path

import pytest

from data import InputError
from distill.runs import files
from tests.conftest import DEMO_MLM, ROOT, VECTORS


def _load(relative: str):
    spec = importlib.util.spec_from_file_location(Path(relative).stem, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def demo(monkeypatch):
    for name in ("GLUE_DIR", "MLM", "GLOVE"):
        monkeypatch.delenv(name, raising=False)
    return _load("scripts/demo.py")


def test_demo_uses_shared_data_demo_mlm_and_augments_default_vectors(demo):
    from augment import default_vectors

    task_dir, mlm, vectors, said = demo.choose_inputs()
    assert task_dir == VECTORS.parent.parent / "data" / "glue" / "MRPC"
    assert mlm == str(DEMO_MLM) and vectors == default_vectors()[0]
    assert any("demo masked-LM" in line for line in said) and any("400,000-word" in line for line in said)


def test_demo_takes_mlm_from_the_environment_and_falls_back_to_glove(demo, monkeypatch, tmp_path):
    monkeypatch.setenv("MLM", str(tmp_path))
    assert demo.choose_inputs()[1] == str(tmp_path)
    monkeypatch.setenv("MLM", str(tmp_path / "missing"))
    with pytest.raises(InputError, match="no such folder"):
        demo.choose_inputs()
    monkeypatch.delenv("MLM")
    _, mlm, _, said = demo.choose_inputs(default_mlm=tmp_path / "missing")
    assert mlm == "none" and any("every word takes GloVe neighbours" in line for line in said)


def test_demo_without_mrpc_says_where_to_put_the_glue_files(demo, monkeypatch, tmp_path):
    monkeypatch.setenv("GLUE_DIR", str(tmp_path))
    with pytest.raises(InputError, match=r"no MRPC data found .*glue/MRPC/train.tsv .*GLUE_DIR"):
        demo.choose_inputs(shared=tmp_path / "no-shared")


def testmajority_row_is_the_mrpc_dev_floor():
    from bench.quality_tables import majority_row
    from distill import glue_task_data

    row = majority_row(glue_task_data("MRPC"))
    assert row["name"] == "majority"
    assert round(row["f1"], 3) == 0.812 and round(row["acc"], 3) == 0.684


def test_quality_rows_carry_the_seed_mean_spread_and_gain_kept(tmp_path):
    """Three finished runs of one row: the mean and sample spread over them, and the share of the
    teacher's gain over the majority class that the row keeps, on accuracy and F1."""
    import json
    import statistics

    from bench import quality_tables as quality
    from bench.mrpc_quality_report import chosen_recipe

    runs = []
    for seed, (acc, f1) in zip((42, 43, 44), ((0.70, 0.80), (0.74, 0.82), (0.72, 0.84))):
        run = tmp_path / f"row-{seed}"
        run.mkdir()
        selection = {"kept_holdout": {"accuracy": acc + 0.01, "f1": f1}}
        report = {"models": {"student": {"dev": {"accuracy": acc, "f1": f1}}}, "selection": selection}
        (run / files.REPORT).write_text(json.dumps(report))
        (run / "config.json").write_text(json.dumps({"num_hidden_layers": 3, "hidden_size": 384}))
        runs.append(run)
    speeds = {
        "teacher": {"examples_per_s_batch32": 100.0, "params": 9},
        "3L-384": {"examples_per_s_batch32": 210.0, "params": 5},
    }
    majority, teacher = {"acc": 0.68, "f1": 0.81}, {"acc": 0.80, "f1": 0.86}
    # the held-out pick compares rows with every claim seed: one lucky seed (0.75) is not chosen
    assert chosen_recipe({"three": runs, "one": [runs[1]]}) == "three"
    budget = {"epochs": {"stage 1": 1.0, "stage 2": 0.5}}
    row = quality.quality_row("row", runs, speeds, majority, teacher, budget)
    assert row["seeds"] == 3 and row["acc"] == statistics.mean([0.70, 0.74, 0.72])
    assert row["acc_std"] == statistics.stdev([0.70, 0.74, 0.72]) and row["f1_std"] == statistics.stdev(
        [0.80, 0.82, 0.84]
    )
    assert abs(row["gain_kept_acc"] - (0.72 - 0.68) / (0.80 - 0.68)) < 1e-12
    assert abs(row["gain_kept_f1"] - (0.82 - 0.81) / (0.86 - 0.81)) < 1e-12
    assert row["cpu_speedup"] == 2.1 and row["params"] == 5 and row["shape"] == "3L-384"
    assert abs(row["holdout_acc"] - 0.73) < 1e-12
    single = quality.quality_row("one", runs[:1], speeds, majority, teacher, {})
    assert single["seeds"] == 1 and single["acc_std"] is None
    shipped = tmp_path / "row-42-int8"  # the first run as exported: its figures are the ONNX graph's own
    shipped.mkdir()
    (shipped / files.EXPORT_RECORD).write_text(json.dumps({"dev": {"onnx": {"accuracy": 0.69, "f1": 0.79}}}))
    (shipped / "config.json").write_text((runs[0] / "config.json").read_text())
    speeds |= {
        "teacher int8": {"examples_per_s_batch32": 300.0, "params": 9},
        "3L-384 int8": {"examples_per_s_batch32": 600.0, "params": 5},
    }
    int8 = quality.quality_row("row_int8", [shipped], speeds, majority, teacher, budget)
    assert (int8["acc"], int8["f1"], int8["holdout_acc"], int8["shape"]) == (0.69, 0.79, None, "3L-384 int8")
    assert int8["cpu_speedup"] == 2.0  # against the teacher at the same precision, int8
    found = {"claim": "a > b", "slice": "dev", "difference": 0.0147, "paired_se": 0.0131}
    paired = quality.paired_markdown([{**found, "seed": 42}, {**found, "seed": 44, "difference": -0.02}], (42, 43, 44))
    assert "| a > b | dev | +0.015 ± 0.013 | - | -0.020 ± 0.013 |" in paired
    table = quality.markdown_table([row])
    assert "| row | 1 ep. + 0.5 ep. | 3 | 0.720 ± 0.020 | 0.820 ± 0.020 | 33% / 20% | 0.730 | 3L-384 | 2.10x |" in table
