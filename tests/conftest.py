"""Shared fixtures: real data from ../shared, and small masked-LMs saved to disk like a user's model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from data import SHARED_DIR  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent  # the project's root: cli.py, docs/, bench/
GLUE = SHARED_DIR / "data" / "glue"
VECTORS = SHARED_DIR / "vectors" / "glove.6B.50d.20k.txt"
DEMO_MLM = SHARED_DIR / "models" / "minilm-mlm-demo"


def _files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*")) if folder.is_dir() else set()


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Vector caches go to a temporary folder, never into the user's ~/.cache nor beside the shared
    vector files (../shared may be writable for root: the session must leave it as it found it)."""
    shared_vectors = _files_under(VECTORS.parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINYDISTILL_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield
    added = sorted(map(str, _files_under(VECTORS.parent) - shared_vectors))
    assert not added, f"tests wrote beside the shared vector files: {added}"


@pytest.fixture(autouse=True)
def run_in_a_temporary_folder(tmp_path, monkeypatch):
    """Commands write runs/ under the current folder: keep tests out of the checkout."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def tokenizer():
    return AutoTokenizer.from_pretrained(DEMO_MLM)


def run_cli(*args):
    """The command line as a user calls it, arguments as strings."""
    from click.testing import CliRunner

    from cli import main

    return CliRunner().invoke(main, [*map(str, args)])


def refused(*args, message):
    """The command exits 2 with `message` and no traceback."""
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    return result


def save_tiny_mlm(folder: Path, tokenizer, max_positions: int = 128, seed: int = 0) -> Path:
    """A 2-layer random BertForMaskedLM with the real uncased vocabulary, saved and loaded by path."""
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
    )
    BertForMaskedLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_bert(folder: Path, tokenizer, model_class, seed: int = 0, **config) -> Path:
    """A small random BERT of `model_class` (a classifier, a bare encoder...) with the real vocabulary,
    saved with its tokenizer like a user's model folder."""
    torch.manual_seed(seed)
    settings = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, **config}
    model_class(BertConfig(vocab_size=tokenizer.vocab_size, **settings)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def copy_glue_rows(folder: Path, task: str, rows: dict[str, int]) -> Path:
    """A GLUE-layout task folder of a test's own holding the first rows of the real files (header,
    byte-order mark and quotes included); writing into it leaves no trace for other tests."""
    folder.mkdir(parents=True)
    for name, count in rows.items():
        lines = (GLUE / task / name).read_bytes().splitlines(keepends=True)
        (folder / name).write_bytes(b"".join(lines[: count + 1]))
    return folder


@pytest.fixture(scope="session")
def tiny_mlm(tmp_path_factory, tokenizer) -> Path:
    return save_tiny_mlm(tmp_path_factory.mktemp("tiny-mlm"), tokenizer)


@pytest.fixture(scope="session")
def tiny_teacher(tmp_path_factory, tokenizer) -> Path:
    """A random 4-layer classifier (width 64) saved like a user's fine-tuned teacher."""
    from transformers import BertForSequenceClassification

    return save_tiny_bert(
        tmp_path_factory.mktemp("teacher"),
        tokenizer,
        BertForSequenceClassification,
        hidden_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=128,
    )


@pytest.fixture(scope="session")
def mrpc_head(tmp_path_factory) -> Path:
    """The first 40 rows of the real MRPC train.tsv (byte-order mark and quotes included)."""
    lines = (GLUE / "MRPC" / "train.tsv").read_bytes().splitlines(keepends=True)[:41]
    folder = tmp_path_factory.mktemp("glue") / "MRPC"
    folder.mkdir()
    (folder / "train.tsv").write_bytes(b"".join(lines))
    return folder / "train.tsv"


@pytest.fixture(scope="session")
def other_mlms(tmp_path_factory, tokenizer) -> dict[str, Path]:
    """A tiny DistilBERT (WordPiece vocab) and a tiny RoBERTa with a byte-level BPE tokenizer trained
    here on real MRPC sentences, both saved as Hugging Face folders."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import (
        DistilBertConfig,
        DistilBertForMaskedLM,
        RobertaConfig,
        RobertaForMaskedLM,
        RobertaTokenizerFast,
    )

    from data import read_table

    torch.manual_seed(0)
    distil = tmp_path_factory.mktemp("tiny-distilbert")
    DistilBertForMaskedLM(
        DistilBertConfig(
            vocab_size=tokenizer.vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=128
        )
    ).save_pretrained(distil)
    tokenizer.save_pretrained(distil)

    roberta = tmp_path_factory.mktemp("tiny-roberta")
    texts = read_table(GLUE / "MRPC" / "train.tsv")["#1 String"].tolist()
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=3000, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe_tokenizer = RobertaTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
    )
    bpe_tokenizer.save_pretrained(roberta)
    RobertaForMaskedLM(
        RobertaConfig(
            vocab_size=len(bpe_tokenizer),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=130,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
            type_vocab_size=1,
        )
    ).save_pretrained(roberta)
    return {"distilbert": distil, "roberta": roberta}


def outside_package(folder: Path, module: str, source: str, entry_points: dict[str, dict[str, str]]) -> Path:
    """An outside package as `pip install` leaves it, written into `folder` (to put on PYTHONPATH): the
    module `module`.py holding `source`, and `module-0.1.dist-info/` with its METADATA and an
    entry_points.txt declaring `entry_points` ({group: {name: "module:object"}}), which
    `importlib.metadata` finds like those of any installed distribution."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(source)
    info = folder / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    groups = [
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in points.items())
        for group, points in entry_points.items()
    ]
    (info / "entry_points.txt").write_text("\n".join(groups))
    return folder


def run_cli_process(*args, path: tuple[Path, ...] = (), timeout: float = 300):
    """`python cli.py ARGS` in a fresh interpreter, as a user runs it (in the current folder, the test's
    own), with the folders of `path` (outside packages) first on its PYTHONPATH: plug-ins are found by
    entry point from scratch there, not from this process's registry. Returns the CompletedProcess
    (text stdout and stderr)."""
    import subprocess
    import sys

    pythonpath = [*map(str, path), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    command = [sys.executable, str(ROOT / "cli.py"), *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
