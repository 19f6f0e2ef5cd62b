"""The things users run: fine-tune a teacher (or make sure one exists), distil a student, distil a
general student from plain text, evaluate a model. Each is one function that the CLI calls; each
writes a self-describing run folder."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from accelerate import PartialState
from accelerate.utils import set_seed

from data import InputError
from data.hardware import resolve_device, resolve_precision
from data.manifests import manifest_path
from data.paths import content_digest

from . import layer_maps
from .corpus import load_corpus
from .evaluation import EVAL_BATCH_SIZE, cpu_speed, evaluate, weights_mb
from .features import default_max_length
from .filtering import teacher_agreeing_rows
from .frontier import frontier
from .models import (
    base_encoder,
    build_student,
    check_same_tokenizer,
    load_classifier,
    load_encoder,
    load_encoder_for_task,
    load_teacher,
    load_tokenizer,
)
from .objectives import DistilBert, PatientKD, TaskOnly, TinyBertIntermediate, TinyBertPrediction
from .report import dev_metrics, write_report
from .runtime import is_exported
from .students import parse_shape, resolve_student
from .taps import AttentionScores
from .task_data import TaskData
from .trainer import LOOP_EPOCHS, LOOP_LR, SELECTIONS, TrainSettings, train

log = logging.getLogger("tinydistill")


METHOD_OPTIONS = {  # each method's own options, with their published defaults
    "tinybert": {"stage": "both", "intermediate_epochs": None, "intermediate_lr": 5e-5},
    "distilbert": {"alpha_ce": 0.5, "alpha_task": 0.5, "alpha_cos": 1.0},
    "pkd": {"pkd_strategy": "skip", "pkd_alpha": 0.5, "pkd_beta": 100.0},
}


@dataclass(frozen=True)
class DistillSettings:
    """The distillation recipe: the method and its options. None means the published default, see
    METHOD_OPTIONS; an option of another method is refused (it would silently do nothing)."""

    method: str = "tinybert"  # tinybert | distilbert | pkd
    student: str = "auto"  # a shape such as 4L-312, "auto" (see students.resolve_student), or a folder
    layer_map: str | None = None  # explicit "3,6,9,12"; default evenly spaced (TinyBERT) / skip-or-last (PKD)
    temperature: float | None = None
    init: str | None = None  # shape-built students; None: see default_init
    filter_teacher: bool = False  # drop augmented copies the teacher classes otherwise than their original
    stage: str | None = None  # TinyBERT: intermediate | prediction | both
    intermediate_epochs: float | None = None  # TinyBERT stage 1; None: 10 (published), capped by max_steps
    intermediate_lr: float | None = None
    alpha_ce: float | None = None  # DistilBERT
    alpha_task: float | None = None
    alpha_cos: float | None = None
    pkd_strategy: str | None = None  # PKD: skip | last
    pkd_alpha: float | None = None
    pkd_beta: float | None = None

    def checked(self) -> DistillSettings:
        """This recipe with its method's defaults filled in, once nothing in it would go unused."""
        if self.method not in METHOD_OPTIONS:
            raise InputError(f"--method must be one of {', '.join(METHOD_OPTIONS)}, got {self.method!r}")
        foreign = [
            name
            for method, options in METHOD_OPTIONS.items()
            if method != self.method
            for name in options
            if getattr(self, name) is not None
        ]
        if foreign:
            raise InputError(f"--method {self.method} has no use for these flags: drop {_flags(foreign)}")
        stage_one = [name for name in ("intermediate_epochs", "intermediate_lr") if getattr(self, name) is not None]
        if self.method == "tinybert" and self.stage == "prediction" and stage_one:
            raise InputError(f"--stage prediction runs no stage 1: drop {_flags(stage_one)}")
        own = METHOD_OPTIONS[self.method]
        return replace(self, **{name: default for name, default in own.items() if getattr(self, name) is None})


def _flags(names) -> str:
    return ", ".join(f"--{name.replace('_', '-')}" for name in names)


TEMPERATURES = {"tinybert": 1.0, "distilbert": 2.0, "pkd": 10.0}
UNTRAINED_HEAD = (
    "--stage intermediate trains the student's layers only: its task head is untrained, so its dev figures are "
    "not those of a finished student; run --stage prediction on it next"
)
PREDICTION_LR, PREDICTION_EPOCHS = 3e-5, 3.0  # TinyBERT stage 2, as published
INTERMEDIATE_EPOCHS = 10.0  # TinyBERT stage 1, as published (on augmented data)


def _with_defaults(settings: TrainSettings, epochs: float, lr: float) -> TrainSettings:
    """The user's --epochs/--lr where given, else this stage's published defaults."""
    return replace(
        settings,
        epochs=epochs if settings.epochs is None else settings.epochs,
        lr=lr if settings.lr is None else settings.lr,
    )


def max_length_for(task: TaskData, max_length: int | None) -> int:
    """The given length, else the published default for the task's kind of input."""
    return max_length or default_max_length(pair=task.spec.is_pair)


def finetune(
    task: TaskData,
    model_path: str | Path | None,
    out: str | Path | None,
    settings: TrainSettings,
    *,
    max_length: int | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict:
    """Fine-tune a pretrained encoder (None: the default MiniLM encoder) on the task: this makes the
    teacher, in `out` (None: runs/teacher/TASK). Returns the report."""
    model_path = model_path or base_encoder()
    out = Path(out or teacher_folder(task))
    set_seed(settings.seed)  # the new task head's initial weights follow --seed
    tokenizer = load_tokenizer(model_path)
    model = load_encoder_for_task(model_path, task.scheme)
    model.config.tinydistill_texts = len(task.spec.text_columns)  # `predict` checks the columns it is given
    length = max_length_for(task, max_length)
    train_set, holdout_set, _ = _split_for_selection(task, tokenizer, length, settings)
    dev_set = task.encode(task.dev_paths[0], tokenizer, length)
    train(
        model,
        TaskOnly(),
        train_set,
        dev_set,
        task.spec.metrics,
        out,
        settings,
        holdout_set=holdout_set,
        tokenizer=tokenizer,
        resume=resume,
        progress=progress,
        description=f"finetune {task.spec.name}",
        recorded={
            "model": _source(model_path),
            "train": _train_record(task),
            "max_length": length,
            "labels": task.spec.labels,
        },
    )
    return _final_report(task, out, length, None, train_set, holdout_set, settings)


def teacher_folder(task: TaskData) -> Path:
    """Where a task's teacher is made and looked for by default."""
    return Path("runs") / "teacher" / task.spec.name


def ensure_teacher(task: TaskData, settings: TrainSettings | None = None, *, progress: bool = True) -> Path:
    """The default teacher of a task, runs/teacher/TASK: fine-tuned first from the default encoder on
    the task's original (not augmented) rows when no finished one is there, with `settings` (None:
    finetune's own defaults; never the student's budget); an interrupted fine-tune is resumed. Either
    way its dev figures are logged, so that a weak teacher shows before a student is distilled from it."""
    teacher = teacher_folder(task)
    if not (teacher / "report.json").is_file():  # written last: the fine-tune finished
        settings = settings or TrainSettings()
        unfinished = (teacher / "checkpoint").is_dir()
        encoder = base_encoder()
        log.info(
            f"no finished teacher at {teacher}: {'resuming its fine-tune' if unfinished else 'fine-tuning'} "
            f"{encoder} on {task.original_train_path} first, {settings.epochs or LOOP_EPOCHS:g} epochs at lr "
            f"{settings.lr or LOOP_LR:g} (finetune's defaults unless --teacher-epochs/--teacher-lr; pass "
            "--teacher to use your own)"
        )
        finetune(
            replace(task, train_path=task.original_train_path),
            encoder,
            teacher,
            settings,
            resume=unfinished,
            progress=progress,
        )
    made_on = json.loads((teacher / "settings.json").read_text())["run"]["train"]
    if made_on["sha256"] != content_digest(task.original_train_path):
        raise InputError(
            f"{teacher} was fine-tuned on {made_on['path']}, whose content differs from "
            f"{task.original_train_path}: it is no teacher for this data. Pass --teacher FOLDER, or move "
            f"{teacher} away to have one fine-tuned on this data"
        )
    report = json.loads((teacher / "report.json").read_text())
    (model,) = report["models"].values()
    figures = ", ".join(f"{name} {value:.4f}" for name, value in dev_metrics(model).items())
    log.info(f"teacher: {teacher} (dev {figures})")
    return teacher


def distill(
    task: TaskData,
    teacher_path: str | Path | None,
    out: str | Path | None,
    settings: TrainSettings,
    recipe: DistillSettings = DistillSettings(),
    *,
    teacher_settings: TrainSettings | None = None,
    max_length: int | None = None,
    resume: bool = False,
    progress: bool = True,
    with_frontier: bool = False,
) -> dict:
    """Distil the teacher (None: the task's default teacher, fine-tuned first when absent with
    `teacher_settings`, see `ensure_teacher`) into a student with the recipe's method, in `out` (None:
    runs/student/TASK-METHOD); returns the report (`with_frontier`: the student in every runtime and
    precision too)."""
    recipe = recipe.checked()
    if teacher_path and teacher_settings:
        raise InputError(
            "--teacher names a finished teacher, so none is fine-tuned: drop --teacher-epochs/--teacher-lr"
        )
    out = Path(out or Path("runs") / "student" / f"{task.spec.name}-{recipe.method}")
    set_seed(settings.seed)  # student, task head and projections are initialised under --seed
    teacher_path = teacher_path or ensure_teacher(task, teacher_settings, progress=progress)
    tokenizer = load_tokenizer(teacher_path, "--teacher")
    teacher = load_teacher(teacher_path, task.scheme)
    recipe = replace(recipe, student=_student_for(recipe.student, recipe.method, teacher.config))
    check_same_tokenizer(tokenizer, recipe.student)
    length = max_length_for(task, max_length)
    train_set, holdout_set, rows = _split_for_selection(task, tokenizer, length, settings)
    filtered = None
    if recipe.filter_teacher:
        train_set, filtered = _filtered_by_teacher(task, teacher, train_set, rows, settings, progress)
    dev_set = task.encode(task.dev_paths[0], tokenizer, length)
    init = recipe.init or default_init(recipe, teacher.config)
    student = build_student(
        recipe.student,
        teacher,
        task.scheme,
        init,
        calibration=train_set,
        teacher_layers=_imitated_layers(recipe, teacher) if init == "teacher-pruned" else None,
    )
    student.config.tinydistill_texts = len(task.spec.text_columns)  # `predict` checks the columns it is given
    recorded = {
        "recipe": asdict(recipe),
        "init": init,
        "teacher": _source(teacher_path),
        "train": _train_record(task),
        "max_length": length,
        "labels": task.spec.labels,
        "student_folder": _source(recipe.student) if Path(recipe.student).is_dir() else None,
        "teacher_filter": filtered,
    }
    sets = (train_set, dev_set, holdout_set)
    run = _Run(student, teacher, tokenizer, *sets, task.spec.metrics, out, settings, resume, progress, recorded)
    {"tinybert": _tinybert, "distilbert": _distilbert, "pkd": _pkd}[recipe.method](run, recipe)
    untrained = recipe.method == "tinybert" and recipe.stage == "intermediate"
    note = UNTRAINED_HEAD if untrained else None
    return _final_report(
        task,
        out,
        length,
        teacher_path,
        train_set,
        holdout_set,
        settings,
        note=note,
        with_frontier=with_frontier,
        teacher_filter=filtered,
    )


@dataclass
class _Run:
    """What every distillation method trains with."""

    student: object
    teacher: object
    tokenizer: object
    train_set: object
    dev_set: object
    holdout_set: object
    metrics: tuple[str, ...]
    out: Path
    settings: TrainSettings
    resume: bool
    progress: bool
    recorded: dict

    def train(self, objective, dev_set, out: Path, settings: TrainSettings, description: str) -> None:
        train(
            self.student,
            objective,
            self.train_set,
            dev_set,
            self.metrics,
            out,
            settings,
            holdout_set=self.holdout_set if dev_set is not None else None,
            teacher=self.teacher,
            tokenizer=self.tokenizer,
            resume=self.resume,
            progress=self.progress,
            description=description,
            recorded=self.recorded,
        )

    @property
    def layers(self) -> tuple[int, int]:
        return self.student.config.num_hidden_layers, self.teacher.config.num_hidden_layers


def _tinybert(run: _Run, recipe: DistillSettings) -> None:
    """Stage 1 (intermediate layers, its own epochs and lr under --stage both) then stage 2 (prediction)."""
    if recipe.stage not in ("intermediate", "prediction", "both"):
        raise InputError(f"--stage must be intermediate, prediction or both, got {recipe.stage!r}")
    temperature = recipe.temperature or TEMPERATURES["tinybert"]
    if recipe.stage in ("intermediate", "both"):
        chosen = _announced_map(layer_maps.resolve(recipe.layer_map, *run.layers), recipe.layer_map, run.recorded)
        objective = _intermediate_objective(run.student, run.teacher, chosen)
        own = run.settings
        if recipe.stage == "both":  # --epochs and --lr are stage 2's; explicit stage-1 epochs are not capped
            uncapped = recipe.intermediate_epochs is not None
            own = replace(run.settings, epochs=None, lr=None, max_steps=None if uncapped else own.max_steps)
        run.train(
            objective,
            None,
            run.out / "intermediate" if recipe.stage == "both" else run.out,
            _with_defaults(own, recipe.intermediate_epochs or INTERMEDIATE_EPOCHS, recipe.intermediate_lr),
            "tinybert stage 1 (intermediate layers)",
        )
    if recipe.stage in ("prediction", "both"):
        run.train(
            TinyBertPrediction(temperature),
            run.dev_set,
            run.out,
            _with_defaults(run.settings, PREDICTION_EPOCHS, PREDICTION_LR),
            "tinybert stage 2 (prediction)",
        )


def _distilbert(run: _Run, recipe: DistillSettings) -> None:
    if recipe.layer_map:
        raise InputError(
            "--layer-map does not apply to --method distilbert (its cosine loss reads the last hidden states only)"
        )
    _same_width(run.student, run.teacher, "distilbert")
    objective = DistilBert(
        recipe.alpha_ce, recipe.alpha_task, recipe.alpha_cos, recipe.temperature or TEMPERATURES["distilbert"]
    )
    run.train(objective, run.dev_set, run.out, run.settings, "distilbert")


def _pkd(run: _Run, recipe: DistillSettings) -> None:
    _same_width(run.student, run.teacher, "pkd")
    if recipe.pkd_strategy not in layer_maps.PKD_MAPS:
        raise InputError(f"--pkd-strategy must be skip or last, got {recipe.pkd_strategy!r}")
    if run.layers[0] < 2 and not recipe.layer_map:
        raise InputError(
            "--method pkd needs a student of at least 2 layers: its patient loss matches "
            "student layers 1..M-1 (the top one is left to the KD loss)"
        )
    chosen = layer_maps.resolve(recipe.layer_map, *run.layers, default=layer_maps.PKD_MAPS[recipe.pkd_strategy])
    _announced_map(chosen, recipe.layer_map, run.recorded)
    objective = PatientKD(chosen, recipe.pkd_alpha, recipe.pkd_beta, recipe.temperature or TEMPERATURES["pkd"])
    run.train(objective, run.dev_set, run.out, run.settings, f"pkd-{recipe.pkd_strategy}")


def general_distill(
    teacher_path: str | Path,
    corpus_path: str | Path,
    out: str | Path | None,
    settings: TrainSettings,
    *,
    student: str = "auto",
    layer_map: str | None = None,
    max_length: int | None = None,
    init: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict:
    """TinyBERT general distillation: the intermediate-layer objective on plain text, from a pretrained
    (not fine-tuned) encoder. The student is saved as an encoder folder that `distill --student` takes.
    By default it starts as the teacher pruned to the student's shape (measured on corpus lines). `out`
    defaults to runs/general; `student` to what "auto" means for TinyBERT (`resolve_student`); `max_length` to 128."""
    out = Path(out or Path("runs") / "general")
    max_length, init = max_length or 128, init or "teacher-pruned"
    set_seed(settings.seed)
    tokenizer = load_tokenizer(teacher_path, "--teacher")
    teacher = load_encoder(teacher_path)
    AttentionScores(teacher)  # refuses encoders whose attention scores cannot be tapped
    student = _student_for(student, "tinybert", teacher.config)
    check_same_tokenizer(tokenizer, student)
    with PartialState().main_process_first():  # one process tokenises; the others read its cache
        corpus = load_corpus(corpus_path, tokenizer, max_length)
    imitated = _imitated_layers(DistillSettings(student=student, layer_map=layer_map), teacher)
    model = build_student(
        student, teacher, None, init, calibration=corpus, teacher_layers=imitated if init == "teacher-pruned" else None
    )
    recorded = {
        "teacher": _source(teacher_path),
        "corpus": _source(corpus_path),
        "student": student,
        "layer_map": layer_map,
        "max_length": max_length,
        "init": init,
    }
    chosen = layer_maps.resolve(layer_map, model.config.num_hidden_layers, teacher.config.num_hidden_layers)
    result = train(
        model,
        _intermediate_objective(model, teacher, _announced_map(chosen, layer_map, recorded)),
        corpus,
        None,
        (),
        out,
        settings,
        teacher=teacher,
        tokenizer=tokenizer,
        resume=resume,
        progress=progress,
        description="general distillation",
        recorded=recorded,
    )
    return _general_report(out, len(corpus), result.steps, model, teacher)


def _general_report(out: Path, lines: int, steps: int, student, teacher) -> dict:
    """general_report.json: corpus lines, steps, sizes, and the mean loss of the first and last logged
    intervals, with how many there were (main process only)."""
    if not PartialState().is_main_process:
        return {}
    losses = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").open() if line.strip()]
    summary = {
        "run": str(out),
        "corpus_lines": lines,
        "steps": steps,
        "student_parameters": student.num_parameters(),
        "teacher_parameters": teacher.num_parameters(),
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "loss_records": len(losses),
    }
    (out / "general_report.json").write_text(json.dumps(summary, indent=2))
    return summary


def _source(path: str | Path) -> dict:
    """A file or model folder as a run records it: where it was, and a digest of its content."""
    return {"path": str(path), "sha256": content_digest(path)}


def _train_record(task: TaskData) -> dict:
    """The training file by content; for augment's output also its manifest (how it was made)."""
    record = _source(task.train_path)
    manifest = manifest_path(task.train_path)
    if task.train_path != task.original_train_path and manifest.is_file():
        record["manifest"] = _source(manifest)
    return record


def _student_for(student: str, method: str, teacher_config) -> str:
    """`student` with "auto" resolved to a shape, said when it was auto."""
    shape = resolve_student(student, method, teacher_config)
    if shape != student:
        teacher = f"{teacher_config.num_hidden_layers}L-{teacher_config.hidden_size}"
        log.info(f"student: {shape} (--student auto for {method} from a {teacher} teacher)")
    return shape


def default_init(recipe: DistillSettings, teacher_config) -> str:
    """DistilBERT and PKD as published (alternate / lowest teacher layers); TinyBERT from the pruned
    teacher unless the student is wider than the teacher (then random, as published)."""
    if recipe.method != "tinybert":
        return {"distilbert": "teacher-alternate", "pkd": "teacher-lowest"}[recipe.method]
    shape = parse_shape(recipe.student)
    return "random" if shape and shape[1] > teacher_config.hidden_size else "teacher-pruned"


def _imitated_layers(recipe: DistillSettings, teacher) -> list[int] | None:
    """The teacher layers (0-based) that a TinyBERT student's layers will imitate under its layer map:
    a pruned student starts from exactly those (half the initial attention loss of evenly spaced ones)."""
    shape = parse_shape(recipe.student)
    if recipe.method != "tinybert" or shape is None:
        return None
    return [t - 1 for _, t in layer_maps.resolve(recipe.layer_map, shape[0], teacher.config.num_hidden_layers)]


def _intermediate_objective(student, teacher, chosen: layer_maps.LayerMap) -> TinyBertIntermediate:
    """TinyBERT's layer-wise objective; a pruned student's projections start as its channel selection."""
    channels = getattr(student.config, "pruned_hidden_channels", None)
    return TinyBertIntermediate(chosen, student.config.hidden_size, teacher.config.hidden_size, channels)


def _announced_map(chosen: layer_maps.LayerMap, given: str | None, recorded: dict) -> layer_maps.LayerMap:
    """Say which teacher layer each student layer learns from, and record it in the run's settings."""
    pairs = ", ".join(f"{s}->{t}" for s, t in chosen)
    log.info(f"layer map (student -> teacher layer): {pairs}" + ("" if given else " (default, evenly spaced)"))
    recorded["layer_map_resolved"] = [list(pair) for pair in chosen]
    return chosen


def _same_width(student, teacher, method: str) -> None:
    if student.config.hidden_size != teacher.config.hidden_size:
        raise InputError(
            f"--method {method} compares student and teacher states directly, so the student needs "
            f"the teacher's width {teacher.config.hidden_size} (got {student.config.hidden_size}); "
            f"use e.g. --student {max(1, teacher.config.num_hidden_layers // 2)}L-"
            f"{teacher.config.hidden_size}, or --method tinybert for a narrower student"
        )


def evaluate_model(
    task: TaskData,
    model_path: str | Path,
    *,
    max_length: int | None = None,
    batch_size: int = EVAL_BATCH_SIZE,
    device: str = "auto",
    with_frontier: bool = False,
) -> dict:
    """Dev metrics on every dev file (computed on `device`; auto = CUDA when present), parameters, disk
    size and CPU speed of a saved model: a Hugging Face folder, or one made by `export` (ONNX Runtime).
    `with_frontier` adds the same model in every runtime and precision (see `frontier`)."""
    if with_frontier and is_exported(model_path):
        raise InputError(f"{model_path}: --frontier measures a Hugging Face folder; give the one it was exported from")
    device = "cpu" if is_exported(model_path) else resolve_device(device)  # ONNX Runtime runs on the CPU
    tokenizer = load_tokenizer(model_path)
    model = load_classifier(model_path, task.scheme)
    length = max_length_for(task, max_length)
    result = {
        "model": str(model_path),
        "positive_label": task.positive_label,
        "shape": f"{model.config.num_hidden_layers}L-{model.config.hidden_size}",
        "parameters": model.num_parameters(),
        "disk_mb": weights_mb(model_path),
    }
    rows, devs = {}, []
    for path in task.dev_paths:
        dev = task.encode(path, tokenizer, length)
        devs.append(dev)
        result[path.stem] = evaluate(model.to(device), dev, task.spec.metrics, batch_size=batch_size, device=device)
        rows[path.stem] = {"scored": len(dev), "skipped_lines": list(dev.skipped_lines)}
        log.info(f"{path}: scored on {len(dev)} of {len(dev) + len(dev.skipped_lines)} rows")
    result["rows"], result["cpu"] = rows, cpu_speed(model, dev)
    if with_frontier:  # on the first dev file, as every report figure (MNLI: matched)
        result["frontier"] = frontier(model_path, devs[0], task.spec.metrics, task.scheme)
    return result


HOLDOUT_SEED = 0  # the held-out slice does not follow --seed: runs of several seeds choose on the same examples


def _split_for_selection(task: TaskData, tokenizer, length: int, settings: TrainSettings):
    """The training examples, and with select="holdout" the held-out slice of the original training
    examples that chooses the checkpoint (their augmented copies are left out of training too), and the
    rows of the training file kept. The slice is the same for every seed and every run on the same
    file, so a teacher and its students, or seeds of one recipe, are chosen on the same examples."""
    train_set = task.encode(task.train_path, tokenizer, length)
    if settings.select != "holdout":
        return train_set, None, range(len(train_set))
    rows, held = task.holdout_split(settings.holdout, HOLDOUT_SEED)
    same = task.train_path == task.original_train_path
    original = train_set if same else task.encode(task.original_train_path, tokenizer, length)
    log.info(
        f"held out {len(held):,} of {len(original):,} training examples (with their augmented copies: "
        f"{len(train_set) - len(rows):,} rows) to choose the checkpoint on"
    )
    return train_set.subset(rows), original.subset(held), rows


def _filtered_by_teacher(task: TaskData, teacher, train_set, rows, settings: TrainSettings, progress: bool):
    """The training rows without the augmented copies that the teacher classes otherwise than their
    original example (see `filtering`), and what was dropped, for the run's record and report.
    `rows` are the rows of the training file that `train_set` holds."""
    if task.train_path == task.original_train_path:
        raise InputError("--filter-teacher drops augmented copies: train on augmented data (--aug) or drop it")
    if task.scheme.num_outputs == 1:
        raise InputError("--filter-teacher compares classes; a regression task has none: drop it")
    example_of, _ = task.example_of_each_row()
    owners = [example_of[row] for row in rows]
    device = resolve_device(settings.device)
    precision = resolve_precision(settings.precision, device)
    kept, facts = teacher_agreeing_rows(
        teacher, train_set, owners, device=device, precision=precision, progress=progress
    )
    log.info(
        f"--filter-teacher: dropped {facts['dropped']:,} of {facts['copies']:,} augmented copies "
        f"({facts['dropped_share']:.1%}) that the teacher classes otherwise than their original ({precision})"
    )
    return train_set.subset(kept), facts


def _selection(out: Path, settings: TrainSettings, holdout_set) -> dict:
    """Which checkpoint the run kept and how, with the last evaluation beside it (from metrics.jsonl)."""
    records = [json.loads(line) for line in (out / "metrics.jsonl").open() if line.strip()]
    kept = [r for r in records if r.get("kept", True)][-1]
    last = records[-1]
    return {
        "on": settings.select,
        "rule": SELECTIONS[settings.select],
        "holdout_examples": len(holdout_set) if holdout_set is not None else None,
        "kept_step": kept["step"],
        "kept_holdout": kept.get("holdout"),
        "last_step": last["step"],
        "last_dev": last.get("dev"),
        "evaluations": len(records),
    }


def _final_report(
    task: TaskData,
    out: Path,
    length: int,
    teacher_path,
    train_set,
    holdout_set,
    settings,
    note=None,
    with_frontier: bool = False,
    teacher_filter: dict | None = None,
) -> dict:
    """Evaluate and write the report (main process only: one set of files, undisturbed timings); it
    names the data the model was trained on and how its checkpoint was chosen."""
    if not PartialState().is_main_process:
        return {}
    models = {
        "student" if teacher_path else "model": evaluate_model(
            task, out, max_length=length, with_frontier=with_frontier
        )
    }
    if teacher_path:
        models["teacher"] = evaluate_model(task, teacher_path, max_length=length)
    data = {
        "positive_label": task.positive_label,
        "note": note,
        "train": str(task.train_path),
        "train_examples": len(train_set),
        "teacher_filter": teacher_filter,
        "dev": [str(path) for path in task.dev_paths],
    }
    return write_report(out, task.spec.name, task.spec.metrics, models, data, _selection(out, settings, holdout_set))
