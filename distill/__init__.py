"""Task distillation: fine-tune a teacher, distil it into a small student (TinyBERT, DistilBERT,
Patient KD), evaluate. Losses are pure functions, layer maps are data, objectives compose them."""
from . import layer_maps, losses
from .pipeline import DistillSettings, distill, evaluate_model, finetune
from .students import alternate_layers, copy_teacher_layers, lowest_layers, parse_shape, student_config
from .task_data import TaskData, custom_task_data, glue_task_data
from .trainer import TrainSettings, train

__all__ = ["layer_maps", "losses", "DistillSettings", "distill", "evaluate_model", "finetune", "alternate_layers",
           "copy_teacher_layers", "lowest_layers", "parse_shape", "student_config", "TaskData", "custom_task_data",
           "glue_task_data", "TrainSettings", "train"]
