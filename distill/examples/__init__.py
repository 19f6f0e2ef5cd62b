"""What a run trains, scores and chooses on: a task's tables as tokenised examples with label ids, a
plain-text corpus, the held-out slice, the teacher's checks on the examples (is it worth distilling,
which augmented copies it disowns, the class weights that undo augmentation's drift), and a model's
predictions and metrics over examples."""

from .class_balance import WEIGHT_RANGE, class_weights
from .corpus import Corpus, load_corpus
from .encoding import LabelledExamples, LabelScheme, default_max_length, encode_frame, model_inputs
from .holdout import HOLDOUT_SEED, split_for_selection
from .predictions import EVAL_BATCH_SIZE, evaluate, predict, score, teacher_logits
from .task_data import DataFlags, TaskData, custom_task_data, glue_task_data, max_length_for, task_data_for
from .teacher_check import TeacherCheck, check_teacher
from .teacher_filter import teacher_agreeing_rows

__all__ = [
    "WEIGHT_RANGE",
    "class_weights",
    "Corpus",
    "load_corpus",
    "LabelScheme",
    "LabelledExamples",
    "default_max_length",
    "encode_frame",
    "model_inputs",
    "HOLDOUT_SEED",
    "split_for_selection",
    "EVAL_BATCH_SIZE",
    "evaluate",
    "predict",
    "score",
    "teacher_logits",
    "DataFlags",
    "TaskData",
    "custom_task_data",
    "glue_task_data",
    "max_length_for",
    "task_data_for",
    "TeacherCheck",
    "check_teacher",
    "teacher_agreeing_rows",
]
