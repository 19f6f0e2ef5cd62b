"""Interruptions that are real: a process group killed with SIGKILL mid-run (augment with two workers,
distill), and a kill inside a checkpoint write; each resumed run ends exactly where an uninterrupted
one does."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, BertForSequenceClassification

from tests.conftest import DEMO_MLM, ROOT, VECTORS, copy_glue_rows, save_tiny_bert

CLI = ROOT / "cli.py"
pytestmark = pytest.mark.slow


def _start(*args, cwd, prelude=""):
    """The CLI in a process group of its own (its joblib workers join that group)."""
    code = f"import sys; sys.argv = ['cli.py', *sys.argv[1:]]; {prelude}\nfrom cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=cwd,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(CLI.parent)},
    )


def _kill_when(process, ready, timeout=300):
    """SIGKILL the whole process group as soon as `ready()` holds (while the run is still going)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, f"finished before it could be killed:\n{process.stdout.read().decode()}"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _finish(*args, cwd):
    done = subprocess.run([sys.executable, str(CLI), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_augment_with_two_workers_killed_then_resumed_gives_the_same_bytes(tmp_path):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 96})
    flags = [
        "augment",
        "--quiet",
        "--data-dir",
        data.parent,
        "--mlm",
        DEMO_MLM,
        "--glove",
        VECTORS,
        "--n",
        4,
        "--shard-rows",
        8,
        "--jobs",
        2,
    ]
    parts = data / ".train_aug.tsv.parts"
    process = _start(*flags, cwd=tmp_path)
    _kill_when(process, lambda: len(list(parts.glob("part-*.json"))) >= 2)
    assert not (data / "train_aug.tsv").exists()  # nothing half-written
    done = len(list(parts.glob("part-*.json")))
    resumed = _finish(*flags, "--resume", cwd=tmp_path)
    assert f"resumed: reused {done} of 12 finished shards" in resumed.stderr
    killed = (data / "train_aug.tsv").read_bytes()
    (data / "train_aug.tsv").unlink()
    _finish(*flags, cwd=tmp_path)
    assert killed == (data / "train_aug.tsv").read_bytes()


def _distill_flags(tmp_path, tokenizer):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 96, "dev.tsv": 32})
    teacher = save_tiny_bert(tmp_path / "teacher", tokenizer, BertForSequenceClassification, num_hidden_layers=4)
    return [
        "distill",
        "--quiet",
        "--data-dir",
        data.parent,
        "--teacher",
        teacher,
        "--method",
        "pkd",
        "--student",
        "2L-32",
        "--batch-size",
        8,
        "--max-steps",
        120,
        "--eval-steps",
        10,
        "--precision",
        "fp32",
    ]


def _same_run(a: Path, b: Path) -> None:
    """The same evaluations (steps, dev metrics; mean losses to float noise: the resumed run's teacher
    cache is refilled from batches padded otherwise) and the same final weights."""
    first, second = ([json.loads(line) for line in (p / "metrics.jsonl").open()] for p in (a, b))
    assert [r["step"] for r in first] == [r["step"] for r in second] == list(range(10, 121, 10))
    for x, y in zip(first, second):
        assert x.keys() == y.keys() and x["dev"] == y["dev"]
        for k in x.keys() - {"dev", "step"}:
            assert x[k] == pytest.approx(y[k], rel=1e-5, abs=1e-6), (x["step"], k, x[k], y[k])
    first, second = (AutoModelForSequenceClassification.from_pretrained(p).state_dict() for p in (a, b))
    for name, value in first.items():
        assert torch.allclose(value, second[name], atol=1e-6), name


def test_distill_killed_mid_run_then_resumed_ends_as_an_uninterrupted_run(tmp_path, tokenizer):
    flags = _distill_flags(tmp_path, tokenizer)
    metrics = tmp_path / "killed" / "metrics.jsonl"
    process = _start(*flags, "--out", tmp_path / "killed", cwd=tmp_path)
    _kill_when(process, lambda: metrics.is_file() and len(metrics.read_text().splitlines()) >= 3)
    assert not (tmp_path / "killed" / "report.json").exists()
    _finish(*flags, "--out", tmp_path / "killed", "--resume", cwd=tmp_path)
    _finish(*flags, "--out", tmp_path / "straight", cwd=tmp_path)
    _same_run(tmp_path / "killed", tmp_path / "straight")


def test_a_kill_inside_a_checkpoint_write_resumes_from_the_last_complete_one(tmp_path, tokenizer):
    """Killed between the two renames of the second checkpoint: only checkpoint.old is complete."""
    flags = _distill_flags(tmp_path, tokenizer)
    prelude = """
import os, signal
import distill.checkpoint as checkpoint
real, saves = os.replace, []
def replace(source, target):
    if str(source).endswith("checkpoint.new"):
        saves.append(1)
        if len(saves) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    real(source, target)
checkpoint.os = type(os)("os_with_a_kill")
checkpoint.os.replace = replace
"""
    out = tmp_path / "killed"
    process = _start(*flags, "--out", out, cwd=tmp_path, prelude=prelude)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert (out / "checkpoint.old").is_dir() and not (out / "checkpoint").exists()
    assert json.loads((out / "checkpoint.old" / "trainer_state.json").read_text())["step"] == 10
    _finish(*flags, "--out", out, "--resume", cwd=tmp_path)
    _finish(*flags, "--out", tmp_path / "straight", cwd=tmp_path)
    _same_run(out, tmp_path / "straight")
