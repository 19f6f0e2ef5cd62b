"""Distillation: fine-tune a teacher, distil it into a small student (TinyBERT, DistilBERT, Patient
KD, or a method registered in `methods`), general distillation on plain text, evaluate; export to
ONNX and predict on a user's table. Losses are pure functions, layer maps are data, methods compose
them into objectives; each run follows one resolved plan; one training loop runs them all."""

from . import layer_maps, losses, methods, objectives
from .corpus import load_corpus
from .evaluation import EVAL_BATCH_SIZE, cpu_speed, evaluate, predict, score, weights_mb
from .export import QUANTIZATIONS, describe_export, export_for_task, export_model
from .finetuning import TeacherFallback, ensure_teacher, finetune
from .frontier import frontier
from .general_distillation import general_distill
from .holdout import HOLDOUT_SEED, split_for_selection
from .model_evaluation import evaluate_model
from .models import (
    base_encoder,
    build_student,
    load_classifier,
    load_encoder_for_task,
    load_teacher,
    load_tokenizer,
)
from .plan import DistillPlan, DistillSettings, plan_distillation
from .prediction import predict_table
from .task_data import DataFlags, TaskData, custom_task_data, glue_task_data, max_length_for, task_data_for
from .task_distillation import distill
from .trainer import SELECTIONS, TrainCallback, TrainSettings, train

__all__ = [
    "layer_maps",
    "losses",
    "methods",
    "objectives",
    "load_corpus",
    "EVAL_BATCH_SIZE",
    "cpu_speed",
    "evaluate",
    "predict",
    "score",
    "weights_mb",
    "QUANTIZATIONS",
    "describe_export",
    "export_for_task",
    "export_model",
    "TeacherFallback",
    "ensure_teacher",
    "finetune",
    "frontier",
    "general_distill",
    "HOLDOUT_SEED",
    "split_for_selection",
    "evaluate_model",
    "base_encoder",
    "build_student",
    "load_classifier",
    "load_encoder_for_task",
    "load_teacher",
    "load_tokenizer",
    "DistillPlan",
    "DistillSettings",
    "plan_distillation",
    "predict_table",
    "DataFlags",
    "TaskData",
    "custom_task_data",
    "glue_task_data",
    "max_length_for",
    "task_data_for",
    "distill",
    "SELECTIONS",
    "TrainCallback",
    "TrainSettings",
    "train",
]
