"""Each distillation loss against a value worked out by hand; layer maps; student construction."""

import math

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from data import InputError
from distill import layer_maps, methods
from distill.methods.losses import (
    attention_mse,
    cosine_hidden_loss,
    kd_kl,
    masked_mse,
    patient_loss,
    soft_cross_entropy,
    task_loss,
)
from distill.models.shapes import (
    alternate_layers,
    copy_teacher_layers,
    lowest_layers,
    parse_shape,
    student_config,
)

T = torch.tensor


def test_soft_cross_entropy():
    # teacher uniform over 2 classes, student (0.25, 0.75): -(0.5 ln 0.25 + 0.5 ln 0.75)
    got = soft_cross_entropy(T([[0.0, math.log(3)]]), T([[0.0, 0.0]]))
    assert got.item() == pytest.approx(-(0.5 * math.log(0.25) + 0.5 * math.log(0.75)), rel=1e-6)
    # temperature 2 on both: student logits (0, ln 3)/2 -> probs (1, sqrt 3) / (1 + sqrt 3)
    p = 1 / (1 + math.sqrt(3))
    got = soft_cross_entropy(T([[0.0, math.log(3)]]), T([[0.0, 0.0]]), temperature=2.0)
    assert got.item() == pytest.approx(-(0.5 * math.log(p) + 0.5 * math.log(1 - p)), rel=1e-6)


def test_kd_kl_scales_with_t_squared():
    assert kd_kl(T([[0.0, math.log(3)]]), T([[0.0, 0.0]]), 1.0).item() == pytest.approx(0.5 * math.log(4 / 3), rel=1e-6)
    p = 1 / (1 + math.sqrt(3))
    expected = 4 * (0.5 * math.log(0.5 / p) + 0.5 * math.log(0.5 / (1 - p)))
    assert kd_kl(T([[0.0, math.log(3)]]), T([[0.0, 0.0]]), 2.0).item() == pytest.approx(expected, rel=1e-6)
    assert kd_kl(T([[1.0, 2.0], [3.0, -1.0]]), T([[1.0, 2.0], [3.0, -1.0]]), 5.0).item() == pytest.approx(0, abs=1e-6)


def test_task_loss_classification_and_regression():
    assert task_loss(T([[0.0, math.log(3)]]), T([1])).item() == pytest.approx(-math.log(0.75), rel=1e-6)
    assert task_loss(T([[2.0], [4.0]]), T([3.0, 3.0])).item() == pytest.approx(1.0)


def test_masked_mse_ignores_padding_entirely():
    student = T([[[1.0, 1.0], [9.0, 9.0]]])
    teacher = T([[[0.0, 3.0], [0.0, 0.0]]])
    # only token 0 counts: ((1-0)^2 + (1-3)^2) / 2 = 2.5; zeroing the pad would give 1.25 instead
    assert masked_mse(student, teacher, T([[1, 0]])).item() == pytest.approx(2.5)


def test_attention_mse_leaves_padded_queries_and_keys_out():
    student = torch.zeros(1, 1, 3, 3)
    teacher = torch.zeros(1, 1, 3, 3)
    teacher[0, 0, :2, :2] = T([[1.0, 2.0], [3.0, 4.0]])
    teacher[0, 0, 2, :] = 1e4  # a padded query row and key column: must not count
    teacher[0, 0, :, 2] = -1e4
    mask = T([[1, 1, 0]])
    assert attention_mse(student, teacher, mask).item() == pytest.approx((1 + 4 + 9 + 16) / 4)
    # two student heads vs one teacher head: head-averaged maps are compared
    two = torch.stack([torch.zeros(3, 3), torch.full((3, 3), 2.0)])[None]
    assert attention_mse(two, teacher, mask).item() == pytest.approx(((1 - 1) ** 2 + 1 + 4 + 9) / 4)


def test_cosine_hidden_loss():
    student = T([[[1.0, 0.0], [1.0, 1.0], [5.0, 5.0]]])
    teacher = T([[[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]])
    expected = ((1 - 0) + (1 - 1 / math.sqrt(2))) / 2
    assert cosine_hidden_loss(student, teacher, T([[1, 1, 0]])).item() == pytest.approx(expected, rel=1e-6)


def test_patient_loss_on_normalised_cls_states():
    # (3, 4) and (4, 3) normalise to (0.6, 0.8) and (0.8, 0.6): squared distance 0.08; two layers add
    s, t = T([[3.0, 4.0]]), T([[4.0, 3.0]])
    assert patient_loss([s], [t]).item() == pytest.approx(0.08, rel=1e-5)
    assert patient_loss([s, s * 10], [t, t]).item() == pytest.approx(0.16, rel=1e-5)


def test_layer_maps_are_data():
    assert layer_maps.uniform(4, 12) == ((1, 3), (2, 6), (3, 9), (4, 12))
    assert layer_maps.skip(6, 12) == ((1, 2), (2, 4), (3, 6), (4, 8), (5, 10))
    assert layer_maps.last(6, 12) == ((1, 7), (2, 8), (3, 9), (4, 10), (5, 11))
    assert layer_maps.explicit("2,4,6", 3, 6) == ((1, 2), (2, 4), (3, 6))
    # counts that do not divide: the nearest even spread, ending at the top (TinyBERT 4L of a 6L MiniLM)
    assert layer_maps.uniform(4, 6) == ((1, 2), (2, 3), (3, 5), (4, 6))
    assert layer_maps.uniform(4, 5) == ((1, 2), (2, 3), (3, 4), (4, 5))
    assert layer_maps.skip(4, 6) == ((1, 2), (2, 3), (3, 5))
    with pytest.raises(InputError, match="deeper than its 4-layer teacher.*--layer-map"):
        layer_maps.uniform(6, 4)
    with pytest.raises(InputError, match="needs 3 teacher layer numbers"):
        layer_maps.explicit("2,4", 3, 6)


def test_student_shapes_and_layer_choices():
    assert parse_shape("4L-312") == (4, 312) and parse_shape("runs/general") is None
    teacher = BertConfig(
        hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536, num_labels=2
    )
    config = student_config(teacher, 4, 312)
    assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size) == (4, 312, 1248)
    assert config.num_attention_heads == 12 and config.vocab_size == teacher.vocab_size and config.num_labels == 2
    with pytest.raises(InputError, match="not divisible by the teacher's 12 attention heads"):
        student_config(teacher, 4, 100)
    assert alternate_layers(3, 6) == [0, 2, 4] and alternate_layers(6, 12) == [0, 2, 4, 6, 8, 10]
    assert alternate_layers(4, 6) == [0, 1, 3, 4]
    for m, n in [(4, 6), (3, 12), (5, 7), (6, 12)]:  # one rule: DistilBERT's choice mirrors the layer map
        assert alternate_layers(m, n) == sorted(n - t for _, t in layer_maps.uniform(m, n))
    assert lowest_layers(3, 12) == [0, 1, 2]


@pytest.mark.parametrize(
    "method, teacher, heads, expected",
    [
        ("tinybert", (6, 384), 12, "4L-312"),  # the quality study's pick for a MiniLM teacher
        ("distilbert", (6, 384), 12, "3L-384"),  # copies whole teacher layers: the teacher's width
        ("pkd", (6, 384), 12, "3L-384"),
        ("tinybert", (12, 768), 12, "6L-768"),  # not what the study measured: half the layers
        ("tinybert", (6, 256), 4, "3L-256"),  # no narrower than the teacher
        ("tinybert", (6, 384), 16, "3L-384"),  # 312 does not split into 16 heads
    ],
)
def test_student_auto_is_the_study_pick_for_tinybert_from_six_layers(method, teacher, heads, expected):
    assert methods.get(method).default_student(*teacher, heads) == expected


def test_copy_teacher_layers_copies_the_chosen_ones():
    torch.manual_seed(0)
    teacher = BertForSequenceClassification(
        BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=6, num_attention_heads=2, intermediate_size=32)
    )
    student = BertForSequenceClassification(student_config(teacher.config, 3, 16))
    copy_teacher_layers(student, teacher, [0, 2, 4])
    for i, j in enumerate([0, 2, 4]):
        s_state, t_state = student.bert.encoder.layer[i].state_dict(), teacher.bert.encoder.layer[j].state_dict()
        assert all(torch.equal(s_state[k], t_state[k]) for k in t_state)
    assert torch.equal(student.bert.embeddings.word_embeddings.weight, teacher.bert.embeddings.word_embeddings.weight)
    narrow = BertForSequenceClassification(student_config(teacher.config, 3, 8))
    with pytest.raises(InputError, match="needs the teacher's width"):
        copy_teacher_layers(narrow, teacher, [0, 1, 2])


def test_tinybert_prediction_for_regression_is_mse_to_the_teachers_output_not_the_gold_label():
    from distill.methods.objectives import Outputs
    from distill.methods.tinybert import TinyBertPrediction

    student, teacher = Outputs(T([[2.0], [0.5]])), Outputs(T([[3.0], [0.0]]))
    expected = ((2.0 - 3.0) ** 2 + (0.5 - 0.0) ** 2) / 2
    for gold in (T([3.0, 0.0]), T([-7.0, 40.0])):  # the gold labels change nothing
        loss, parts = TinyBertPrediction(temperature=3.0)(student, teacher, {"labels": gold})
        assert loss.item() == pytest.approx(expected) and parts == {"prediction": pytest.approx(expected)}
    two = TinyBertPrediction()(Outputs(T([[0.0, math.log(3)]])), Outputs(T([[0.0, 0.0]])), {"labels": T([0])})[0]
    assert two.item() == pytest.approx(soft_cross_entropy(T([[0.0, math.log(3)]]), T([[0.0, 0.0]])).item())


def test_attention_scores_from_hooks_equal_the_models_own_pre_softmax_scores(monkeypatch):
    """Run the model with eager attention, catch what its softmax receives (scores + additive mask), and
    compare with the scores rebuilt from the query/key hooks over every real (query, key) pair."""
    from distill.methods.taps import AttentionScores

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
        attn_implementation="eager",
    )
    model = BertForSequenceClassification(config).eval()
    ids = torch.randint(5, 100, (2, 7))
    mask = T([[1] * 7, [1] * 4 + [0] * 3])
    seen, real_softmax = [], torch.nn.functional.softmax

    def catching(scores, *args, **kwargs):
        if scores.dim() == 4:
            seen.append(scores.detach().clone())
        return real_softmax(scores, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "softmax", catching)
    with torch.no_grad(), AttentionScores(model) as taps:
        model(input_ids=ids, attention_mask=mask)
    assert len(seen) == 3
    pairs = (mask[:, None, :, None] * mask[:, None, None, :]).bool().expand(-1, 4, -1, -1)
    for own, rebuilt in zip(seen, taps.read()):
        assert rebuilt.shape == own.shape == (2, 4, 7, 7)
        assert torch.allclose(rebuilt[pairs], own[pairs], atol=1e-5)
        assert (own[~pairs.any(2, keepdim=True).expand_as(pairs)] < -1e30).all()  # padded keys were masked


def test_value_states_are_each_heads_share_of_the_value_projection():
    from distill.methods.taps import ValueStates

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )
    model = BertForSequenceClassification(config).eval()
    ids = torch.randint(5, 100, (2, 7))
    with torch.no_grad(), ValueStates(model) as taps:
        out = model(input_ids=ids, output_hidden_states=True)
    values = taps.read()
    assert len(values) == 2 and values[0].shape == (2, 4, 7, 8)
    with torch.no_grad():
        projected = model.bert.encoder.layer[1].attention.self.value(out.hidden_states[1])
    assert torch.allclose(values[1], projected.view(2, 7, 4, 8).transpose(1, 2), atol=1e-6)
    assert torch.equal(values[1][:, 2], projected[:, :, 16:24])  # head 3 holds dimensions 16..23


def test_relation_kl_by_hand_and_blind_to_padding():
    from distill.methods.losses import relation_kl

    # one head, two real tokens: teacher row 0 is (1/4, 3/4), the student's rows are uniform, row 1 agrees
    teacher = T([[[[0.0, math.log(3)], [0.0, 0.0]]]])
    student = torch.zeros(1, 1, 2, 2)
    row0 = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert relation_kl(student, teacher, T([[1, 1]])).item() == pytest.approx(row0 / 2, rel=1e-6)
    # a padded third token, whatever its scores, changes nothing
    padded = lambda x: torch.nn.functional.pad(x, (0, 1, 0, 1), value=100.0)  # noqa: E731
    got = relation_kl(padded(student), padded(teacher), T([[1, 1, 0]]))
    assert got.item() == pytest.approx(row0 / 2, rel=1e-6)
    assert relation_kl(teacher, teacher, T([[1, 1]])).item() == pytest.approx(0.0, abs=1e-7)


def test_value_relation_is_the_scaled_dot_product_of_each_heads_values():
    from distill.methods.losses import value_relation

    values = T([[[[1.0, 0.0], [0.0, 2.0]]]])  # one head, two tokens, head size 2
    expected = T([[[[1.0, 0.0], [0.0, 4.0]]]]) / math.sqrt(2)
    assert torch.allclose(value_relation(values), expected)


def test_minilm_relations_vanish_when_the_student_has_the_teachers_attention():
    from distill.methods.minilm import MiniLmRelations
    from distill.methods.objectives import Outputs

    g = torch.Generator().manual_seed(0)
    scores = [torch.randn(2, 4, 5, 5, generator=g) for _ in range(3)]
    values = [torch.randn(2, 4, 5, 8, generator=g) for _ in range(3)]
    mask = T([[1] * 5, [1] * 3 + [0] * 2])
    teacher = Outputs(None, scores=scores, values=values)
    objective = MiniLmRelations(((2, 3),))  # student layer 2 learns teacher layer 3
    same = Outputs(None, scores=[scores[0], scores[2]], values=[values[0], values[2] * 2])
    loss, parts = objective(same, teacher, {"attention_mask": mask})
    assert parts["attention_relation"] == pytest.approx(0.0, abs=1e-6)
    assert parts["value_relation"] > 0.01  # doubled values sharpen the relation
    other = Outputs(None, scores=[scores[0], scores[1]], values=[values[0], values[2]])
    assert objective(other, teacher, {"attention_mask": mask})[1]["attention_relation"] > 0.01


def _loss_inputs():
    """Each loss with inputs shaped as in training (logits, states, scores, mask)."""
    from distill import losses

    g = torch.Generator().manual_seed(0)
    logits = lambda: torch.randn(16, 3, generator=g) * 4  # noqa: E731
    states = lambda: torch.randn(4, 7, 8, generator=g)  # noqa: E731
    mask = T([[1] * 7, [1] * 5 + [0] * 2, [1] * 3 + [0] * 4, [1] * 7])
    return {
        "soft_cross_entropy": (losses.soft_cross_entropy, (logits(), logits(), 2.0)),
        "kd_kl": (losses.kd_kl, (logits(), logits(), 10.0)),
        "task_loss": (losses.task_loss, (logits(), torch.randint(0, 3, (16,), generator=g))),
        "masked_mse": (losses.masked_mse, (states(), states(), mask)),
        "attention_mse": (losses.attention_mse, (torch.randn(4, 2, 7, 7, generator=g), torch.randn(4, 2, 7, 7), mask)),
        "cosine_hidden_loss": (losses.cosine_hidden_loss, (states(), states(), mask)),
        "patient_loss": (losses.patient_loss, ([torch.randn(16, 8, generator=g)], [torch.randn(16, 8, generator=g)])),
        "mse": (losses.mse, (logits(), logits())),
        "relation_kl": (losses.relation_kl, (torch.randn(4, 2, 7, 7, generator=g), torch.randn(4, 2, 7, 7), mask)),
    }


@pytest.mark.parametrize("name", list(_loss_inputs()))
def test_every_loss_is_computed_in_fp32_under_bf16_autocast(name):
    """Model outputs arrive in bf16 under CPU autocast, which leaves softmax in bf16: each loss must
    still be the fp32 value of those same (bf16-rounded) inputs."""
    loss, args = _loss_inputs()[name]

    def bf16(value):
        if isinstance(value, list):
            return [bf16(v) for v in value]
        return value.bfloat16() if isinstance(value, torch.Tensor) and value.is_floating_point() else value

    def fp32(value):
        if isinstance(value, list):
            return [fp32(v) for v in value]
        return value.float() if isinstance(value, torch.Tensor) and value.is_floating_point() else value

    rounded = [bf16(a) for a in args]
    reference = loss(*[fp32(a) for a in rounded])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = loss(*rounded)
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(reference.item(), rel=1e-6, abs=1e-7)


def test_kl_divergence_of_a_distribution_with_itself_is_zero_under_bf16_autocast():
    from distill.methods.losses import kd_kl

    logits = (torch.randn(64, 2, generator=torch.Generator().manual_seed(0)) * 3).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert kd_kl(logits, logits, 10.0).item() == pytest.approx(0.0, abs=1e-5)  # the bug gave -1e-3
