"""Reading a run folder back: what a study, a demo or a test needs of a finished run (its report,
settings, history, kept figures, shape, training time), and of a folder `export` made from one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from ..models.shapes import shape_name
from . import files


def read_json(path: Path) -> dict:
    """A JSON file's content; {} when it is not there (a study's state before its first save)."""
    return json.loads(Path(path).read_text()) if Path(path).is_file() else {}


@dataclass(frozen=True)
class FinishedRun:
    """A run folder (or an exported folder) by path; each figure is read when asked for."""

    folder: Path

    def __post_init__(self):
        object.__setattr__(self, "folder", Path(self.folder))

    @property
    def finished(self) -> bool:
        return (self.folder / files.REPORT).is_file()

    @property
    def general_finished(self) -> bool:
        return (self.folder / files.GENERAL_REPORT).is_file()

    @property
    def exported(self) -> bool:
        return (self.folder / files.EXPORT_RECORD).is_file()

    def report(self) -> dict:
        return json.loads((self.folder / files.REPORT).read_text())

    def settings(self) -> dict:
        return json.loads((self.folder / files.SETTINGS).read_text())

    def request(self) -> dict:
        return read_json(self.folder / files.REQUEST)

    def export_record(self) -> dict:
        return json.loads((self.folder / files.EXPORT_RECORD).read_text())

    def history(self) -> list[dict]:
        """Every evaluation's record, in order."""
        path = self.folder / files.HISTORY
        return [json.loads(line) for line in path.open() if line.strip()] if path.is_file() else []

    def checkpoint_state(self) -> dict | None:
        """The kept checkpoint's loop state (step, epoch, best metric, seconds), or None."""
        path = self.folder / files.CHECKPOINT / files.CHECKPOINT_STATE
        return json.loads(path.read_text()) if path.is_file() else None

    def training_seconds(self) -> float:
        """The training time checkpointed in this folder, every stage and every interrupted part counted
        once (work a kill threw away after its last checkpoint is not): a resumed run's whole cost."""
        states = self.folder.glob(f"**/{files.CHECKPOINT}/{files.CHECKPOINT_STATE}")
        return sum(json.loads(path.read_text()).get("seconds", 0.0) for path in states)

    def held_out(self) -> dict:
        """The kept checkpoint's figures on the held-out slice (what chose it)."""
        return self.report()["selection"]["kept_holdout"]

    def dev(self) -> dict:
        """Dev figures: an exported folder's own (as `export` measured the shipped graph), else the
        report's for the trained model."""
        if self.exported:
            return self.export_record()["dev"]["onnx"]
        models = self.report()["models"]
        return next(model for role, model in models.items() if role != "teacher")["dev"]

    def shape(self) -> str:
        """Layers and width ("4L-312") from the folder's config; "static-256" for a static model."""
        return shape_name(SimpleNamespace(**json.loads((self.folder / "config.json").read_text())))
