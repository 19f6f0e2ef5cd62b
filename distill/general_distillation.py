"""General distillation (TinyBERT's first step): a pretrained, not fine-tuned, encoder taught to a
small student on plain text with the layer-wise objective; no task and no labels. The student is an
encoder folder that `distill --student` starts from."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from accelerate import PartialState
from accelerate.utils import set_seed

from data.outputs import write_text_atomic
from data.stopping import writing

from .corpus import load_corpus
from .methods import single_stage
from .methods.tinybert import TinyBertIntermediate
from .models import build_student, check_same_tokenizer, load_encoder, load_tokenizer
from .plan import DistillPlan, DistillSettings, plan_distillation
from .run_folder import RunFolder
from .run_record import content_or_none, source_record
from .taps import check_tappable
from .trainer import TrainSettings, train

log = logging.getLogger("tinydistill")

GENERAL_MAX_LENGTH = 128
REPORT_FILE = "general_report.json"  # written last: the run finished


def general_distill(
    teacher_path: str | Path,
    corpus_path: str | Path,
    out: str | Path | None,
    settings: TrainSettings,
    *,
    student: str = "auto",
    layer_map: str | None = None,
    max_length: int | None = None,
    init: str = "auto",
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    callbacks=(),
) -> dict:
    """The layer-wise objective on the lines of `corpus_path`, from the encoder in `teacher_path`. By
    default the student is what "auto" means for TinyBERT, starting as the teacher pruned to its shape
    (measured on corpus lines); `out` defaults to runs/general, `max_length` to 128."""
    out = Path(out or Path("runs") / "general")
    max_length = max_length or GENERAL_MAX_LENGTH
    recipe = DistillSettings(student=student, layer_map=layer_map, init=init)
    request = {
        "command": "distill --general",
        "teacher": content_or_none(teacher_path),
        "corpus": content_or_none(corpus_path),
        "settings": asdict(settings),
        "shape": {"student": student, "layer_map": layer_map, "init": init},
        "max_length": max_length,
    }
    with RunFolder(out, "distill --general", overwrite, finished_file=REPORT_FILE) as folder:
        finished = folder.finished_as(request)  # before any model loads: a rerun is free
        if finished is not None:
            return finished
        set_seed(settings.seed)
        run = _GeneralRun.prepared(teacher_path, corpus_path, recipe, settings, max_length)
        recorded = {
            "teacher": source_record(teacher_path),
            "corpus": source_record(corpus_path),
            "max_length": max_length,
            "plan": run.plan.record(),
        }
        (stage,) = run.plan.stages
        folder.begin(request)
        result = train(
            run.student,
            TinyBertIntermediate.between(run.student, run.teacher, run.plan.layer_map),
            run.corpus,
            None,
            (),
            out,
            stage.settings(settings),
            teacher=run.teacher,
            tokenizer=run.tokenizer,
            resume=resume,
            progress=progress,
            description=stage.description,
            recorded=recorded,
            callbacks=callbacks,
        )
        return _general_report(out, len(run.corpus), result.steps, run.student, run.teacher)


@dataclass
class _GeneralRun:
    """What a general distillation trains with: the teacher and its tokenizer, the plan, the tokenised corpus
    and the student built for the plan (pruned from the teacher, measured on corpus lines)."""

    tokenizer: object
    teacher: object
    plan: DistillPlan
    corpus: object
    student: object

    @classmethod
    def prepared(cls, teacher_path, corpus_path, recipe: DistillSettings, settings: TrainSettings, max_length: int):
        tokenizer = load_tokenizer(teacher_path, "--teacher")
        teacher = load_encoder(teacher_path)
        check_tappable(teacher, TinyBertIntermediate.needs)
        plan = general_plan(recipe, settings, teacher.config)
        log.info(plan.describe())
        check_same_tokenizer(tokenizer, plan.student)
        with PartialState().main_process_first():  # one process tokenises; the others read its cache
            corpus = load_corpus(corpus_path, tokenizer, max_length)
        student = build_student(
            plan.student, teacher, None, plan.init, calibration=corpus, teacher_layers=plan.imitated_layers
        )
        return cls(tokenizer, teacher, plan, corpus, student)


def general_plan(recipe: DistillSettings, settings: TrainSettings, teacher_config) -> DistillPlan:
    """TinyBERT's plan for the student (shape, start, layer map) with one unscored stage on the corpus
    at the run's own budget (the training loop's defaults, not TinyBERT's task-stage ones)."""
    plan = plan_distillation(replace(recipe, options={"stage": "intermediate"}), settings, teacher_config)
    stages = single_stage("general", settings, description="general distillation", scored=False)
    return replace(plan, stages=tuple(stages))


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
    with writing(out / REPORT_FILE, "the run's report"):
        write_text_atomic(out / REPORT_FILE, json.dumps(summary, indent=2))
    return summary
