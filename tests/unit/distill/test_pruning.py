"""Width pruning: a student cut from the teacher keeps the teacher's most active channels and, at the
teacher's own shape, is the teacher."""

import json

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from data import InputError, read_table
from distill import build_student
from distill.examples.encoding import LabelScheme, encode_frame, model_inputs
from distill.models.pruning import per_head_channels, top_channels
from distill.runs import files
from tests.conftest import GLUE


@pytest.fixture(scope="module")
def teacher(tokenizer):
    torch.manual_seed(0)
    return BertForSequenceClassification(
        BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=64,
            num_hidden_layers=4,
            num_attention_heads=4,
            intermediate_size=128,
            num_labels=2,
        )
    ).eval()


@pytest.fixture(scope="module")
def examples(tokenizer):
    frame = read_table(GLUE / "MRPC" / "train.tsv").head(64)
    return encode_frame(frame, ["#1 String", "#2 String"], "Quality", LabelScheme(("0", "1")), tokenizer, 128, "mrpc")


def _logits(model, examples):
    batch = examples.collate([examples[i] for i in range(16)])
    with torch.no_grad():
        return model.eval()(**model_inputs(batch)).logits


def test_pruning_to_the_teachers_own_shape_gives_the_teacher(teacher, examples):
    student = build_student("4L-64", teacher, LabelScheme(("0", "1")), "teacher-pruned", calibration=examples)
    assert torch.equal(_logits(student, examples), _logits(teacher, examples))


def test_pruning_keeps_the_most_active_channels(teacher, examples):
    silent = BertForSequenceClassification(teacher.config)
    silent.load_state_dict(teacher.state_dict())
    with torch.no_grad():  # channels 0..15 of every hidden state are exactly zero in this teacher
        norms = [silent.bert.embeddings.LayerNorm] + [
            m for layer in silent.bert.encoder.layer for m in (layer.attention.output.LayerNorm, layer.output.LayerNorm)
        ]
        for norm in norms:
            norm.weight[:16] = 0
            norm.bias[:16] = 0
    student = build_student("2L-48", silent, LabelScheme(("0", "1")), "teacher-pruned", calibration=examples)
    assert torch.equal(
        student.bert.embeddings.word_embeddings.weight, silent.bert.embeddings.word_embeddings.weight[:, 16:]
    )
    # layers 0 and 2 (evenly spaced), their feed-forward cut from 128 to 96 neurons
    assert student.bert.encoder.layer[1].intermediate.dense.weight.shape == (96, 48)
    kept = student.bert.encoder.layer[1].output.LayerNorm.weight
    assert torch.equal(kept, silent.bert.encoder.layer[2].output.LayerNorm.weight[16:])


def test_lowest_and_alternate_starts_copy_whole_layers_at_the_teachers_width_and_cut_them_narrower(teacher, examples):
    scheme = LabelScheme(("0", "1"))
    for init, layers in (("teacher-lowest", [0, 1]), ("teacher-alternate", [0, 2])):
        whole = build_student("2L-64", teacher, scheme, init)  # no examples needed: nothing is measured
        cut = build_student("2L-48", teacher, scheme, init, calibration=examples)
        kept = torch.tensor(cut.config.pruned_hidden_channels)
        for i, j in enumerate(layers):
            source = teacher.bert.encoder.layer[j].output.LayerNorm.weight
            assert torch.equal(whole.bert.encoder.layer[i].output.LayerNorm.weight, source)
            assert torch.equal(cut.bert.encoder.layer[i].output.LayerNorm.weight, source[kept])
        with pytest.raises(InputError, match=f"--student-init {init} needs examples"):
            build_student("2L-48", teacher, scheme, init)


def test_head_dimensions_are_chosen_within_each_head():
    scores = torch.tensor([5.0, 1, 3, 2, 0, 9, 8, 1])  # 2 heads of 4 dims
    assert top_channels(scores, 3).tolist() == [0, 5, 6]  # in their original order, not by score
    assert per_head_channels(scores, 2, 2).tolist() == [0, 2, 5, 6]


def test_pruning_refuses_a_wider_student_and_needs_examples(teacher, examples):
    with pytest.raises(InputError, match="width no larger"):
        build_student("2L-128", teacher, LabelScheme(("0", "1")), "teacher-pruned", calibration=examples)
    with pytest.raises(InputError, match="needs examples"):
        build_student("2L-48", teacher, LabelScheme(("0", "1")), "teacher-pruned")


def test_projections_of_a_pruned_student_start_as_its_channel_selection():
    from distill.methods.tinybert import TinyBertIntermediate

    objective = TinyBertIntermediate(((1, 1),), 3, 5, channels=[4, 0, 2])
    with torch.no_grad():
        projected = objective.projections[1](torch.tensor([[1.0, 2.0, 3.0]]))
    assert projected.tolist() == [[2.0, 0.0, 3.0, 0.0, 1.0]]
    assert TinyBertIntermediate(((1, 1),), 3, 5).projections[1].weight.abs().sum() > 0  # random otherwise


def _source_layers(student, teacher) -> list[int] | None:
    """The teacher layer (0-based) each student layer was cut from, found from the weights alone: every row
    of a pruned key projection is a row of the source layer's key projection at the kept channels."""
    kept = getattr(student.config, "pruned_hidden_channels", None)
    if kept is None:
        return None
    found = []
    for layer in student.base_model.encoder.layer:
        rows = layer.attention.self.key.weight
        found += [
            t
            for t, source in enumerate(teacher.base_model.encoder.layer)
            if all(torch.isclose(source.attention.self.key.weight[:, kept], row).all(1).any() for row in rows)
        ]
    return found


@pytest.mark.parametrize(
    "settings, imitated",
    [
        (dict(student="2L-48", layer_map="1,3", options={"stage": "prediction"}), [0, 2]),  # explicit map: 1, 3
        (dict(student="2L-48", options={"stage": "prediction"}), [1, 3]),  # uniform map m * 4 / 2
        (dict(student="auto", options={"stage": "prediction"}), [1, 3]),  # auto: half the teacher's 4 layers
        (dict(method="pkd", student="2L-64"), None),  # PKD starts from the lowest layers, no pruning
    ],
)
def test_a_pruned_tinybert_student_starts_from_the_layers_it_imitates(
    tmp_path, teacher, tokenizer, mrpc_head, settings, imitated
):
    """A real `distill` at learning rate 0 saves the student as it started: its layers must be cut from the
    teacher layers it imitates (found from the weights), as its plan says."""
    from dataclasses import replace

    from transformers import AutoModelForSequenceClassification

    from distill import DistillSettings, TrainSettings, glue_task_data
    from distill import distill as run_distill

    teacher.save_pretrained(tmp_path / "teacher")
    tokenizer.save_pretrained(tmp_path / "teacher")
    task = replace(glue_task_data("MRPC"), train_path=mrpc_head, dev_paths=(mrpc_head,), original_train_path=mrpc_head)
    run_distill(
        task,
        tmp_path / "teacher",
        tmp_path / "run",
        TrainSettings(max_steps=1, batch_size=8, lr=0.0),
        DistillSettings(**settings),
        progress=False,
    )
    student = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run")
    assert _source_layers(student, teacher) == imitated
    plan = json.loads((tmp_path / "run" / files.SETTINGS).read_text())["run"]["plan"]
    assert plan["imitated_layers"] == imitated


def test_general_distillation_prunes_from_the_layers_its_student_imitates(tmp_path, teacher, tokenizer):
    """A 3-layer general student of the 4-layer teacher imitates teacher layers 2, 3, 4 (evenly spaced, top
    included): the pruned start must copy exactly those, not the bottom-aligned fallback 1, 2, 3."""
    from transformers import AutoModel

    from distill import TrainSettings, general_distill

    teacher.bert.save_pretrained(tmp_path / "encoder")
    tokenizer.save_pretrained(tmp_path / "encoder")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(read_table(GLUE / "SST-2" / "train.tsv")["sentence"].head(40)) + "\n")
    settings = TrainSettings(max_steps=1, batch_size=8, lr=0.0)
    general_distill(tmp_path / "encoder", corpus, tmp_path / "g", settings, student="3L-48", progress=False)
    assert _source_layers(AutoModel.from_pretrained(tmp_path / "g"), teacher) == [1, 2, 3]
