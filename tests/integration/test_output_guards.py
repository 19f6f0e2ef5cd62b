"""A user's own workflow faults: two runs on one output (the second refused at once, naming the first;
a lock left by a killed run taken over), and a finished result never silently replaced (the same
request is a free rerun, another one needs --overwrite, and the refusal comes before any model loads)."""

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from transformers import BertForSequenceClassification

from data.outputs import lock_path
from distill.runs import files
from tests.conftest import DEMO_MLM, ROOT, VECTORS, copy_glue_rows, refused, run_cli, save_tiny_bert

pytestmark = pytest.mark.slow


def _no_model(*args, **kwargs):
    """Stands in for a model loader where a rerun or a refusal must load nothing."""
    raise AssertionError("a model was loaded")


def _augment_flags(data, *more):
    flags = ["augment", "--quiet", "--data-dir", data.parent, "--mlm", DEMO_MLM, "--glove", VECTORS, "--n", 2]
    return [*flags, *map(str, more)]


def _cli(*args, cwd, **popen):
    return subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def _wait_for(path, process, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"ended before {path} appeared:\n{process.stdout.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.mark.parametrize("workers", [["--jobs", 2], ["--dask", "local", "--jobs", 2]], ids=["jobs", "dask"])
def test_a_second_augment_on_the_same_output_is_refused_at_once_naming_the_first(tmp_path, workers):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 128})
    output = data / "train_aug.tsv"
    first = _cli(*_augment_flags(data, "--shard-rows", 8, *workers), cwd=tmp_path)
    try:
        _wait_for(lock_path(output), first)
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), *map(str, _augment_flags(data, *workers))],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        refused_after = time.monotonic() - started
        assert first.poll() is None, "the first run ended before the second was tried: the test proves nothing"
    except BaseException:
        first.kill()
        raise
    assert second.returncode == 2 and "Traceback" not in second.stderr, second.stderr
    assert f"is being written by another run (pid {first.pid} on {socket.gethostname()}, started" in second.stderr
    assert refused_after < 30  # at once: no model loaded, no shard run
    assert first.wait(timeout=600) == 0, first.stdout.read()
    manifest = json.loads((data / "train_aug.tsv.json").read_text())
    assert manifest["rows_out"] == len(output.read_text().splitlines()) - 1  # the first run's file is whole
    assert not lock_path(output).exists()  # released at the end


def test_a_lock_left_by_a_killed_run_is_taken_over_with_a_note(tmp_path, tokenizer):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 24, "dev.tsv": 16})
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from data.outputs import OutputLock; OutputLock({str(out)!r}, 'distill').__enter__()"
            "; import time; time.sleep(600)",
        ],
        cwd=ROOT,
    )
    try:
        _wait_for(lock_path(out), holder)
        time.sleep(0.5)  # the owner's line written
        teacher = save_tiny_bert(tmp_path / "teacher", tokenizer, BertForSequenceClassification)
        flags = ["distill", "--quiet", "--data-dir", data.parent, "--teacher", teacher, "--student", "1L-32"]
        flags += ["--max-steps", 1, "--out", out]
        refused(*flags, message=f"is being written by another run (pid {holder.pid} on {socket.gethostname()}")
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    result = run_cli(*flags)
    assert result.exit_code == 0, result.output
    assert f"was left by a run that ended without finishing (pid {holder.pid} on {socket.gethostname()}" in (
        result.output
    )


def test_a_finished_augment_is_done_for_the_same_request_and_kept_from_another(tmp_path, monkeypatch):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 16})
    output = data / "train_aug.tsv"
    assert run_cli(*_augment_flags(data)).exit_code == 0
    made = output.read_bytes()
    from augment import runner

    monkeypatch.setattr(runner, "Augmenter", _no_model)  # a rerun or a refusal loads nothing
    again = run_cli(*_augment_flags(data))
    assert again.exit_code == 0, again.output
    assert f"already done: {output} holds a finished augmented file made with these settings" in again.output
    assert again.output.strip().endswith("examples + augmented copies), unchanged")
    refused(
        *_augment_flags(data, "--p", 0.9), message="made with other settings (differing: source.p). Pass --overwrite"
    )
    output.write_text("my own notes\n")  # a file augment did not write
    refused(*_augment_flags(data), message="(differing: unknown: no record of how it was made)")
    assert output.read_text() == "my own notes\n"
    monkeypatch.undo()
    assert run_cli(*_augment_flags(data, "--overwrite")).exit_code == 0
    assert output.read_bytes() == made


def test_a_finished_run_is_done_for_the_same_request_and_kept_from_another(tmp_path, tokenizer, monkeypatch):
    """Before: `distill --out DIR` on a finished run retrained and replaced it without a word."""
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 24, "dev.tsv": 16})
    teacher = save_tiny_bert(tmp_path / "teacher", tokenizer, BertForSequenceClassification)
    out = tmp_path / "run"
    flags = ["distill", "--quiet", "--data-dir", data.parent, "--teacher", teacher, "--student", "1L-32"]
    flags += ["--max-steps", 2, "--out", out]
    assert run_cli(*flags).exit_code == 0
    weights = (out / "model.safetensors").read_bytes()
    task_distillation = importlib.import_module("distill.jobs.distillation")

    monkeypatch.setattr(task_distillation, "load_teacher", _no_model)
    spelled_otherwise = [os.path.relpath(flag) if flag == data.parent else flag for flag in flags]
    for same in (flags, spelled_otherwise):  # the same files, however their paths are written
        again = run_cli(*same)
        assert again.exit_code == 0 and f"already done: {out} holds a finished run" in again.output, again.output
        assert "saved in" in again.output  # its report is shown as after the run
    refused(*flags, "--temperature", 4, message="made with other settings (differing: recipe.options.temperature)")
    save_tiny_bert(teacher, tokenizer, BertForSequenceClassification, seed=1)  # another teacher, same path
    refused(*flags, message="(differing: teacher)")
    assert (out / "model.safetensors").read_bytes() == weights and (out / files.REPORT).is_file()
    monkeypatch.undo()
    replaced = run_cli(*flags, "--overwrite")
    assert replaced.exit_code == 0 and "--overwrite: replacing the finished run" in replaced.output
    assert (out / "model.safetensors").read_bytes() != weights


def test_a_finished_finetune_is_not_made_again(tmp_path, tokenizer, monkeypatch):
    from transformers import BertModel

    data = copy_glue_rows(tmp_path / "glue" / "SST-2", "SST-2", {"train.tsv": 24, "dev.tsv": 16})
    encoder = save_tiny_bert(tmp_path / "encoder", tokenizer, BertModel)
    flags = ["finetune", "--quiet", "--task", "SST-2", "--data-dir", data.parent, "--model", encoder]
    flags += ["--max-steps", 1, "--out", tmp_path / "teacher"]
    assert run_cli(*flags).exit_code == 0
    metrics = (tmp_path / "teacher" / files.HISTORY).read_text()
    finetuning = importlib.import_module("distill.jobs.finetune")  # the module, not the function it exports

    monkeypatch.setattr(finetuning, "load_encoder_for_task", _no_model)
    again = run_cli(*flags)
    assert again.exit_code == 0 and "already done" in again.output
    refused(*flags[:-4], "--max-steps", 2, *flags[-2:], message="(differing: settings.max_steps)")
    assert (tmp_path / "teacher" / files.HISTORY).read_text() == metrics
