"""Distillation: fine-tune a teacher, distil it into a small student (TinyBERT, DistilBERT, Patient
KD), general distillation on plain text, evaluate. Losses are pure functions, layer maps are data, objectives compose them."""
from . import layer_maps, losses
from .corpus import load_corpus
from .pipeline import DistillSettings, distill, evaluate_model, finetune, general_distill
from .students import alternate_layers, copy_teacher_layers, lowest_layers, parse_shape, student_config
from .task_data import TaskData, custom_task_data, glue_task_data
from .trainer import TrainSettings, train

__all__ = ["layer_maps", "losses", "DistillSettings", "distill", "evaluate_model", "finetune", "general_distill", "load_corpus", "alternate_layers",
           "copy_teacher_layers", "lowest_layers", "parse_shape", "student_config", "TaskData", "custom_task_data",
           "glue_task_data", "TrainSettings", "train"]
