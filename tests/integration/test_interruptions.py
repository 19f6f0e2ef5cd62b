"""Interruptions that are real: a process group killed with SIGKILL mid-run (augment with two workers,
distill), a kill inside a checkpoint write, stop signals (SIGTERM, SIGINT) to every command that runs
long, and a full disk (a real file-size limit); each ends in one line, and each resumed run ends
exactly where an uninterrupted one does."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, BertForSequenceClassification

from distill.runs import files
from tests.conftest import DEMO_MLM, GLUE, ROOT, VECTORS, copy_glue_rows, save_tiny_bert

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
    first, second = ([json.loads(line) for line in (p / files.HISTORY).open()] for p in (a, b))
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
    metrics = tmp_path / "killed" / files.HISTORY
    process = _start(*flags, "--out", tmp_path / "killed", cwd=tmp_path)
    _kill_when(process, lambda: metrics.is_file() and len(metrics.read_text().splitlines()) >= 3)
    assert not (tmp_path / "killed" / files.REPORT).exists()
    _finish(*flags, "--out", tmp_path / "killed", "--resume", cwd=tmp_path)
    _finish(*flags, "--out", tmp_path / "straight", cwd=tmp_path)
    _same_run(tmp_path / "killed", tmp_path / "straight")


def test_a_kill_inside_a_checkpoint_write_resumes_from_the_last_complete_one(tmp_path, tokenizer):
    """Killed between the two renames of the second checkpoint: only checkpoint.old is complete."""
    flags = _distill_flags(tmp_path, tokenizer)
    prelude = """
import os, signal
import distill.training.checkpoint as checkpoint
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
    assert json.loads((out / "checkpoint.old" / files.CHECKPOINT_STATE).read_text())["step"] == 10
    _finish(*flags, "--out", out, "--resume", cwd=tmp_path)
    _finish(*flags, "--out", tmp_path / "straight", cwd=tmp_path)
    _same_run(out, tmp_path / "straight")


def _signal_when(process, ready, signum, timeout=300) -> str:
    """Send `signum` to the whole process group (as Ctrl-C or a scheduler does) once `ready()` holds;
    the run's output."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, f"finished before it could be stopped:\n{process.stdout.read().decode()}"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(process.pid, signum)
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == 128 + signum, output
    assert "Traceback" not in output, output
    return output


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_augment_stopped_by_a_signal_says_what_it_kept_and_resumes_to_the_same_bytes(tmp_path, signum):
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 96})
    flags = ["augment", "--quiet", "--data-dir", data.parent, "--mlm", DEMO_MLM, "--glove", VECTORS, "--n", 4]
    flags += ["--shard-rows", 8, "--jobs", 2]
    parts = data / ".train_aug.tsv.parts"
    output = _signal_when(_start(*flags, cwd=tmp_path), lambda: len(list(parts.glob("part-*.json"))) >= 2, signum)
    line = _last_line(output)
    name = signal.Signals(signum).name
    assert line.startswith(f"stopped by {name}: kept ") and line.endswith(
        f"finished shards in {parts}; run the same command with --resume to continue"
    ), output
    assert not (data / "train_aug.tsv").exists() and not list(data.glob(".train_aug.tsv.tmp"))
    _finish(*flags, "--resume", cwd=tmp_path)
    stopped = (data / "train_aug.tsv").read_bytes()
    _finish(*flags, "--overwrite", cwd=tmp_path)
    assert stopped == (data / "train_aug.tsv").read_bytes()


def test_distill_stopped_by_sigterm_keeps_its_checkpoint_and_resumes_to_the_same_end(tmp_path, tokenizer):
    flags = _distill_flags(tmp_path, tokenizer)
    out = tmp_path / "stopped"
    state = out / "checkpoint" / files.CHECKPOINT_STATE
    output = _signal_when(_start(*flags, "--out", out, cwd=tmp_path), state.is_file, signal.SIGTERM)
    assert re.fullmatch(
        rf"stopped by SIGTERM: kept the checkpoint of step \d+ in {re.escape(str(out))}; run the same command "
        "with --resume to continue",
        _last_line(output),
    ), output
    assert not (out / files.REPORT).exists() and not (out / "checkpoint.new").exists()
    assert not (out / ".kept.new").exists()
    _finish(*flags, "--out", out, "--resume", cwd=tmp_path)
    _finish(*flags, "--out", tmp_path / "straight", cwd=tmp_path)
    _same_run(out, tmp_path / "straight")


def test_finetune_and_general_distillation_stopped_by_sigint_end_in_one_line(tmp_path, tokenizer):
    from transformers import BertModel

    data = copy_glue_rows(tmp_path / "glue" / "SST-2", "SST-2", {"train.tsv": 96, "dev.tsv": 16})
    encoder = save_tiny_bert(tmp_path / "encoder", tokenizer, BertModel, num_hidden_layers=4)
    finetune = ["finetune", "--quiet", "--task", "SST-2", "--data-dir", data.parent, "--model", encoder]
    finetune += ["--batch-size", 4, "--max-steps", 60, "--eval-steps", 5, "--out", tmp_path / "teacher"]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(line.split("\t")[0] for line in (data / "train.tsv").read_text().splitlines()[1:]))
    general = ["distill", "--general", "--quiet", "--teacher", encoder, "--corpus", corpus, "--student", "2L-32"]
    general += ["--batch-size", 4, "--max-steps", 60, "--eval-steps", 5, "--out", tmp_path / "general"]
    for flags, out, report in (
        (finetune, tmp_path / "teacher", files.REPORT),
        (general, tmp_path / "general", files.GENERAL_REPORT),
    ):
        state = out / "checkpoint" / files.CHECKPOINT_STATE
        output = _signal_when(_start(*flags, cwd=tmp_path), state.is_file, signal.SIGINT)
        line = _last_line(output)  # kept the checkpoint of step N (in training) or the trained checkpoints (after)
        assert line.startswith("stopped by SIGINT: kept the ") and line.endswith("--resume to continue"), output
        assert not (out / report).exists()
        _finish(*flags, "--resume", cwd=tmp_path)
        assert json.loads((out / "checkpoint" / files.CHECKPOINT_STATE).read_text())["step"] == 60


def test_predict_stopped_by_sigterm_leaves_no_output(tmp_path, tokenizer):
    teacher = save_tiny_bert(tmp_path / "model", tokenizer, BertForSequenceClassification)
    table = tmp_path / "pairs.tsv"
    header, *rows = (GLUE / "MRPC" / "train.tsv").read_bytes().splitlines(keepends=True)
    # three 4,096-row chunks: the first is on disk while the second is predicted (one chunk would reach
    # the disk only as it is renamed, a window the poll can miss)
    table.write_bytes(header + b"".join(rows * 3))
    temporary = tmp_path / ".pairs_pred.tsv.tmp"
    flags = ["predict", "--model", teacher, "--input", table, "--text-col", "#1 String", "--text-col", "#2 String"]
    output = _signal_when(
        _start(*flags, "--batch-size", 1, cwd=tmp_path),
        lambda: temporary.is_file() and temporary.stat().st_size > 0,
        signal.SIGTERM,
    )
    assert _last_line(output) == "stopped by SIGTERM: nothing was half-written; run the same command again", output
    assert not (tmp_path / "pairs_pred.tsv").exists() and not temporary.exists()


def test_a_full_disk_while_augmenting_keeps_the_finished_shards_for_resume(tmp_path):
    """A real write against a real limit: the process may write no file over 20 kB, so its small shards
    are written and the assembled output is not."""
    data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 64})
    flags = ["augment", "--quiet", "--data-dir", data.parent, "--mlm", DEMO_MLM, "--glove", VECTORS, "--n", 2]
    flags += ["--shard-rows", 8]
    limit = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))"
    process = _start(*flags, cwd=tmp_path, prelude=limit)
    output = process.communicate(timeout=300)[0].decode()
    assert process.returncode == 2 and "Traceback" not in output, output
    assert (
        f"error: file too large for the file-size limit while writing {data / 'train_aug.tsv'} (the output, "
        f"assembled from its finished shards); kept 8 finished shards in {data / '.train_aug.tsv.parts'}; run the "
        "same command with --resume to continue, once space is freed"
    ) in output
    assert not (data / "train_aug.tsv").exists() and not (data / ".train_aug.tsv.tmp").exists()
    resumed = _finish(*flags, "--resume", cwd=tmp_path)
    assert "resumed: reused 8 of 8 finished shards" in resumed.stderr
    full = (data / "train_aug.tsv").read_bytes()
    _finish(*flags, "--overwrite", cwd=tmp_path)
    assert full == (data / "train_aug.tsv").read_bytes()


def test_a_full_disk_while_distilling_keeps_the_last_checkpoint_for_resume(tmp_path, tokenizer):
    """After the first checkpoint the process may write no file over 6 MB: the next checkpoint's optimizer
    state (8 MB) fails for real; the run says so, keeps the first, and --resume ends as an uninterrupted run."""
    flags = _distill_flags(tmp_path, tokenizer)
    prelude = """
import resource
import distill.training.checkpoint as checkpoint
real = checkpoint.save
def save(*args, **kwargs):
    real(*args, **kwargs)
    resource.setrlimit(resource.RLIMIT_FSIZE, (6_000_000, resource.RLIM_INFINITY))
checkpoint.save = save
"""
    out = tmp_path / "full"
    process = _start(*flags, "--out", out, cwd=tmp_path, prelude=prelude)
    output = process.communicate(timeout=300)[0].decode()
    assert process.returncode == 2 and "Traceback" not in output, output
    assert re.search(
        rf"error: file too large for the file-size limit while writing {re.escape(str(out))}\S* \(the (kept model|"
        rf"training checkpoint)\); kept the checkpoint of step 10 in {re.escape(str(out))}; run the same command "
        "with --resume to continue, once space is freed",
        output,
    ), output
    assert not (out / "checkpoint.new").exists() and not (out / ".kept.new").exists()
    AutoModelForSequenceClassification.from_pretrained(out)  # the model in the folder is whole
    _finish(*flags, "--out", out, "--resume", cwd=tmp_path)
    _finish(*flags, "--out", tmp_path / "straight", cwd=tmp_path)
    _same_run(out, tmp_path / "straight")


def test_augment_workers_leave_ctrl_c_to_the_parent():
    """Ctrl-C reaches every process of the group; a worker that raised KeyboardInterrupt wherever it was
    (loky's memory check after its first task, once) printed a traceback beside the parent's one line."""
    from joblib import Parallel, delayed

    from augment.runner import _backend

    # a process started in the background by a non-interactive shell (a CI script's `cmd &`) inherits SIGINT
    # ignored, which would make both checks below prove nothing: the parent answers Ctrl-C, as a terminal's does
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with _backend(None, 2) as (n_jobs, _):
            dispositions = Parallel(n_jobs=n_jobs)(delayed(signal.getsignal)(signal.SIGINT) for _ in range(4))
        assert dispositions == [signal.SIG_IGN] * 4
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the parent still answers it
    finally:
        signal.signal(signal.SIGINT, inherited)
