"""One training loop for fine-tuning and every distillation objective, and what it runs on: batches
in a seeded order, checkpoints a stopped run resumes from, forward passes with the teacher's outputs
cached, and the clock that says how long a run takes before its first step."""

from .clock import RunClock, StageBudget, measure_stage
from .loop import TrainCallback, TrainResult, train

__all__ = ["RunClock", "StageBudget", "measure_stage", "TrainCallback", "TrainResult", "train"]
