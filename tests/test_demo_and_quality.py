"""The demo's choice of inputs (data, masked-LM, vectors) and the quality table's majority floor."""

import importlib.util
import sys
from pathlib import Path

import pytest

import data.paths
from data import InputError

from .conftest import DEMO_MLM, VECTORS

ROOT = Path(__file__).resolve().parent.parent


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
    monkeypatch.setattr(demo, "DEFAULT_MLM", tmp_path / "missing")
    _, mlm, _, said = demo.choose_inputs()
    assert mlm == "none" and any("every word takes GloVe neighbours" in line for line in said)


def test_demo_without_mrpc_says_where_to_put_the_glue_files(demo, monkeypatch, tmp_path):
    monkeypatch.setenv("GLUE_DIR", str(tmp_path))
    monkeypatch.setattr(data.paths, "SHARED_DIR", tmp_path / "no-shared")
    with pytest.raises(InputError, match=r"no MRPC data found .*glue/MRPC/train.tsv .*GLUE_DIR"):
        demo.choose_inputs()


def testmajority_row_is_the_mrpc_dev_floor():
    quality = _load("bench/mrpc_quality.py")
    from distill import glue_task_data

    row = quality.majority_row(glue_task_data("MRPC"))
    assert row["name"] == "majority"
    assert round(row["f1"], 3) == 0.812 and round(row["acc"], 3) == 0.684
