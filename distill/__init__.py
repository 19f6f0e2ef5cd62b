"""Distillation: fine-tune a teacher, distil it into a small student (TinyBERT, DistilBERT, Patient
KD), general distillation on plain text, evaluate; export to ONNX and predict on a user's table.
Losses are pure functions, layer maps are data, objectives compose them; one training loop runs them
all."""

from . import layer_maps, losses, objectives
from .corpus import load_corpus
from .evaluation import cpu_speed, evaluate, predict, score
from .export import QUANTIZATIONS, export_model
from .frontier import frontier
from .models import (
    base_encoder,
    build_student,
    load_classifier,
    load_encoder_for_task,
    load_teacher,
    load_tokenizer,
)
from .pipeline import (
    HOLDOUT_SEED,
    METHOD_OPTIONS,
    DistillSettings,
    default_init,
    distill,
    ensure_teacher,
    evaluate_model,
    finetune,
    general_distill,
    max_length_for,
    weights_mb,
)
from .prediction import predict_table
from .task_data import TaskData, custom_task_data, glue_task_data, task_data_for
from .trainer import SELECTIONS, TrainSettings, train

__all__ = [
    "layer_maps",
    "losses",
    "objectives",
    "load_corpus",
    "cpu_speed",
    "evaluate",
    "predict",
    "score",
    "load_classifier",
    "weights_mb",
    "QUANTIZATIONS",
    "export_model",
    "frontier",
    "predict_table",
    "max_length_for",
    "base_encoder",
    "build_student",
    "load_encoder_for_task",
    "load_teacher",
    "load_tokenizer",
    "HOLDOUT_SEED",
    "METHOD_OPTIONS",
    "DistillSettings",
    "default_init",
    "distill",
    "ensure_teacher",
    "evaluate_model",
    "finetune",
    "general_distill",
    "TaskData",
    "custom_task_data",
    "glue_task_data",
    "task_data_for",
    "SELECTIONS",
    "TrainSettings",
    "train",
]
