"""A teacher no better than the majority class is flagged before distilling; a good one is not. Figures
checked by hand on MRPC's dev set (279 of its 408 pairs are paraphrases)."""

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from distill import glue_task_data, load_tokenizer
from distill.examples.teacher_check import TeacherCheck, check_teacher
from tests.conftest import DEMO_MLM


class Scripted(nn.Module):
    """A stand-in teacher: logits for class 1 from `answer(pieces)` of each row's unpadded token ids."""

    def __init__(self, answer):
        super().__init__()
        self.answer = answer

    def forward(self, input_ids, attention_mask, **_):
        rows = [tuple(ids[mask.bool()].tolist()) for ids, mask in zip(input_ids, attention_mask)]
        ones = torch.tensor([float(self.answer(row)) for row in rows])
        return SimpleNamespace(logits=torch.stack([1 - ones, ones], dim=1))


@pytest.fixture(scope="module")
def mrpc_dev():
    task = glue_task_data("MRPC")
    return task.encode(task.dev_paths[0], load_tokenizer(DEMO_MLM), 128)


def test_a_teacher_that_always_answers_the_majority_class_is_flagged(mrpc_dev):
    check = check_teacher(Scripted(lambda row: 1), mrpc_dev)
    assert (check.metric, check.examples) == ("accuracy", 408)
    assert check.teacher == check.floor == pytest.approx(279 / 408)
    assert check.margin == pytest.approx(2 * math.sqrt(279 / 408 * 129 / 408 / 408))  # 0.046
    assert not check.clearly_above
    said = check.warning("runs/teacher/MRPC", fallback=True)
    assert "move runs/teacher/MRPC away" in said and "--teacher-epochs" in said and "0.6838" in said


def test_a_teacher_that_knows_the_answers_passes(mrpc_dev):
    truth = {tuple(mrpc_dev.row(i)["input_ids"].tolist()): int(mrpc_dev.labels[i]) for i in range(len(mrpc_dev))}
    check = check_teacher(Scripted(truth.__getitem__), mrpc_dev)
    assert check.teacher == 1.0 and check.clearly_above and check.record()["clearly_above"]


def test_clearly_above_means_more_than_two_standard_errors():
    margin = 2 * math.sqrt(0.684 * 0.316 / 408)  # 0.046
    assert not TeacherCheck("accuracy", 0.684 + margin - 0.001, 0.684, margin, 408).clearly_above
    assert TeacherCheck("accuracy", 0.684 + margin + 0.001, 0.684, margin, 408).clearly_above
    assert "give another with --teacher" in TeacherCheck("accuracy", 0.5, 0.5, 0.1, 100).warning("t", fallback=False)
