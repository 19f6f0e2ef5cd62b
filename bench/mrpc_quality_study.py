"""The MRPC quality study's runs of the library, each a folder in the work folder, reused once finished: the
teacher (chosen among learning rates on the held-out slice), the augmented sets, each row's model (gold labels
alone, or distilled), the general-distillation student one row starts from, and models as shipped (ONNX
int8). bench/mrpc_quality.py runs them in order; bench/mrpc_quality_report.py renders what finished."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from augment import AugmentConfig, augment_file
from bench.mrpc_quality_recipes import ALONE_LR, EVAL_STEPS, GD_STEPS, TEACHER_EPOCHS, TEACHER_LRS, Recipe
from data import SHARED_DIR, format_for, read_table
from distill import (
    TrainSettings,
    base_encoder,
    build_student,
    distill,
    export_model,
    finetune,
    general_distill,
    glue_task_data,
    load_teacher,
    load_tokenizer,
    max_length_for,
)
from distill.runs import FinishedRun, read_json


class Study:
    """The study in `work`; `time_left()` says whether a new run may start; `augmented`: an augmented MRPC
    training file to use instead of making one."""

    def __init__(self, work: Path, time_left: Callable[[], bool], augmented: str | Path | None = None):
        self.work, self.time_left, self.augmented = work, time_left, augmented
        self.work.mkdir(parents=True, exist_ok=True)
        self.plain = glue_task_data("MRPC")
        self.base = TrainSettings(batch_size=32, eval_steps=EVAL_STEPS, select="holdout", holdout=0.1)
        self.seconds = read_json(self.work / "seconds.json")

    def run_path(self, name: str, seed: int) -> Path:
        return self.work / f"{name}-{seed}"

    def teacher(self) -> Path | None:
        """The learning rate whose best checkpoint on the held-out slice scores highest (None until each has
        run)."""
        encoder = base_encoder()
        for lr in TEACHER_LRS:
            run = self.work / f"teacher-lr{lr:g}"
            if not FinishedRun(run).finished and self.time_left():
                settings = replace(self.base, epochs=TEACHER_EPOCHS, lr=lr, seed=42)
                self.timed(run, lambda: finetune(self.plain, encoder, run, settings))
        done = [self.work / f"teacher-lr{lr:g}" for lr in TEACHER_LRS]
        if not all(FinishedRun(run).finished for run in done):
            return None
        return max(done, key=lambda run: FinishedRun(run).held_out()["accuracy"])

    def data(self, name: str):
        """A row's training data: "plain", "aug" (the demo masked-LM's augmentation) or "aug_glove" (GloVe
        neighbours for every word), each augmented set made once."""
        if name == "plain":
            return self.plain
        if name == "aug":
            path = Path(self.augmented or self.work / "train_aug.tsv")
            config = AugmentConfig(n=20)
        else:
            path, config = self.work / "train_aug_glove.tsv", AugmentConfig.of(n=20, mlm=None)
        if not path.is_file():
            t0 = time.perf_counter()
            columns = list(self.plain.spec.text_columns)
            fmt = format_for(self.plain.train_path)
            augment_file(self.plain.train_path, path, columns, config, fmt=fmt, label_column="Quality")
            self.seconds[f"augment {name}"] = time.perf_counter() - t0
        return replace(self.plain, train_path=path)

    def make(self, name: str, recipe: Recipe, seed: int, teacher: Path) -> None:
        """This row's run at this seed: a student on gold labels alone, or distilled from `teacher`, at the
        recipe's budget (in examples, or epochs)."""
        run = self.run_path(name, seed)
        data, settings = self.data(recipe.data), replace(self.base, seed=seed)
        rows = len(read_table(data.train_path))
        if recipe.alone:
            shape, init = recipe.alone
            epochs = recipe.epochs or sum(recipe.examples) / rows
            lr = ALONE_LR if init == "teacher-pruned" else 5e-5
            self.timed(run, lambda: _alone(data, teacher, shape, init, run, replace(settings, epochs=epochs, lr=lr)))
            return
        method = recipe.method
        if method.student == "general":
            method = replace(method, student=str(self.general()))
        if recipe.epochs:
            settings = replace(settings, epochs=recipe.epochs)
        else:
            stage_one, stage_two = recipe.stage_epochs or (examples / rows for examples in recipe.examples)
            method = replace(method, options={**method.options, "intermediate_epochs": stage_one})
            settings = replace(settings, epochs=stage_two)
        self.timed(run, lambda: distill(data, teacher, run, settings, method))

    def general(self) -> Path:
        """The general-distillation student (4L-312) a row's TinyBERT starts from, made once."""
        general = self.work / "general"
        if not FinishedRun(general).general_finished:
            t0 = time.perf_counter()
            settings = replace(self.base, max_steps=GD_STEPS, eval_steps=None, lr=1e-4, select="last")
            general_distill(base_encoder(), gd_corpus(self.work / "gd_corpus.txt"), general, settings, student="4L-312")
            self.seconds["general distillation"] = time.perf_counter() - t0
        return general

    def timed(self, run: Path, make) -> None:
        started = time.perf_counter()
        make()
        self.seconds[run.name] = time.perf_counter() - started
        (self.work / "seconds.json").write_text(json.dumps(self.seconds, indent=1))

    def shipped(self, run: Path) -> Path:
        """The run's model as `cli.py export` ships it (ONNX int8), checked and scored on dev by the export."""
        folder = run.parent / f"{run.name}-int8"
        if not FinishedRun(folder).exported:
            dev_set = self.plain.encode(self.plain.dev_paths[0], load_tokenizer(run), max_length_for(self.plain, None))
            export_model(run, dev_set, self.plain.spec.metrics, folder)
        return folder


def gd_corpus(path: Path) -> Path:
    """Plain in-domain English for a short general distillation: the sentences of MRPC train (no
    labels), STS-B train and SST-2 train, one per line; no dev sentence."""
    if not path.is_file():
        glue = SHARED_DIR / "data" / "glue"
        lines = []
        for task, columns in (
            ("MRPC", ["#1 String", "#2 String"]),
            ("STS-B", ["sentence1", "sentence2"]),
            ("SST-2", ["sentence"]),
        ):
            frame = read_table(glue / task / "train.tsv")
            lines += [text.strip() for column in columns for text in frame[column].astype(str)]
        path.write_text("\n".join(line for line in lines if line) + "\n")
    return path


def _alone(task, teacher: Path, shape: str, init: str, run: Path, settings: TrainSettings) -> None:
    """A student of this shape and initialisation, fine-tuned on gold labels alone."""
    import torch

    torch.manual_seed(settings.seed)
    start = run / "initial"
    tokenizer = load_tokenizer(teacher)
    examples = task.encode(task.train_path, tokenizer, 128)
    build_student(shape, load_teacher(teacher, task.scheme), task.scheme, init, calibration=examples).save_pretrained(
        start
    )
    tokenizer.save_pretrained(start)
    finetune(task, start, run, settings)
