"""What the MRPC quality study compares (bench/mrpc_quality.py runs it): its budgets and seeds, each row's
recipe (`Recipe`, `RECIPES`, in the order they run), the claimed orders compared seed by seed, and how a
row's recipe and the teacher's choice are described in the results."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from distill import DistillSettings
from distill.runs import FinishedRun

EVAL_STEPS = 40
CLAIM_SEEDS = (42, 43, 44)
TEACHER_LRS = (3e-5, 5e-5, 1e-4)
TEACHER_EPOCHS = 5.0  # the best checkpoint on the held-out slice is kept, so more epochs cost time, not quality
# The compute-matched budget, in training examples (the demo's): TinyBERT stage 1 and stage 2 see
# 23,074 and 11,537 examples, with or without augmentation (6.3 and 3.1 epochs of the plain rows).
INTERMEDIATE_EXAMPLES, PREDICTION_EXAMPLES = 23_074, 11_537
ALONE_LR = 1e-4  # gold labels alone, a pruned student: a higher rate than fine-tuning a full model
GD_STEPS = 1000  # a short general distillation: 32,000 sentences of MRPC+STS-B+SST-2 train text


@dataclass(frozen=True)
class Recipe:
    """One row's way of making a model: gold labels alone (`alone`: shape and init) or a distillation
    `method`, on `data` (plain, aug = the demo masked-LM's augmentation, aug_glove = GloVe neighbours
    for every word), with a budget in examples; `seeds` runs of it."""

    data: str = "plain"
    method: DistillSettings | None = None
    alone: tuple[str, str] | None = None
    examples: tuple[int, int] = (INTERMEDIATE_EXAMPLES, PREDICTION_EXAMPLES)
    epochs: float | None = None  # instead of `examples` (DistilBERT, PKD: their published 3 epochs)
    stage_epochs: tuple[float, float] | None = None  # instead of `examples`: TinyBERT's stages 1 and 2, in epochs
    seeds: tuple[int, ...] = (42,)
    claim: str = ""


def tinybert(student: str, **more) -> DistillSettings:
    return DistillSettings(method="tinybert", student=student, **more)


RECIPES = {  # in the order they run: the rows that decide the others first
    "student_alone": Recipe(alone=("4L-312", "teacher-pruned"), seeds=CLAIM_SEEDS, claim="alone"),
    "tinybert_noaug": Recipe(method=tinybert("4L-312"), seeds=CLAIM_SEEDS, claim="KD without augmentation"),
    "tinybert_aug": Recipe("aug", tinybert("4L-312"), seeds=CLAIM_SEEDS, claim="KD with augmentation"),
    "tinybert_3l384_aug": Recipe("aug", tinybert("3L-384"), claim="recipe candidate"),
    "distilbert_3l384": Recipe(method=DistillSettings(method="distilbert", student="3L-384"), epochs=3.0),
    # The epoch-matched budget (the published protocol, reduced to fit): one epoch of each TinyBERT stage
    # over the row's data, so the augmented row sees about 18x the examples; alone gets the same 2 epochs.
    "student_alone_epochs": Recipe(alone=("4L-312", "teacher-pruned"), epochs=2.0, seeds=CLAIM_SEEDS, claim="alone"),
    "tinybert_noaug_epochs": Recipe(
        method=tinybert("4L-312"), stage_epochs=(1.0, 1.0), seeds=CLAIM_SEEDS, claim="KD without augmentation"
    ),
    "tinybert_aug_epochs": Recipe(
        "aug", tinybert("4L-312"), stage_epochs=(1.0, 1.0), seeds=CLAIM_SEEDS, claim="KD with augmentation"
    ),
    "tinybert_aug_filter": Recipe("aug", tinybert("4L-312", filter_teacher=True), seeds=CLAIM_SEEDS),
    "tinybert_aug_glove": Recipe("aug_glove", tinybert("4L-312")),
    "distilbert": Recipe(method=DistillSettings(method="distilbert", student="4L-384"), epochs=3.0),
    "pkd_skip": Recipe(
        method=DistillSettings(method="pkd", student="4L-384", options={"pkd_strategy": "skip"}), epochs=3.0
    ),
    "student_alone_teacher_init": Recipe(alone=("4L-384", "teacher-lowest"), epochs=3.0),
    "tinybert_gd_aug": Recipe("aug", tinybert("general")),
}


# Row pairs whose order is a claim ("KD + augmentation > KD > alone", at each budget), compared seed by seed
CLAIMED_ORDER = (
    ("tinybert_aug", "tinybert_noaug"),
    ("tinybert_noaug", "student_alone"),
    ("tinybert_aug_epochs", "tinybert_noaug_epochs"),
    ("tinybert_noaug_epochs", "student_alone_epochs"),
)


def teacher_settings(work: Path, chosen: Path) -> dict:
    """The teacher row's settings: how it was made, and the held-out score of each learning rate it was
    chosen among."""
    candidates = {f"lr {lr:g}": FinishedRun(work / f"teacher-lr{lr:g}").held_out()["accuracy"] for lr in TEACHER_LRS}
    return {
        "model": f"MiniLM-L6-H384 fine-tuned {TEACHER_EPOCHS:g} epochs, batch 32, max length 128, best checkpoint "
        "on the held-out slice",
        "chosen": chosen.name,
        "held_out_accuracy_by_lr": candidates,
    }


def recipe_settings(recipe: Recipe) -> dict:
    """A row's recipe as the results describe it: its data, method (what differs from the defaults) and
    budget, and the claim it carries."""
    described = {
        "data": {
            "plain": "train.tsv",
            "aug": "train_aug.tsv (demo masked-LM + 400k GloVe, N=20)",
            "aug_glove": "train_aug_glove.tsv (--mlm none: 400k GloVe for every word, N=20)",
        }[recipe.data]
    }
    if recipe.alone:
        described.update(student=recipe.alone[0], init=recipe.alone[1], objective="task cross-entropy")
    else:
        asked = asdict(recipe.method)
        asked.update(asked.pop("options"))
        described.update({k: v for k, v in asked.items() if v not in (None, False, "auto") and k != "layer_map"})
    if recipe.epochs:
        described["epochs"] = recipe.epochs
    elif recipe.alone:
        described["examples"] = {"one stage": sum(recipe.examples)}
    elif recipe.stage_epochs:
        described["epochs"] = {"stage 1": recipe.stage_epochs[0], "stage 2": recipe.stage_epochs[1]}
    else:
        described["examples"] = {"stage 1": recipe.examples[0], "stage 2": recipe.examples[1]}
    if recipe.claim:
        described["claim"] = recipe.claim
    return described
