"""General distillation (TinyBERT's first step): a pretrained, not fine-tuned, encoder taught to a
small student on plain text with the layer-wise objective; no task and no labels. The student is an
encoder folder that `distill --student` starts from."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from accelerate import PartialState

from data.outputs import write_text_atomic
from data.stopping import writing

from ..examples.corpus import load_corpus
from ..methods import single_stage
from ..methods.taps import check_tappable
from ..methods.tinybert import TinyBertIntermediate
from ..models.loading import build_student, check_same_tokenizer, load_encoder, load_tokenizer
from ..runs import FinishedRun, content_or_none, files, source_record
from ..settings import DistillSettings, TrainSettings
from .plan import DistillPlan, plan_distillation
from .template import Job, RunOptions, Stage, run_job

log = logging.getLogger("tinydistill")

GENERAL_MAX_LENGTH = 128


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
    recipe = DistillSettings(student=student, layer_map=layer_map, init=init)
    length = max_length or GENERAL_MAX_LENGTH
    job = GeneralDistillation(out, settings, Path(teacher_path), Path(corpus_path), recipe, length)
    return run_job(job, RunOptions(overwrite, resume, progress, tuple(callbacks)))


@dataclass
class GeneralDistillation(Job):
    """TinyBERT's layer-wise objective on a corpus, from an encoder: one unscored stage."""

    teacher_path: Path
    corpus_path: Path
    recipe: DistillSettings
    max_length: int
    command = "distill --general"
    finished_file = files.GENERAL_REPORT

    def request(self) -> dict:
        recipe = self.recipe
        return {
            "command": self.command,
            "teacher": content_or_none(self.teacher_path),
            "corpus": content_or_none(self.corpus_path),
            "settings": asdict(self.settings),
            "shape": {"student": recipe.student, "layer_map": recipe.layer_map, "init": recipe.init},
            "max_length": self.max_length,
        }

    def stages(self, placement, options) -> list[Stage]:
        tokenizer = load_tokenizer(self.teacher_path, "--teacher")
        teacher = load_encoder(self.teacher_path)
        check_tappable(teacher, TinyBertIntermediate.needs)
        plan = general_plan(self.recipe, self.settings, teacher.config)
        log.info(plan.describe())
        check_same_tokenizer(tokenizer, plan.student)
        with PartialState().main_process_first():  # one process tokenises; the others read its cache
            corpus = load_corpus(self.corpus_path, tokenizer, self.max_length)
        student = build_student(
            plan.student, teacher, None, plan.init, calibration=corpus, teacher_layers=plan.imitated_layers
        )
        recorded = {
            "teacher": source_record(self.teacher_path),
            "corpus": source_record(self.corpus_path),
            "max_length": self.max_length,
            "plan": plan.record(),
        }
        (planned,) = plan.stages
        objective = TinyBertIntermediate.between(student, teacher, plan.layer_map)
        stage = Stage(
            planned.description, student, objective, corpus, self.out, planned.settings(self.settings), recorded
        )
        stage.teacher, stage.tokenizer = teacher, tokenizer
        return [stage]

    def report(self, stages, results) -> dict:
        (stage,), (result,) = stages, results
        return _general_report(self.out, len(stage.train_set), result.steps, stage.model, stage.teacher)


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
    losses = [record["loss"] for record in FinishedRun(out).history()]
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
    with writing(out / files.GENERAL_REPORT, "the run's report"):
        write_text_atomic(out / files.GENERAL_REPORT, json.dumps(summary, indent=2))
    return summary
