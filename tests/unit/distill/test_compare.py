"""Comparing finished runs (distill.runs.compare): the figures a study's table shows, worked by hand."""

import pandas as pd
import pytest

from distill import glue_task_data
from distill.runs import gain_kept, latency_ratio, majority_figures, summarize, throughput_ratio
from tests.conftest import copy_glue_rows


def test_a_recipe_over_seeds_is_its_mean_and_sample_spread_of_the_metrics_every_seed_has():
    summary = summarize([{"accuracy": 0.70, "f1": 0.80}, {"accuracy": 0.74}, {"accuracy": 0.78, "f1": 0.9}], [0.6, 0.8])
    assert summary.seeds == 3 and set(summary.mean) == {"accuracy"}  # f1 is missing from one seed
    assert summary.mean["accuracy"] == pytest.approx(0.74)
    assert summary.spread["accuracy"] == pytest.approx(0.04)  # sample (n - 1) standard deviation
    assert summary.held_out == pytest.approx(0.7)
    alone = summarize([{"accuracy": 0.7}])
    assert alone.spread == {"accuracy": None} and alone.held_out is None
    with pytest.raises(ValueError):
        summarize([])


def test_gain_kept_and_speed_ratios():
    assert gain_kept(0.75, floor=0.7, teacher=0.8) == pytest.approx(0.5)
    assert gain_kept(0.8, floor=0.7, teacher=0.8) == pytest.approx(1.0)
    fast, slow = {"examples_per_s_batch32": 300.0, "latency_ms_batch1": 2.0}, {"examples_per_s_batch32": 100.0,
                                                                              "latency_ms_batch1": 5.0}  # fmt: skip
    assert throughput_ratio(fast, slow) == pytest.approx(3.0) and latency_ratio(fast, slow) == pytest.approx(2.5)
    assert throughput_ratio(None, slow) is None and latency_ratio(fast, {}) is None


def test_the_majority_floor_answers_the_training_sets_most_frequent_label_for_every_dev_example(tmp_path):
    folder = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 40, "dev.tsv": 30})
    train = pd.read_csv(folder / "train.tsv", sep="\t", quoting=3, encoding="utf-8-sig")
    dev = pd.read_csv(folder / "dev.tsv", sep="\t", quoting=3, encoding="utf-8-sig")
    common = train["Quality"].value_counts().idxmax()
    accuracy = (dev["Quality"] == common).mean()
    figures = majority_figures(glue_task_data("MRPC", tmp_path / "glue"))
    assert figures["accuracy"] == pytest.approx(accuracy)
    positive = dev["Quality"] == 1
    f1 = 2 * positive.sum() / (len(dev) + positive.sum()) if common == 1 else 0.0  # all predicted positive
    assert figures["f1"] == pytest.approx(f1)
