"""The training checkpoint: written beside the old one and swapped in (a kill never leaves a mixed
checkpoint), and read back on resume only when the run's settings are the ones it was made with."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from data import InputError
from data.outputs import differences

from ..runs import files


def resume_or_start(accelerator, out: Path, settings: dict, *, resume: bool) -> dict | None:
    """On resume, load the newest complete checkpoint into `accelerator` and return its loop state;
    otherwise (or with no checkpoint yet) start the run folder afresh and return None."""
    checkpoint = out / files.CHECKPOINT
    if resume and not (checkpoint / files.CHECKPOINT_STATE).is_file():
        checkpoint = out / f"{files.CHECKPOINT}.old"  # a kill came between the two renames of `save`
    if resume and (checkpoint / files.CHECKPOINT_STATE).is_file():
        saved = json.loads((out / files.SETTINGS).read_text())
        if saved != settings:
            raise InputError(
                f"{out}: --resume needs the settings of the interrupted run ({out / files.SETTINGS}); these "
                f"differ in {', '.join(differences(saved, settings))}. Drop --resume to start over, or repeat "
                "the original flags and inputs"
            )
        accelerator.load_state(str(checkpoint))
        state = json.loads((checkpoint / files.CHECKPOINT_STATE).read_text())
        if accelerator.is_main_process:
            _forget_after(out / files.HISTORY, state["step"])
        return state
    if accelerator.is_main_process:  # a fresh run: an older run's checkpoint must not be resumed later
        for name in (files.CHECKPOINT, f"{files.CHECKPOINT}.old", f"{files.CHECKPOINT}.new"):
            shutil.rmtree(out / name, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / files.HISTORY).write_text("")
        (out / files.SETTINGS).write_text(json.dumps(settings, indent=2))
    return None


def _forget_after(metrics: Path, step: int) -> None:
    """Drop the records of evaluations after the checkpoint's step: a kill can land between an
    evaluation's record and its checkpoint, and the resumed run evaluates that step again."""
    if metrics.is_file():
        lines = metrics.read_text().splitlines(keepends=True)
        # a line cut short by the kill ends without its newline; the run writes that record again
        kept = [line for line in lines if line.endswith("\n") and json.loads(line)["step"] <= step]
        metrics.write_text("".join(kept))


def save(accelerator, checkpoint: Path, state: dict) -> None:
    """Write the new checkpoint beside the old one, then swap: a kill never leaves a mixed checkpoint."""
    fresh = checkpoint.with_name(checkpoint.name + ".new")
    accelerator.wait_for_everyone()
    try:
        accelerator.save_state(str(fresh))
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)  # a full disk: give back its room; the old checkpoint stands
        raise
    accelerator.wait_for_everyone()  # every process's random states are in `fresh` before it is renamed
    if accelerator.is_main_process:
        (fresh / files.CHECKPOINT_STATE).write_text(json.dumps(state))
        old = checkpoint.with_name(checkpoint.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if checkpoint.exists():
            os.replace(checkpoint, old)
        os.replace(fresh, checkpoint)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
