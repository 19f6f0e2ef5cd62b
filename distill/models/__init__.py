"""Models from local folders, with the checks that make mistakes clear: teachers, encoders and
tokenizers; any saved classifier (a Hugging Face folder or an exported ONNX one) behind one call;
students built to a shape ("4L-312") and started from the teacher's layers or pruned from it."""

from .loading import (
    base_encoder,
    build_student,
    check_same_tokenizer,
    classifier_config,
    load_classifier,
    load_encoder,
    load_encoder_for_task,
    load_teacher,
    load_tokenizer,
)
from .onnx_classifier import OnnxClassifier, is_exported
from .shapes import parse_shape, student_config

__all__ = [
    "base_encoder",
    "build_student",
    "check_same_tokenizer",
    "classifier_config",
    "load_classifier",
    "load_encoder",
    "load_encoder_for_task",
    "load_teacher",
    "load_tokenizer",
    "OnnxClassifier",
    "is_exported",
    "parse_shape",
    "student_config",
]
