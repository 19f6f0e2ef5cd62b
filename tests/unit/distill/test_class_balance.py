"""--balance-classes: soft-target losses weighted by example (values worked by hand), weights that leave each
row's minimiser where it was, and class weights from the labelled shares and the teacher's own."""

import math

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from data import InputError, read_table
from distill import load_tokenizer, losses
from distill.examples import class_balance
from distill.examples.encoding import LabelScheme, encode_frame
from distill.methods.objectives import Outputs
from distill.methods.tinybert import TinyBertPrediction
from tests.conftest import DEMO_MLM, GLUE

TEACHER = torch.tensor([[0.0, 0.0], [math.log(3), 0.0]])  # probabilities (0.5, 0.5) and (0.75, 0.25)
STUDENT = torch.tensor([[math.log(3), 0.0], [0.0, 0.0]])  # (0.75, 0.25) and (0.5, 0.5)
WEIGHTS = torch.tensor([2.0, 0.5])


def test_weighted_soft_cross_entropy_by_hand():
    # row 1: -(0.5 log 0.75 + 0.5 log 0.25) = 0.836988; row 2: log 2 = 0.693147
    assert losses.soft_cross_entropy(STUDENT, TEACHER).item() == pytest.approx((0.836988 + 0.693147) / 2, abs=1e-5)
    weighted = losses.soft_cross_entropy(STUDENT, TEACHER, 1.0, WEIGHTS).item()
    assert weighted == pytest.approx((2 * 0.836988 + 0.5 * 0.693147) / 2, abs=1e-5)


def test_weighted_kd_divergence_by_hand():
    # row 1: 0.5 log(0.5/0.75) + 0.5 log(0.5/0.25) = 0.143841; row 2: 0.75 log 1.5 + 0.25 log 0.5 = 0.130812
    assert losses.kd_kl(STUDENT, TEACHER, 1.0).item() == pytest.approx((0.143841 + 0.130812) / 2, abs=1e-5)
    assert losses.kd_kl(STUDENT, TEACHER, 1.0, WEIGHTS).item() == pytest.approx(
        (2 * 0.143841 + 0.5 * 0.130812) / 2, abs=1e-5
    )


def test_each_rows_weight_spreads_the_class_weights_over_the_teachers_probabilities():
    objective = TinyBertPrediction()
    assert objective.soft_weights(TEACHER) is None  # no weights unless asked
    objective.class_weights = torch.tensor([0.5, 2.0])
    assert objective.soft_weights(TEACHER).tolist() == pytest.approx([1.25, 0.875])  # 0.5*0.5+0.5*2, 0.75*0.5+0.25*2
    assert objective.soft_weights(torch.zeros(2, 1)) is None  # regression: nothing to weigh


def test_weights_leave_each_rows_minimiser_at_the_teacher():
    """The weighted loss's gradient vanishes where the student matches the teacher, whatever the weights:
    only a student that cannot match the teacher is moved by them."""
    objective = TinyBertPrediction()
    objective.class_weights = torch.tensor([0.3, 4.0])
    student = TEACHER.clone().requires_grad_(True)
    loss, _ = objective(Outputs(student), Outputs(TEACHER), {})
    loss.backward()
    assert student.grad.abs().max().item() < 1e-6
    elsewhere = STUDENT.clone().requires_grad_(True)
    objective(Outputs(elsewhere), Outputs(TEACHER), {})[0].backward()
    assert elsewhere.grad.abs().max().item() > 1e-2


@pytest.fixture(scope="module")
def mrpc_rows():
    table = read_table(GLUE / "MRPC" / "dev.tsv").head(40)
    tokenizer = load_tokenizer(DEMO_MLM)
    return encode_frame(table, ["#1 String", "#2 String"], "Quality", LabelScheme(("0", "1")), tokenizer, 64, "dev")


def _teacher_with_shares(shares):
    """A classifier whose head ignores the text: every row gets exactly `shares` as its probabilities."""
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=len(shares))  # fmt: skip
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(shares).log())
    return model


def test_class_weights_are_labelled_shares_over_the_teachers(mrpc_rows, monkeypatch):
    labelled = torch.bincount(mrpc_rows.labels, minlength=2).float() / len(mrpc_rows)
    weights, facts = class_balance.class_weights(
        _teacher_with_shares([0.8, 0.2]), mrpc_rows, device="cpu", precision="fp32", progress=False
    )
    assert weights.tolist() == pytest.approx((labelled / torch.tensor([0.8, 0.2])).tolist(), rel=1e-4)
    assert facts["teacher_shares"] == pytest.approx([0.8, 0.2], abs=1e-4)
    assert facts["rows_scored"] == len(mrpc_rows) == 40
    monkeypatch.setattr(class_balance, "SAMPLE_ROWS", 16)
    _, sampled = class_balance.class_weights(
        _teacher_with_shares([0.8, 0.2]), mrpc_rows, device="cpu", precision="fp32", progress=False
    )
    assert sampled["rows_scored"] == 16


def test_a_regression_teacher_is_refused(mrpc_rows):
    with pytest.raises(InputError, match="--balance-classes weighs classes"):
        class_balance.class_weights(_teacher_with_shares([1.0]), mrpc_rows, device="cpu", precision="fp32")


def test_weights_stay_bounded_and_the_shares_they_reach_are_recorded(mrpc_rows):
    """A teacher that all but never names a class would give it a weight in the hundreds: it is clipped.
    A teacher equally unsure of every row keeps its own shares whatever the weights (each row's weight is
    the same): the recorded weighted shares say so rather than claim the labelled ones."""
    _, clipped = class_balance.class_weights(
        _teacher_with_shares([0.999, 0.001]), mrpc_rows, device="cpu", precision="fp32", progress=False
    )
    assert clipped["clipped"] and max(clipped["weights"]) == class_balance.WEIGHT_RANGE[1]
    _, unsure = class_balance.class_weights(
        _teacher_with_shares([0.8, 0.2]), mrpc_rows, device="cpu", precision="fp32", progress=False
    )
    assert unsure["weighted_shares"] == pytest.approx([0.8, 0.2], abs=1e-3) and not unsure["clipped"]
