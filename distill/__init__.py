"""Distillation: fine-tune a teacher, distil it into a small student (TinyBERT, DistilBERT, Patient
KD, MiniLM, or a method plug-in), general distillation on plain text, evaluate; export to ONNX and
predict on a user's table.

The rooms, each with its own public face:
    settings   every settings dataclass a run is asked with
    jobs       finetune / distill / general_distill, each one use of the run template; the plan
    methods    the method plug-ins, their objectives, pure losses, layer maps and taps
    training   the one training loop, its batches, checkpoints, forward passes and clock
    examples   task data and corpora as examples, the held-out slice, the teacher's checks, predictions
    models     loading teachers, students and saved classifiers; student shapes; pruning
    shipping   export, evaluate, predict, speed, --speedup
    runs       the run folder: its files, claiming, record, report, reading a finished run
"""

from . import methods
from .examples import (
    EVAL_BATCH_SIZE,
    HOLDOUT_SEED,
    DataFlags,
    TaskData,
    custom_task_data,
    evaluate,
    glue_task_data,
    load_corpus,
    max_length_for,
    predict,
    score,
    split_for_selection,
    task_data_for,
)
from .jobs import (
    DistillPlan,
    distill,
    ensure_teacher,
    finetune,
    fit_static_baseline,
    general_distill,
    plan_distillation,
)
from .methods import layer_maps, losses, objectives
from .models import (
    base_encoder,
    build_student,
    load_classifier,
    load_encoder_for_task,
    load_teacher,
    load_tokenizer,
)
from .settings import SELECTIONS, DistillSettings, TeacherFallback, TrainSettings
from .shipping import (
    QUANTIZATIONS,
    cpu_speed,
    describe_export,
    evaluate_model,
    export_for_task,
    export_model,
    frontier,
    predict_table,
    weights_mb,
)
from .training import TrainCallback, train

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
    "fit_static_baseline",
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
