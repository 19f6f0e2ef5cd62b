"""The three things users run: fine-tune a teacher, distil a student, evaluate a model. Each is one
function that the CLI calls; each writes a self-describing run folder."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from accelerate import PartialState
from accelerate.utils import set_seed

from data import InputError

from . import layer_maps
from .corpus import load_corpus
from .evaluation import cpu_speed, evaluate
from .models import (build_student, check_same_tokenizer, load_encoder, load_encoder_for_task, load_teacher,
                     load_tokenizer)
from .objectives import DistilBert, PatientKD, TaskOnly, TinyBertIntermediate, TinyBertPrediction
from .report import write_report
from .students import parse_shape
from .taps import AttentionScores
from .task_data import TaskData
from .trainer import TrainSettings, train


@dataclass(frozen=True)
class DistillSettings:
    """Method choices; None means the method's published default (see `defaults`)."""

    method: str = "tinybert"  # tinybert | distilbert | pkd
    stage: str = "both"  # TinyBERT: intermediate | prediction | both
    student: str = "auto"  # a shape such as 4L-312, "auto" (half the teacher's layers), or a folder
    layer_map: str | None = None  # explicit "3,6,9,12"; default uniform (TinyBERT) / skip-or-last (PKD)
    temperature: float | None = None
    alpha_ce: float = 0.5  # DistilBERT
    alpha_task: float = 0.5
    alpha_cos: float = 1.0
    init: str | None = None  # shape-built students; None: teacher-pruned (TinyBERT), -alternate (DistilBERT), -lowest (PKD)
    pkd_strategy: str = "skip"  # PKD: skip | last
    pkd_alpha: float = 0.5
    pkd_beta: float = 100.0
    intermediate_epochs: float = 10.0  # TinyBERT stage 1 (published: 10 epochs on augmented data)
    intermediate_lr: float = 5e-5


TEMPERATURES = {"tinybert": 1.0, "distilbert": 2.0, "pkd": 10.0}
PREDICTION_LR, PREDICTION_EPOCHS = 3e-5, 3.0  # TinyBERT stage 2, as published


def _with_defaults(settings: TrainSettings, epochs: float, lr: float) -> TrainSettings:
    """The user's --epochs/--lr where given, else this stage's published defaults."""
    return replace(settings, epochs=epochs if settings.epochs is None else settings.epochs,
                   lr=lr if settings.lr is None else settings.lr)


def max_length_for(task: TaskData, max_length: int | None) -> int:
    """Published defaults: 128 word pieces for sentence pairs, 64 for single sentences."""
    return max_length or (128 if task.is_pair else 64)


def finetune(task: TaskData, model_path: str | Path, out: str | Path, settings: TrainSettings,
             max_length: int | None = None, resume: bool = False, progress: bool = True) -> dict:
    """Fine-tune a pretrained encoder on the task (this makes the teacher); returns dev metrics."""
    set_seed(settings.seed)  # the new task head's initial weights follow --seed
    tokenizer = load_tokenizer(model_path)
    model = load_encoder_for_task(model_path, task.scheme)
    length = max_length_for(task, max_length)
    train_set, dev_set = task.encode(task.train_path, tokenizer, length), task.encode(task.dev_paths[0], tokenizer, length)
    train(model, TaskOnly(), train_set, dev_set, task.metrics, out, settings, tokenizer=tokenizer, resume=resume,
          progress=progress, description=f"finetune {task.name}")
    return _final_report(task, Path(out), tokenizer, length, teacher_path=None, train_examples=len(train_set))


def distill(task: TaskData, teacher_path: str | Path, out: str | Path, settings: TrainSettings,
            method: DistillSettings = DistillSettings(), max_length: int | None = None, resume: bool = False,
            progress: bool = True) -> dict:
    """Distil the teacher into a student with the chosen method; returns the report."""
    if method.method not in TEMPERATURES:
        raise InputError(f"--method must be one of {', '.join(TEMPERATURES)}, got {method.method!r}")
    out = Path(out)
    set_seed(settings.seed)  # student, task head and projections are initialised under --seed
    tokenizer = load_tokenizer(teacher_path, "--teacher")
    teacher = load_teacher(teacher_path, task.scheme)
    check_same_tokenizer(tokenizer, method.student)
    length = max_length_for(task, max_length)
    train_set, dev_set = task.encode(task.train_path, tokenizer, length), task.encode(task.dev_paths[0], tokenizer, length)
    init = method.init or _default_init(method, teacher)
    student = build_student(method.student, teacher, task.scheme, init, calibration=train_set,
                            teacher_layers=_imitated_layers(method, teacher) if init == "teacher-pruned" else None)
    temperature = method.temperature or TEMPERATURES[method.method]
    n_student, n_teacher = student.config.num_hidden_layers, teacher.config.num_hidden_layers
    chosen_map = (layer_maps.explicit(method.layer_map, n_student, n_teacher) if method.layer_map else None)
    common = dict(teacher=teacher, tokenizer=tokenizer, resume=resume, progress=progress)

    if method.method == "tinybert":
        if method.stage not in ("intermediate", "prediction", "both"):
            raise InputError(f"--stage must be intermediate, prediction or both, got {method.stage!r}")
        if method.stage in ("intermediate", "both"):
            objective = TinyBertIntermediate(chosen_map or layer_maps.uniform(n_student, n_teacher),
                                             student.config.hidden_size, teacher.config.hidden_size,
                                             getattr(student.config, "pruned_hidden_channels", None))
            stage_settings = _with_defaults(settings if method.stage == "intermediate" else
                                            replace(settings, epochs=None, lr=None),
                                            method.intermediate_epochs, method.intermediate_lr)
            stage_out = out / "intermediate" if method.stage == "both" else out
            train(student, objective, train_set, None, task.metrics, stage_out, stage_settings,
                  description="tinybert stage 1 (intermediate layers)", **common)
        if method.stage in ("prediction", "both"):
            train(student, TinyBertPrediction(temperature), train_set, dev_set, task.metrics, out,
                  _with_defaults(settings, PREDICTION_EPOCHS, PREDICTION_LR),
                  description="tinybert stage 2 (prediction)", **common)
    elif method.method == "distilbert":
        if method.layer_map:
            raise InputError("--layer-map does not apply to --method distilbert (its cosine loss reads the "
                             "last hidden states only)")
        _same_width(student, teacher, "distilbert")
        train(student, DistilBert(method.alpha_ce, method.alpha_task, method.alpha_cos, temperature), train_set,
              dev_set, task.metrics, out, settings, description="distilbert", **common)
    else:
        _same_width(student, teacher, "pkd")
        if method.pkd_strategy not in ("skip", "last"):
            raise InputError(f"--pkd-strategy must be skip or last, got {method.pkd_strategy!r}")
        if n_student < 2 and not chosen_map:
            raise InputError("--method pkd needs a student of at least 2 layers: its patient loss matches "
                             "student layers 1..M-1 (the top one is left to the KD loss)")
        pkd_map = chosen_map or layer_maps.MAPS[method.pkd_strategy](n_student, n_teacher)
        train(student, PatientKD(pkd_map, method.pkd_alpha, method.pkd_beta, temperature), train_set, dev_set,
              task.metrics, out, settings, description=f"pkd-{method.pkd_strategy}", **common)
    if PartialState().is_main_process:
        (out / "distill_settings.json").write_text(json.dumps(asdict(method), indent=2))
    return _final_report(task, out, tokenizer, length, teacher_path=teacher_path, train_examples=len(train_set))


def general_distill(teacher_path: str | Path, corpus_path: str | Path, out: str | Path, settings: TrainSettings,
                    student: str = "4L-312", layer_map: str | None = None, max_length: int = 128,
                    resume: bool = False, progress: bool = True, init: str = "teacher-pruned") -> dict:
    """TinyBERT general distillation: the intermediate-layer objective on plain text, from a pretrained
    (not fine-tuned) encoder. The student is saved as an encoder folder that `distill --student` takes.
    By default it starts as the teacher pruned to the student's shape (measured on corpus lines)."""
    set_seed(settings.seed)
    tokenizer = load_tokenizer(teacher_path, "--teacher")
    teacher = load_encoder(teacher_path)
    AttentionScores(teacher)  # refuses encoders whose attention scores cannot be tapped
    check_same_tokenizer(tokenizer, student)
    with PartialState().main_process_first():  # one process tokenises; the others read its cache
        corpus = load_corpus(corpus_path, tokenizer, max_length)
    imitated = _imitated_layers(DistillSettings(student=student, layer_map=layer_map), teacher)
    model = build_student(student, teacher, None, init, calibration=corpus,
                          teacher_layers=imitated if init == "teacher-pruned" else None)
    n_student, n_teacher = model.config.num_hidden_layers, teacher.config.num_hidden_layers
    chosen = layer_maps.explicit(layer_map, n_student, n_teacher) if layer_map else layer_maps.uniform(n_student, n_teacher)
    objective = TinyBertIntermediate(chosen, model.config.hidden_size, teacher.config.hidden_size,
                                     getattr(model.config, "pruned_hidden_channels", None))
    result = train(model, objective, corpus, None, (), out, settings, teacher=teacher, tokenizer=tokenizer,
                   resume=resume, progress=progress, description="general distillation")
    losses = [json.loads(line)["loss"] for line in (Path(out) / "metrics.jsonl").open() if line.strip()]
    summary = {"corpus_lines": len(corpus), "steps": result.steps, "student_parameters": model.num_parameters(),
               "teacher_parameters": teacher.num_parameters(), "first_loss": losses[0] if losses else None,
               "last_loss": losses[-1] if losses else None}
    if not PartialState().is_main_process:
        return {}
    (Path(out) / "general_report.json").write_text(json.dumps(summary, indent=2))
    return summary


def _default_init(method: DistillSettings, teacher) -> str:
    """DistilBERT and PKD as published; TinyBERT from the pruned teacher unless the student is wider."""
    if method.method != "tinybert":
        return {"distilbert": "teacher-alternate", "pkd": "teacher-lowest"}[method.method]
    shape = parse_shape(method.student)
    return "random" if shape and shape[1] > teacher.config.hidden_size else "teacher-pruned"


def _imitated_layers(method: DistillSettings, teacher) -> list[int] | None:
    """The teacher layers (0-based) that a TinyBERT student's layers will imitate under its layer map:
    a pruned student starts from exactly those (half the initial attention loss of evenly spaced ones)."""
    n_teacher = teacher.config.num_hidden_layers
    shape = (max(1, n_teacher // 2), None) if method.student == "auto" else parse_shape(method.student)
    if method.method != "tinybert" or shape is None:
        return None
    chosen = (layer_maps.explicit(method.layer_map, shape[0], n_teacher) if method.layer_map
              else layer_maps.uniform(shape[0], n_teacher))
    return [t - 1 for _, t in chosen]


def _same_width(student, teacher, method: str) -> None:
    if student.config.hidden_size != teacher.config.hidden_size:
        raise InputError(f"--method {method} compares student and teacher states directly, so the student needs "
                         f"the teacher's width {teacher.config.hidden_size} (got {student.config.hidden_size}); "
                         f"use e.g. --student {max(1, teacher.config.num_hidden_layers // 2)}L-"
                         f"{teacher.config.hidden_size}, or --method tinybert for a narrower student")


def evaluate_model(task: TaskData, model_path: str | Path, max_length: int | None = None,
                   batch_size: int = 64, device: str = "cpu") -> dict:
    """Dev metrics on every dev file, parameters, disk size and CPU speed of a saved model."""
    tokenizer = load_tokenizer(model_path)
    model = load_teacher(model_path, task.scheme)
    length = max_length_for(task, max_length)
    result = {"model": str(model_path), "parameters": model.num_parameters(),
              "disk_mb": sum(f.stat().st_size for f in Path(model_path).glob("*.safetensors")) / 2**20}
    for path in task.dev_paths:
        dev = task.encode(path, tokenizer, length)
        result[path.stem] = evaluate(model.to(device), dev, task.metrics, batch_size, device)
    result["cpu"] = cpu_speed(model, dev)
    return result


def _final_report(task: TaskData, out: Path, tokenizer, length: int, teacher_path, train_examples: int) -> dict:
    """Evaluate and write the report (main process only: one set of files, undisturbed timings); it
    names the data the model was trained on."""
    if not PartialState().is_main_process:
        return {}
    models = {"student" if teacher_path else "model": evaluate_model(task, out, length)}
    if teacher_path:
        models["teacher"] = evaluate_model(task, teacher_path, length)
    data = {"train": str(task.train_path), "train_examples": train_examples,
            "dev": [str(path) for path in task.dev_paths]}
    return write_report(out, task.name, task.metrics, models, data)
