"""Shipping a classifier: ONNX export (int8 through ONNX Runtime), `evaluate` (dev metrics, size,
CPU speed, every runtime and precision), `predict` over a user's table, and `--speedup`, the student
shape timed to run a given number of times faster than the teacher."""

from .evaluation import evaluate_model
from .export import QUANTIZATIONS, describe_export, export_for_task, export_model
from .prediction import predict_table
from .runtimes import frontier
from .speed import cpu_speed, weights_mb
from .speedup import SpeedChoice, shape_for_speedup

__all__ = [
    "evaluate_model",
    "QUANTIZATIONS",
    "describe_export",
    "export_for_task",
    "export_model",
    "predict_table",
    "frontier",
    "cpu_speed",
    "weights_mb",
    "SpeedChoice",
    "shape_for_speedup",
]
